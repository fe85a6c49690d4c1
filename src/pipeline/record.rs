//! Step 7 of the pipeline: the result written where people and agents read it — the
//! results.tsv row, the `### Result` block under the hypothesis, and recurring failures in
//! docs/constraints.md. Journal events are written by the caller, first.
//!
//! The journal and the two files cannot change in one step, so a marker
//! (`.dfh/recording.json`) is written before the `decided` event and removed once both files
//! are written: a dfh killed (or a disk that filled) in between leaves the marker, and the
//! next command completes the record from the journal (`recovery::complete_record`).

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::crash::Diagnosis;
use crate::decide::round;
use crate::hypothesis;
use crate::journal::{Outcome, State};
use crate::method::planning::write_hypotheses_parts;
use crate::project::{paths, Project};
use crate::results;

pub struct Record<'a> {
    pub experiment: u32,
    pub title: &'a str,
    pub direction: &'a str,
    pub commit: &'a str,
    pub outcome: Outcome,
    pub value: Option<f64>,
    pub best_before: Option<f64>,
    pub seconds: f64,
    pub memory_gb: Option<f64>,
    pub metrics: Option<&'a str>,
    pub flags: &'a [String],
    pub diagnosis: Option<&'a Diagnosis>,
    /// True when this is the experiment's final result (not a first crash awaiting a retry).
    pub last: bool,
    pub abandoned: bool,
}

/// The marker of a record in progress, relative to the project root.
pub const MARKER: &str = ".dfh/recording.json";

/// Which decision is being recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recording {
    pub experiment: u32,
    pub commit: String,
}

/// Writes the marker, before the journal's `decided`.
pub fn begin(project: &Project, recording: &Recording) -> Result<()> {
    let path = project.path(MARKER);
    let text = serde_json::to_vec(recording)?;
    let mut file =
        std::fs::File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
    crate::env::write_all(&mut file, &path, &text)
        .and_then(|()| file.sync_data())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// The marker left by an earlier dfh, if any.
pub fn pending(project: &Project) -> Option<Recording> {
    let text = std::fs::read(project.path(MARKER)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// Removes the marker once results.tsv and docs/hypotheses.md are written.
pub fn end(project: &Project) -> Result<()> {
    match std::fs::remove_file(project.path(MARKER)) {
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            Err(error).with_context(|| format!("cannot remove {MARKER}"))
        }
        _ => Ok(()),
    }
}

pub fn results_row(project: &Project, record: &Record<'_>) -> Result<()> {
    results::insert(
        &project.path(paths::RESULTS),
        &project.config.metric.name,
        &results::Row {
            commit: record.commit,
            value: record.value,
            memory_gb: record.memory_gb,
            status: record.outcome.as_str(),
            description: record.title,
            experiment: record.experiment,
            direction: record.direction,
            seconds: Some(record.seconds),
        },
    )
    .context("cannot append to results.tsv")
}

/// The lines of the `### Result` block.
pub fn result_block(project: &Project, record: &Record<'_>) -> String {
    let metric = &project.config.metric.name;
    let value = record.value.map(round).unwrap_or_else(|| "none".into());
    let best = record
        .best_before
        .map(|best| format!(" (previous best: {})", round(best)))
        .unwrap_or_default();
    let mut status = record.outcome.as_str().to_string();
    if record.abandoned {
        status.push_str(" (second failure: abandoned)");
    }
    let mut lines = vec![format!(
        "{metric}: {value}{best} · {status} · {:.0} s",
        record.seconds
    )];
    if let Some(path) = record.metrics {
        let flags = if record.flags.is_empty() {
            String::new()
        } else {
            format!(" — {}", record.flags.join("; "))
        };
        lines.push(format!("Diagnostics: {path}{flags}"));
    }
    if let Some(diagnosis) = record.diagnosis {
        lines.push(format!("Crash: {} — {}", diagnosis.class, diagnosis.cause));
        lines.push(format!("Fix: {}", diagnosis.fix));
    }
    lines.join("\n")
}

/// Appends the Result block under the entry; a missing entry (a hand-deleted one) is a warning.
pub fn hypothesis_result(project: &Project, record: &Record<'_>) -> Result<Option<String>> {
    if !record.last {
        return Ok(None);
    }
    let path = project.path(paths::HYPOTHESES);
    let block = result_block(project, record);
    // The agent may edit the file while dfh writes it: dfh re-reads it just before replacing
    // it and starts over when it changed, so the agent's edit is never overwritten.
    for _ in 0..5 {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let appended = crate::method::planning::edit_entry_tail(&text, record.experiment, |text| {
            hypothesis::append_result(text, record.experiment, &block)
        });
        let (kept, tail) = match appended {
            Ok(updated) => updated,
            Err(error) => return Ok(Some(format!("docs/hypotheses.md not updated: {error}"))),
        };
        if unchanged(&path, text.as_bytes()) {
            write_hypotheses_parts(project, &[&text[..kept], &tail])?;
            return Ok(None);
        }
    }
    Ok(Some(
        "docs/hypotheses.md not updated: it kept changing while dfh wrote the result".into(),
    ))
}

/// True when the file at `path` still holds `expected` (a missing file holds nothing); read
/// in small pieces, as the file may be long.
fn unchanged(path: &std::path::Path, expected: &[u8]) -> bool {
    use std::io::Read;
    let Ok(mut file) = std::fs::File::open(path) else {
        return expected.is_empty();
    };
    let mut buffer = vec![0; 64 * 1024];
    let mut rest = expected;
    loop {
        match file.read(&mut buffer) {
            Ok(0) => return rest.is_empty(),
            Ok(count) => match rest.strip_prefix(&buffer[..count]) {
                Some(remaining) => rest = remaining,
                None => return false,
            },
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return false,
        }
    }
}

/// A crash class seen three times or more is appended to docs/constraints.md, once.
pub fn recurring_failure(
    project: &Project,
    state: &State,
    diagnosis: &Diagnosis,
    experiment: u32,
) -> Result<Option<String>> {
    if diagnosis.class == crate::crash::UNCLASSIFIED {
        return Ok(None);
    }
    let mut numbers: Vec<u32> = state
        .experiments
        .values()
        .filter(|earlier| earlier.crash_class.as_deref() == Some(diagnosis.class.as_str()))
        .map(|earlier| earlier.number)
        .filter(|number| *number != experiment)
        .collect();
    numbers.push(experiment);
    if numbers.len() < 3 {
        return Ok(None);
    }
    let path = project.path(paths::CONSTRAINTS);
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let marker = format!("- `{}`", diagnosis.class);
    if existing.lines().any(|line| line.starts_with(&marker)) {
        return Ok(None);
    }
    let list: Vec<String> = numbers.iter().map(|number| format!("#{number}")).collect();
    let line = format!(
        "{marker} recurred {} times ({}): {}\n",
        numbers.len(),
        list.join(", "),
        diagnosis.fix.replace('\n', " ")
    );
    let mut text = existing;
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(&line);
    std::fs::write(&path, text).with_context(|| format!("cannot append to {}", path.display()))?;
    Ok(Some(format!(
        "crash class {} recurred {} times: noted in docs/constraints.md",
        diagnosis.class,
        numbers.len()
    )))
}
