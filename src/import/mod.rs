//! Importing an existing results.tsv (written by an autoresearch-style loop) as experiments
//! 1..n, so that `dfh init` in a project that already ran a loop loses no history.
//!
//! Real logs stray far from autoresearch's `commit <metric> memory_gb status description`:
//! columns are found by name, statuses by their many spellings, crash sentinels read as no
//! value, and every line that cannot be read is reported with its number and a reason.
//!
//! Decisions worth knowing:
//! - `nan` is a value (a diverged run, `Some(NaN)`) unless the row is a crash or timeout, where
//!   it, like `0`, means the run produced nothing. `0` is also no value on a row whose every
//!   number is zero and whose status is not keep/discard (a divider such as `marker`).
//! - A row without any status (no status column, none opening the description) gets one
//!   inferred, with `status_inferred: true`: crash without a value; else keep when it beats the
//!   best so far by the goal hint, discard when not; `Other("unknown")` when no goal is known.
//! - Without a header the metric is autoresearch's second column when the first holds commit
//!   hashes; otherwise the fractional numeric column nearest before the status column (the
//!   figure that decided the status), else the last one. `metric` may name it by number (`6`).
//! - Blank lines and `#` comments are not rows and are not reported; every other line that is
//!   not imported is in `skipped` or `duplicates`.

mod columns;
mod goal;
mod names;
mod rows;
mod text;
mod values;

#[cfg(test)]
mod import_tests;
#[cfg(test)]
mod no_panic_tests;
#[cfg(test)]
mod real_files_tests;

use serde::Serialize;

/// How to read the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ImportOptions {
    /// The metric column: a header name, or a 1-based column number (`6`, `column6`). Detected
    /// when `None`.
    pub metric: Option<String>,
}

/// A row's outcome, mapped from the many spellings loops write.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ImportedStatus {
    Keep,
    Discard,
    Crash,
    Timeout,
    /// A status with no dfh meaning, kept verbatim (`size_violation`, `marker`, `MATCH`).
    Other(String),
}

/// Whether the metric is better lower or higher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GoalHint {
    Minimize,
    Maximize,
}

/// One experiment read from the file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportedRow {
    /// 1-based line in the file.
    pub line: usize,
    pub commit: Option<String>,
    /// Whether `commit` is a git object name worth resolving (`exp0`, `PENDING` and
    /// `abc1234-dirty` are kept as text but are not).
    pub commit_is_hex: bool,
    /// `None` when the run left no value (empty cell, `N/A`, `-999`, 0 on a crash row).
    pub value: Option<f64>,
    pub memory_gb: Option<f64>,
    pub seconds: Option<f64>,
    pub status: ImportedStatus,
    /// True when the file gave no status for this row and the importer inferred one.
    pub status_inferred: bool,
    pub description: String,
}

/// A line that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SkippedLine {
    pub line: usize,
    pub reason: String,
}

/// Everything the importer read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportReport {
    /// The metric column's name (`column6` in a file without a header).
    pub metric: String,
    /// 1-based column number of the metric.
    pub metric_column: usize,
    /// All column names found (`column1`.. without a header).
    pub columns: Vec<String>,
    pub has_header: bool,
    pub goal_hint: Option<GoalHint>,
    pub rows: Vec<ImportedRow>,
    pub skipped: Vec<SkippedLine>,
    /// Lines that repeat an earlier line exactly; imported once, at the first.
    pub duplicates: Vec<usize>,
}

/// Why nothing could be imported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "the results file has no rows to import{}; it needs a header line and one line per \
         experiment, tab- or comma-separated",
        describe_skipped(skipped)
    )]
    NoRows { skipped: Vec<SkippedLine> },
    #[error(
        "--metric `{requested}` names no column of the results file; columns found: {}. \
         Pass `--metric NAME` with one of them, or a 1-based column number such as `--metric 2`",
        columns.join(", ")
    )]
    UnknownMetric {
        requested: String,
        columns: Vec<String>,
    },
    #[error(
        "cannot tell which column of the results file holds the metric; columns found: {}. \
         Pass `--metric NAME` with one of them, or a 1-based column number such as `--metric 2`",
        columns.join(", ")
    )]
    MetricNotFound { columns: Vec<String> },
}

fn describe_skipped(skipped: &[SkippedLine]) -> String {
    let shown: Vec<String> = skipped
        .iter()
        .take(3)
        .map(|line| format!("line {}: {}", line.line, line.reason))
        .collect();
    if shown.is_empty() {
        String::new()
    } else {
        format!(" ({})", shown.join("; "))
    }
}

/// Reads a results.tsv (or an obviously comma-separated results.csv) into rows, in file order.
pub fn import_results(bytes: &[u8], options: &ImportOptions) -> Result<ImportReport, ImportError> {
    rows::import(bytes, options)
}
