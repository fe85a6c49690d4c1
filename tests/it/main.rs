//! dfh's integration tests: one binary, real git repositories, real python3 children.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken expectation"
)]

mod agent;
mod brief;
mod crash;
mod diagnostics;
mod distill;
mod driver;
mod faults;
mod faults_io;
mod guard;
mod import;
mod init;
mod lanes;
mod mcp;
mod messages;
mod plan;
mod recovery;
mod report;
mod rigor;
mod run;
mod security;
mod slurm;
mod status;
mod support;
