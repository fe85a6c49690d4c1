//! dfh's integration tests: one binary, real git repositories, real python3 children.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken expectation"
)]

mod import;
mod init;
mod recovery;
mod report;
mod run;
mod support;
