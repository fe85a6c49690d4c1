//! dfh, the Dark Factory Harness: turns an autonomous hill-climbing loop over a training
//! script into autonomous research — plan before you perturb, eyes on every run, periodic
//! distillation, fail fast and cheap, and a narrative to read in the morning.
//!
//! Layers, each importing only those below it:
//! 1. Face: `commands`, `printer` — arguments in, output out.
//! 2. Loop: `pipeline` — the experiment pipeline of `dfh run`.
//! 3. Method, Safety, Eyes: `checks`, `decide`, `logscan`, `scaffold`.
//! 4. Ground: `journal`, `config`, `vcs`, `executor`, `lock`, `project`, `results`.

pub mod agent;
pub mod brief;
pub mod checks;
pub mod commands;
pub mod config;
pub mod crash;
pub mod decide;
pub mod demo;
pub mod diagnostics;
pub mod distill;
pub mod driver;
pub mod env;
pub mod executor;
pub mod heap;
pub mod hypothesis;
pub mod import;
pub mod journal;
pub mod lanes;
pub mod lock;
pub mod logscan;
pub mod mcp;
pub mod method;
pub mod next;
pub mod pipeline;
pub mod printer;
pub mod project;
pub mod python;
pub mod redact;
pub mod refusal;
pub mod report;
pub mod results;
pub mod scaffold;
pub mod synthetic;
pub mod vcs;

use std::ffi::OsString;
use std::process::ExitCode;

/// Parses arguments, runs the command and maps its result to an exit code:
/// 0 done, 1 failed, 2 usage, 3 refused by a check (the message teaches the fix).
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    heap::prefer_huge_pages();
    commands::main(args)
}
