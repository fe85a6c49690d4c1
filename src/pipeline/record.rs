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
    let edit = |text: &str| hypothesis::append_result(text, record.experiment, &block);
    // The agent may edit the file while dfh writes it: dfh checks it just before replacing it
    // and starts over when it changed, so the agent's edit is never overwritten.
    for _ in 0..5 {
        match edit_in_tail(project, &path, record.experiment, &edit)? {
            TailEdit::Written => return Ok(None),
            TailEdit::Changed => {}
            TailEdit::Whole => break,
        }
    }
    for _ in 0..5 {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        let appended = crate::method::planning::edit_entry_tail(&text, record.experiment, edit);
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

/// What `edit_in_tail` did.
enum TailEdit {
    Written,
    /// The file changed while it was read: try again.
    Changed,
    /// The entry is not in the file's last bytes, or the edit needs the whole text.
    Whole,
}

/// The bytes of docs/hypotheses.md read from its end when an entry is edited.
const TAIL: u64 = 64 * 1024;

/// Edits the last entry of experiment `number` when it lies in the file's last `TAIL` bytes,
/// the usual place, reading only those bytes. An edit that adds to the end of the file is
/// appended; any other is written to a new file — the part before the entry copied by the
/// kernel — that replaces the old one by a rename, as a whole write does. At 10,000
/// experiments the file is about 3 MB.
fn edit_in_tail(
    project: &Project,
    path: &std::path::Path,
    number: u32,
    edit: &dyn Fn(&str) -> Result<String, hypothesis::EditError>,
) -> Result<TailEdit> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let Ok(mut file) = std::fs::File::open(path) else {
        return Ok(TailEdit::Whole);
    };
    let before = file.metadata()?;
    let length = before.len();
    if length <= TAIL {
        return Ok(TailEdit::Whole);
    }
    let from = length - TAIL;
    file.seek(SeekFrom::Start(from))?;
    let mut bytes = Vec::with_capacity(TAIL as usize);
    file.read_to_end(&mut bytes)?;
    // From the first whole line on.
    let Some(line) = memchr::memchr(b'\n', &bytes).map(|newline| newline + 1) else {
        return Ok(TailEdit::Whole);
    };
    let Ok(text) = std::str::from_utf8(&bytes[line..]) else {
        return Ok(TailEdit::Whole);
    };
    let Some(start) = crate::method::planning::last_heading(text, number) else {
        return Ok(TailEdit::Whole);
    };
    let Ok(tail) = edit(&text[start..]) else {
        return Ok(TailEdit::Whole);
    };
    // Still the file that was read: same inode, length and modification time.
    let untouched = |file: &std::fs::File| -> std::io::Result<bool> {
        use std::os::unix::fs::MetadataExt;
        let now = std::fs::metadata(path)?;
        let open = file.metadata()?;
        Ok(now.ino() == open.ino()
            && now.len() == length
            && now.modified().ok() == before.modified().ok())
    };
    if let Some(added) = tail.strip_prefix(&text[start..]) {
        // The entry is the end of the file and the edit adds to it: one append, as the journal
        // does, and no copy (replacing a 3 MB file also costs its blocks' release).
        let mut file = std::fs::OpenOptions::new().append(true).open(path)?;
        if !untouched(&file)? {
            return Ok(TailEdit::Changed);
        }
        file.write_all(added.as_bytes())
            .with_context(|| format!("cannot append to {}", path.display()))?;
        return Ok(TailEdit::Written);
    }
    let kept = from + (line + start) as u64;
    let temporary = project.path("docs/.hypotheses.md.dfh-new");
    let written = std::fs::File::create(&temporary).and_then(|mut new| {
        file.seek(SeekFrom::Start(0))?;
        let copied = std::io::copy(&mut (&file).take(kept), &mut new)?;
        if copied != kept {
            return Err(std::io::Error::other(
                "docs/hypotheses.md shrank while it was read",
            ));
        }
        new.write_all(tail.as_bytes())
    });
    if let Err(error) = written {
        let _ = std::fs::remove_file(&temporary);
        return Err(error).with_context(|| format!("cannot write {}", temporary.display()));
    }
    if !untouched(&file)? {
        let _ = std::fs::remove_file(&temporary);
        return Ok(TailEdit::Changed);
    }
    std::fs::rename(&temporary, path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(TailEdit::Written)
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
