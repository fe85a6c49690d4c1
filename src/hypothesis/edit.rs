//! The harness's edits of docs/hypotheses.md. They only ever insert lines (a new entry, a
//! `### Result` block, a `Learning:` line, an `Abandoned:` line) and keep every other byte as
//! it was, line endings included: what the agent wrote is never rewritten.

use serde::Serialize;

use super::entry::{Entry, HypothesisLog};
use super::lines::{newline_of, LineIndex};
use super::parse::parse;

/// The fields of `dfh plan --title --hypothesis --expected --inspired-by --risk --direction
/// --again`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NewEntry {
    pub title: String,
    pub hypothesis: String,
    pub expected: String,
    pub inspired_by: String,
    pub risk: Option<String>,
    pub direction: Option<String>,
    pub again: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("docs/hypotheses.md has no Experiment {number}. {existing}")]
    NotFound { number: u32, existing: String },
    #[error(
        "Experiment {number} heads more than one entry of docs/hypotheses.md (lines {lines}); \
         renumber the later heading to the next free number, then retry."
    )]
    Ambiguous { number: u32, lines: String },
    #[error(
        "Experiment {number} already has a Result block (docs/hypotheses.md:{line}) and dfh \
         never rewrites one. Record what happened since with `dfh learn {number} TEXT`."
    )]
    ResultExists { number: u32, line: usize },
    #[error(
        "Experiment {number} has no Result block yet (docs/hypotheses.md:{line}): a learning \
         follows a result. Run the experiment with `dfh run` first."
    )]
    NoResult { number: u32, line: usize },
    #[error(
        "Experiment {number} is already marked abandoned (docs/hypotheses.md:{line}); nothing \
         to add."
    )]
    AlreadyAbandoned { number: u32, line: usize },
    #[error("the {what} is empty: {fix}")]
    EmptyText {
        what: &'static str,
        fix: &'static str,
    },
}

/// The entry `dfh plan` appends: one line per field, each value on one line.
pub fn render_entry(number: u32, entry: &NewEntry) -> String {
    let mut text = format!(
        "## Experiment {number} — {}\nHypothesis: {}\nExpected outcome: {}\nInspired by: {}\n",
        one_line(&entry.title),
        one_line(&entry.hypothesis),
        one_line(&entry.expected),
        one_line(&entry.inspired_by),
    );
    let optional = [
        ("Risk", &entry.risk),
        ("Direction", &entry.direction),
        ("Again", &entry.again),
    ];
    for (label, value) in optional {
        if let Some(value) = value
            .as_deref()
            .map(one_line)
            .filter(|value| !value.is_empty())
        {
            text.push_str(&format!("{label}: {value}\n"));
        }
    }
    text
}

/// `file_text` with `rendered` appended after one blank line, in the file's line endings.
pub fn append_entry(file_text: &str, rendered: &str) -> String {
    let newline = newline_of(file_text);
    let rendered = rendered.replace("\r\n", "\n").replace('\n', newline);
    let separator = if file_text.is_empty() || file_text.ends_with(&format!("{newline}{newline}")) {
        String::new()
    } else if file_text.ends_with('\n') {
        newline.to_string()
    } else {
        format!("{newline}{newline}")
    };
    format!("{file_text}{separator}{rendered}")
}

/// Inserts `### Result` and `result_block` (its lines; a leading `### Result` line is not
/// repeated) at the end of experiment `number`, before whatever follows it.
pub fn append_result(
    file_text: &str,
    number: u32,
    result_block: &str,
) -> Result<String, EditError> {
    let log = parse(file_text);
    let entry = find(&log, number)?;
    if let Some(result) = &entry.result {
        return Err(EditError::ResultExists {
            number,
            line: result.line,
        });
    }
    let mut body: Vec<String> = result_block
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            // A line starting with `#` would be read as a heading and split the entry.
            if line.trim_start().starts_with('#') {
                format!("\\{}", line.trim_start())
            } else {
                line.to_string()
            }
        })
        .collect();
    if body.first().is_some_and(|line| is_result_heading(line)) {
        body.remove(0);
    }
    if body.is_empty() {
        return Err(EditError::EmptyText {
            what: "result block",
            fix: "give the metric line, e.g. `val_bpb: 0.9871 (previous best: 0.9912) · keep · \
                  301 s`.",
        });
    }
    let mut lines = vec![String::new(), "### Result".to_string()];
    lines.extend(body);
    Ok(insert_after(file_text, entry.end_line, &lines))
}

