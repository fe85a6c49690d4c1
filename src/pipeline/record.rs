//! Step 7 of the pipeline: the result written where people and agents read it — the
//! results.tsv row, the `### Result` block under the hypothesis, and recurring failures in
//! docs/constraints.md. Journal events are written by the caller, first.

use anyhow::{Context, Result};

use crate::crash::Diagnosis;
use crate::decide::round;
use crate::hypothesis;
use crate::journal::{Outcome, State};
use crate::method::planning::write_hypotheses;
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

pub fn results_row(project: &Project, record: &Record<'_>) -> Result<()> {
    results::append(
        &project.path(paths::RESULTS),
        &project.config.metric.name,
        &[results::Row {
            commit: record.commit,
            value: record.value,
            memory_gb: record.memory_gb,
            status: record.outcome.as_str(),
            description: record.title,
            experiment: record.experiment,
            direction: record.direction,
            seconds: Some(record.seconds),
        }],
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
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    match hypothesis::append_result(&text, record.experiment, &result_block(project, record)) {
        Ok(updated) => {
            write_hypotheses(project, &updated)?;
            Ok(None)
        }
        Err(error) => Ok(Some(format!("docs/hypotheses.md not updated: {error}"))),
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
