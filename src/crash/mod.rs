//! The crash advisor ("fail fast, fail cheap"): reads a failed run's log, names the failure
//! class from a pattern database, points at the project's own failing line, and gives one fix.
//!
//! Entry points: [`PatternDb`] (built-in `assets/failures.toml` plus the project's
//! `checks/failures.toml`, compiled once), [`diagnose`] and, for the immune memory, [`learn`].

mod advice;
mod diagnose;
mod learn;
mod location;
mod patterns;
pub mod project;
mod template;
mod traceback;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod held_out_tests;

use std::path::PathBuf;

pub use diagnose::diagnose;
pub use learn::{learn, LearnError};
pub use patterns::{EntryError, EntryProblem, PatternDb, PatternError};
pub use traceback::{ExceptionRecord, Frame, ParsedLog, TracebackParser};

/// The failure classes a pattern may name (those of the crash corpus).
pub const CLASSES: &[&str] = &[
    "oom_gpu",
    "oom_host",
    "shape_mismatch",
    "dtype_mismatch",
    "device_mismatch",
    "nan_inf",
    "cuda_device_assert",
    "index_out_of_range",
    "autograd_inplace",
    "autograd_no_grad",
    "autograd_double_backward",
    "import_error",
    "syntax_error",
    "name_error",
    "type_error_call",
    "state_dict_mismatch",
    "file_not_found",
    "compile_error",
    "distributed_nccl",
    "dataloader_worker",
    "unsupported_kernel",
    "timeout",
    "other",
];

/// The class of a log that no pattern and no exit status explains.
pub const UNCLASSIFIED: &str = "unclassified";

/// How the run ended, as the executor saw it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExitInfo {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    /// dfh's own timeout killed the process group.
    pub timed_out: bool,
}

/// Which files are the project's own, to find the deepest frame worth pointing at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectFiles {
    pub root: Option<PathBuf>,
    /// Project-relative file names (`train.py`, `model/net.py`).
    pub files: Vec<String>,
}

/// A constant of the project's editable files, as the checks module parsed it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnobHint {
    pub name: String,
    pub value: String,
    pub file: String,
    pub line: usize,
}

/// Where in the project's own code the failure surfaced.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub source: String,
}

/// Which database entry decided the class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PatternSource {
    /// `assets/failures.toml`, embedded in dfh.
    Builtin,
    /// The project's `checks/failures.toml`.
    Project,
    /// No pattern matched; the exit status (timeout, a signal) decided.
    ExitStatus,
    /// Nothing decided: the class is `unclassified`.
    None,
}

/// The advisor's answer: one class, the evidence, where, and one fix.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Diagnosis {
    pub class: String,
    /// One line quoting the evidence.
    pub cause: String,
    /// The exception line (or the log line that decided).
    pub evidence: String,
    pub location: Option<Location>,
    /// One suggested fix, naming the project's knobs where it can.
    pub fix: String,
    pub pattern_source: PatternSource,
}