/// Appends `Learning: TEXT` at the end of experiment `number`'s Result block; when a learning
/// is there already, `Learning (update): TEXT` (the newer one counts; the older one stays).
pub fn set_learning(file_text: &str, number: u32, learning: &str) -> Result<String, EditError> {
    let log = parse(file_text);
    let entry = find(&log, number)?;
    let Some(result) = &entry.result else {
        return Err(EditError::NoResult {
            number,
            line: entry.line,
        });
    };
    let learning = one_line(learning);
    if learning.is_empty() {
        return Err(EditError::EmptyText {
            what: "learning",
            fix: "write what the experiment taught, e.g. `Separate LR confirmed effective; \
                  make it the default`.",
        });
    }
    let label = if entry.learning.is_some() {
        "Learning (update)"
    } else {
        "Learning"
    };
    Ok(insert_after(
        file_text,
        result.end_line,
        &[format!("{label}: {learning}")],
    ))
}

/// Appends `Abandoned: REASON` at the end of experiment `number`.
pub fn mark_abandoned(file_text: &str, number: u32, reason: &str) -> Result<String, EditError> {
    let log = parse(file_text);
    let entry = find(&log, number)?;
    if let Some(abandoned) = &entry.abandoned {
        return Err(EditError::AlreadyAbandoned {
            number,
            line: abandoned.line,
        });
    }
    let reason = one_line(reason);
    if reason.is_empty() {
        return Err(EditError::EmptyText {
            what: "reason for abandoning",
            fix: "say why, e.g. `crashed twice with CUDA OOM at batch 64`.",
        });
    }
    Ok(insert_after(
        file_text,
        entry.end_line,
        &[format!("Abandoned: {reason}")],
    ))
}

fn find(log: &HypothesisLog, number: u32) -> Result<&Entry, EditError> {
    let matching: Vec<&Entry> = log
        .entries
        .iter()
        .filter(|entry| entry.number == number)
        .collect();
    match matching.as_slice() {
        [entry] => Ok(entry),
        [] => {
            let numbers: std::collections::BTreeSet<u32> =
                log.entries.iter().map(|entry| entry.number).collect();
            let existing = if numbers.is_empty() {
                "It has no experiment yet: add one with `dfh plan`.".to_string()
            } else {
                format!("Experiments in it: {}.", super::citation::ranges(&numbers))
            };
            Err(EditError::NotFound { number, existing })
        }
        several => {
            let lines: Vec<String> = several.iter().map(|entry| entry.line.to_string()).collect();
            Err(EditError::Ambiguous {
                number,
                lines: lines.join(", "),
            })
        }
    }
}

fn is_result_heading(line: &str) -> bool {
    let heading = line.trim_start_matches('\\').trim_start_matches('#');
    line.trim_start_matches('\\').starts_with('#')
        && matches!(
            super::labels::normalize(heading).as_str(),
            "result" | "results"
        )
}

/// Whitespace (line breaks included) collapsed to single spaces: a value stays on its line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `text` with `lines` inserted after 1-based `line`, in the file's line endings.
fn insert_after(text: &str, line: usize, lines: &[String]) -> String {
    let index = LineIndex::new(text);
    let newline = newline_of(text);
    let position = index.end_of(line);
    let mut edited = String::with_capacity(text.len() + 256);
    edited.push_str(&text[..position]);
    if !edited.is_empty() && !edited.ends_with('\n') {
        edited.push_str(newline);
    }
    for inserted in lines {
        edited.push_str(inserted);
        edited.push_str(newline);
    }
    edited.push_str(&text[position..]);
    edited
}
