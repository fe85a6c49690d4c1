//! dfh's integration tests: one binary, real git repositories, real python3 children.

mod import;
mod init;
mod recovery;
mod run;
mod support;
