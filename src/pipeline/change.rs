//! What an experiment changes, seen before it runs: the code regions its diff touches, the
//! knobs it sets, a hash of the change — and whether the same thing was tried before.

use std::collections::BTreeMap;

use anyhow::Result;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::decide::round;
use crate::journal::{Outcome, Phase, State};
use crate::project::Project;
use crate::python;
use crate::refusal::Refusal;
use crate::vcs::{Git, GitError};

#[derive(Debug, Clone, Default, Serialize)]
pub struct Change {
    /// Touched regions, `file:` prefixed when more than one file is editable.
    pub regions: Vec<String>,
    /// Knobs set by the change, `NAME=value` (the value after the change).
    pub knobs: Vec<String>,
    pub hash: Option<String>,
}

/// The editable files' change against a commit, as `git diff -U0` tells it.
#[derive(Debug, Clone, Default)]
pub struct Diff {
    pub text: String,
    /// Each Python file the diff touches.
    files: BTreeMap<String, ChangedFile>,
}

#[derive(Debug, Clone, Default)]
struct ChangedFile {
    /// Lines of `current` the diff adds or changes, or next to a deletion.
    lines: Vec<usize>,
    /// The working tree's content, as the diff was taken from it.
    current: String,
    /// The content at the commit; empty when the file is new.
    before: String,
}

/// Analyses the working tree's editable files against `parent`; `prefetched` is what
/// `diff_against` answered earlier, if anything.
pub fn analyze(project: &Project, parent: &str, prefetched: Option<Diff>) -> Result<Change> {
    let editable = &project.config.run.editable;
    let diff = match prefetched {
        Some(diff) => diff,
        None => diff_against(&project.git, parent, editable)?,
    };
    if diff.text.trim().is_empty() {
        return Ok(Change::default());
    }
    let mut change = Change {
        hash: Some(hash_change(&diff.text)),
        ..Change::default()
    };
    let several = editable.len() > 1;
    for (file, changed) in &diff.files {
        for region in python::regions_touched(&changed.current, &changed.lines) {
            change.regions.push(if several {
                format!("{file}:{region}")
            } else {
                region
            });
        }
        let old: BTreeMap<String, String> = python::parse_knobs(file, &changed.before)
            .into_iter()
            .map(|knob| (knob.name, knob.value.to_string()))
            .collect();
        for knob in python::parse_knobs(file, &changed.current) {
            let value = knob.value.to_string();
            if old.get(&knob.name) != Some(&value) {
                change.knobs.push(format!("{}={value}", knob.name));
            }
        }
    }
    change.knobs.dedup();
    Ok(change)
}

/// `git diff -U0 parent -- editable`, with each Python file it touches read once: its content
/// now, and at `parent` — the content now with the diff undone; git is asked only when the
/// diff cannot tell (see `python::old_text`).
pub fn diff_against(git: &Git, parent: &str, editable: &[String]) -> Result<Diff, GitError> {
    let mut args = vec!["diff", "-U0", "--no-color", "--no-ext-diff", parent, "--"];
    args.extend(editable.iter().map(String::as_str));
    let text = git.run(&args)?;
    let mut files = BTreeMap::new();
    if text.trim().is_empty() {
        return Ok(Diff { text, files });
    }
    for (file, lines) in python::changed_lines_from_diff(&text) {
        if !file.ends_with(".py") {
            continue;
        }
        let current = std::fs::read_to_string(git.root().join(&file)).unwrap_or_default();
        let before = match python::old_text(&text, &file, &current) {
            python::OldText::Known(before) => before,
            python::OldText::Absent => String::new(),
            python::OldText::Unknown => git
                .run(&["show", &format!("{parent}:{file}")])
                .unwrap_or_default(),
        };
        files.insert(
            file,
            ChangedFile {
                lines,
                current,
                before,
            },
        );
    }
    Ok(Diff { text, files })
}

/// A hash of the added and removed lines only, so the same edit hashes the same on any parent.
fn hash_change(diff: &str) -> String {
    let mut hasher = Sha256::new();
    for line in diff.lines() {
        let changed = (line.starts_with('+') && !line.starts_with("+++"))
            || (line.starts_with('-') && !line.starts_with("---"));
        if changed {
            hasher.update(line.trim_end().as_bytes());
            hasher.update(b"\n");
        }
    }
    hasher
        .finalize()
        .iter()
        .take(12)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Earlier experiments that tried the same thing: notes to show, or a refusal for an exact
/// repeat of a change that did not work (unless the hypothesis says why it is different).
pub fn tried_before(
    state: &State,
    change: &Change,
    number: u32,
    metric: &str,
    again: Option<&str>,
) -> (Vec<String>, Option<Refusal>) {
    let mut notes = Vec::new();
    let describe = |experiment: &crate::journal::Experiment| {
        format!(
            "#{} {} ({}{}){}",
            experiment.number,
            experiment.title,
            experiment.phase.label(),
            experiment
                .value
                .map(|value| format!(", {metric} {}", round(value)))
                .unwrap_or_default(),
            experiment
                .learning
                .as_ref()
                .map(|text| format!(": {text}"))
                .unwrap_or_default()
        )
    };
    let earlier = state
        .experiments
        .values()
        .filter(|experiment| experiment.number != number);
    if let Some(hash) = &change.hash {
        for experiment in earlier.clone() {
            if experiment.change_hash.as_ref() != Some(hash) {
                continue;
            }
            let failed = matches!(
                experiment.phase,
                Phase::Done(Outcome::Discard | Outcome::Crash | Outcome::Timeout)
                    | Phase::Abandoned
            );
            if failed && again.is_none() {
                return (
                    notes,
                    Some(Refusal::new(format!(
                        "this exact change was tried before: {}. Try a different idea, or if something else has changed since, say why in the entry with an `Again:` line (or `dfh plan --again \"reason\"`)",
                        describe(experiment)
                    ))),
                );
            }
            notes.push(format!(
                "the same change was tried in {}",
                describe(experiment)
            ));
        }
    }
    for knob in &change.knobs {
        for experiment in earlier.clone() {
            if experiment.knobs.contains(knob) {
                notes.push(format!("{knob} was tried in {}", describe(experiment)));
            }
        }
    }
    notes.truncate(5);
    (notes, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_edit_hashes_the_same_on_another_parent() {
        let first = "diff --git a/train.py b/train.py\nindex 1..2\n--- a/train.py\n+++ b/train.py\n@@ -3 +3 @@\n-DEPTH = 8\n+DEPTH = 12\n";
        let second = "diff --git a/train.py b/train.py\nindex 7..9\n--- a/train.py\n+++ b/train.py\n@@ -9 +9 @@\n-DEPTH = 8\n+DEPTH = 12\n";
        assert_eq!(hash_change(first), hash_change(second));
        assert_ne!(hash_change(first), hash_change(&first.replace("12", "16")));
    }
}
