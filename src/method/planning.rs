//! `dfh plan`, `dfh learn` and the adoption of hand-written entries: the hypothesis log's
//! entries and their journal events. The harness only ever appends to docs/hypotheses.md.

use anyhow::{Context, Result};
use serde::Serialize;

use crate::config::Goal;
use crate::hypothesis::{self, CitationContext, NewEntry, ValidationContext};
use crate::journal::{Abandoned, Event, Learned, Phase, State};
use crate::lock::ProjectLock;
use crate::pipeline::recovery;
use crate::project::{now, paths, Project};
use crate::refusal::Refusal;

#[derive(Debug, Clone, Default)]
pub struct PlanRequest {
    pub title: String,
    pub hypothesis: String,
    pub expected: String,
    pub inspired_by: String,
    pub risk: Option<String>,
    pub direction: Option<String>,
    pub again: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub experiment: u32,
    pub title: String,
    pub line: usize,
    pub prediction: Option<f64>,
    pub abandoned: Option<u32>,
    pub warnings: Vec<String>,
    /// In a lane: its worktree, where the change is made and run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lane: Option<crate::lanes::Prepared>,
}

/// The context that validation needs: what exists on disk and in the journal.
pub fn validation_context(project: &Project, state: &State) -> ValidationContext {
    ValidationContext {
        citations: CitationContext {
            project_root: project.root.clone(),
            recorded_experiments: state
                .experiments
                .values()
                .filter(|experiment| experiment.phase != Phase::Pending)
                .map(|experiment| experiment.number)
                .collect(),
            strategy_distilled: state.distillations > 0,
        },
        metric: project.config.metric.name.clone(),
        goal_minimize: project.config.metric.goal == Goal::Minimize,
        best: state.best.as_ref().map(|best| best.value),
    }
}

fn read_hypotheses(project: &Project) -> Result<String> {
    let path = project.path(paths::HYPOTHESES);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(String::new()),
        Err(error) => Err(error).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// Applies `edit` to the entry of experiment `number` only: the file is cut at the last heading
/// of that experiment and only the tail is parsed, so a long log costs no more than a short
/// one. Entries are independent, so the result is the same as editing the whole file; when no
/// heading is found (or the tail does not hold the entry), the whole file is edited.
pub fn edit_entry(
    text: &str,
    number: u32,
    edit: impl Fn(&str) -> Result<String, hypothesis::EditError>,
) -> Result<String, hypothesis::EditError> {
    let (kept, tail) = edit_entry_tail(text, number, edit)?;
    Ok(format!("{}{tail}", &text[..kept]))
}

/// As `edit_entry`, without copying the unchanged part: the edited file is `text[..kept]`
/// followed by the returned tail.
pub fn edit_entry_tail(
    text: &str,
    number: u32,
    edit: impl Fn(&str) -> Result<String, hypothesis::EditError>,
) -> Result<(usize, String), hypothesis::EditError> {
    let start = last_heading(text, number);
    if let Some(start) = start.filter(|start| *start > 0) {
        if let Ok(tail) = edit(&text[start..]) {
            return Ok((start, tail));
        }
    }
    edit(text).map(|text| (0, text))
}

/// The byte offset of the last heading of experiment `number`. Lines are tried from the end
/// of the file, where the entry being edited almost always is, so a long log is not scanned.
pub(crate) fn last_heading(text: &str, number: u32) -> Option<usize> {
    let pattern = format!(r"(?i)\A#{{1,6}}[ \t]*(?:experiment|expt?)\.?[ \t]*#?[ \t]*{number}\b");
    let heading = regex::Regex::new(&pattern).ok()?;
    let bytes = text.as_bytes();
    let mut end = bytes.len();
    loop {
        let start = memchr::memrchr(b'\n', &bytes[..end]).map_or(0, |newline| newline + 1);
        if bytes.get(start) == Some(&b'#') && heading.is_match(&text[start..end]) {
            return Some(start);
        }
        if start == 0 {
            return None;
        }
        end = start - 1;
    }
}

/// Replaces docs/hypotheses.md through a temporary file, so a crash never leaves half a file.
pub fn write_hypotheses(project: &Project, text: &str) -> Result<()> {
    write_hypotheses_parts(project, &[text])
}

/// As `write_hypotheses`, for a text given in consecutive parts.
pub fn write_hypotheses_parts(project: &Project, parts: &[&str]) -> Result<()> {
    let path = project.path(paths::HYPOTHESES);
    // Beside the file, so the rename never crosses file systems (.dfh may be a mount).
    let temporary = project.path("docs/.hypotheses.md.dfh-new");
    std::fs::File::create(&temporary)
        .and_then(|mut file| {
            parts
                .iter()
                .try_for_each(|part| crate::env::write_all(&mut file, &temporary, part.as_bytes()))
        })
        .with_context(|| format!("cannot write {}", temporary.display()))?;
    std::fs::rename(&temporary, &path)
        .with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

pub fn plan(project: &Project, request: &PlanRequest) -> Result<Planned> {
    let _lock = ProjectLock::acquire(&project.path(paths::LOCK), "dfh plan")?;
    let (mut state, _) = project.load()?;
    recovery::settle(
        project,
        &mut state,
        "dfh was stopped before the run finished",
    )?;
    crate::distill::refuse_if_due(&state, project.config.distill.every, "dfh plan")?;
    let lane = project.lane;
    let flag = project.lane_flag();
    if let Some(pending) = state.pending_in(lane) {
        return Err(Refusal::new(format!(
            "experiment {} ({}) is already planned and has not run; run it with `dfh run{flag}` first. One pending hypothesis at a time{}",
            pending.number,
            pending.title,
            if lane.is_some() { " per lane" } else { "" }
        ))
        .into());
    }
    let best = match (lane, state.best.as_ref()) {
        (Some(_), None) => return Err(crate::lanes::before_baseline().into()),
        (_, best) => best.cloned(),
    };
    let number = state.next_number();
    let text = read_hypotheses(project)?;
    if let Some(written) = hypothesis::parse(&text)
        .entries
        .iter()
        .find(|entry| entry.number >= number)
    {
        return Err(Refusal::new(format!(
            "{}:{}: Experiment {} is already written there and has not run; run it with `dfh run` (a valid entry is adopted), or delete it to plan another. One pending hypothesis at a time",
            paths::HYPOTHESES, written.line, written.number
        ))
        .into());
    }
    let new_entry = NewEntry {
        title: request.title.clone(),
        hypothesis: request.hypothesis.clone(),
        expected: request.expected.clone(),
        inspired_by: request.inspired_by.clone(),
        risk: request.risk.clone(),
        direction: request.direction.clone(),
        again: request.again.clone(),
    };
    let mut updated =
        hypothesis::append_entry(&text, &hypothesis::render_entry(number, &new_entry));
    let parsed = hypothesis::parse(&updated);
    let Some(entry) = parsed.entries.iter().find(|entry| entry.number == number) else {
        return Err(Refusal::new(format!(
            "the new entry for Experiment {number} does not read back from docs/hypotheses.md; check the file for an unclosed code block (```) above the end"
        ))
        .into());
    };
    let validation = hypothesis::validate(entry, &validation_context(project, &state));
    if !validation.is_valid() {
        return Err(Refusal::new(problems_text(&validation.errors)).into());
    }
    let line = entry.line;
    let prediction = validation
        .prediction
        .as_ref()
        .map(|prediction| prediction.value);
    let mut warnings: Vec<String> = validation
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut abandoned = None;
    if let Some(crashed) = state.awaiting_retry_in(lane) {
        let crashed_number = crashed.number;
        project
            .git
            .restore_paths("HEAD", &project.config.run.editable)?;
        let reason = "a new hypothesis was planned instead of a retry";
        match hypothesis::mark_abandoned(&updated, crashed_number, reason) {
            Ok(marked) => updated = marked,
            Err(error) => warnings.push(error.to_string()),
        }
        project.journal.append(&[Event::Abandoned(Abandoned {
            at: now(),
            experiment: crashed_number,
            reason: reason.into(),
        })])?;
        abandoned = Some(crashed_number);
    }
    let prepared = match (lane, best) {
        (Some(lane), Some(best)) => {
            let prepared = crate::lanes::prepare(project, lane, &best)?;
            if let Some(kept_back) = &prepared.kept_back {
                warnings.push(format!("lane {lane}: {kept_back}"));
            }
            Some(prepared)
        }
        _ => None,
    };
    write_hypotheses(project, &updated)?;
    project
        .journal
        .append(&[planned_event(number, &new_entry, prediction, line, lane)])?;
    Ok(Planned {
        experiment: number,
        title: request.title.clone(),
        line,
        prediction,
        abandoned,
        warnings,
        lane: prepared,
    })
}

fn planned_event(
    number: u32,
    entry: &NewEntry,
    prediction: Option<f64>,
    line: usize,
    lane: Option<u32>,
) -> Event {
    Event::Planned(crate::journal::Planned {
        at: now(),
        experiment: number,
        title: entry.title.clone(),
        hypothesis: entry.hypothesis.clone(),
        expected: entry.expected.clone(),
        inspired_by: entry.inspired_by.clone(),
        risk: entry.risk.clone(),
        direction: entry.direction.clone(),
        again: entry.again.clone(),
        prediction,
        line: Some(line),
        lane,
    })
}

fn problems_text(problems: &[hypothesis::Problem]) -> String {
    problems
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// The outcome of looking for a hand-written pending entry.
pub enum Adoption {
    Adopted { number: u32, warnings: Vec<String> },
    None,
}

/// Adopts an entry the agent wrote into docs/hypotheses.md by hand as the pending one, when it
/// is valid; refuses it with its problems when not. The caller holds the lock.
pub fn adopt_written_entry(project: &Project, state: &mut State) -> Result<Adoption> {
    let number = state.next_number();
    let text = read_hypotheses(project)?;
    let parsed = hypothesis::parse(&text);
    let Some(entry) = parsed.entries.iter().find(|entry| entry.number >= number) else {
        return Ok(Adoption::None);
    };
    if entry.number != number {
        return Err(Refusal::new(format!(
            "{}:{}: the entry is numbered {} but the next experiment is {number}; renumber its heading to `## Experiment {number} — {}`",
            paths::HYPOTHESES, entry.line, entry.number, entry.title
        ))
        .into());
    }
    let validation = hypothesis::validate(entry, &validation_context(project, state));
    if !validation.is_valid() {
        return Err(Refusal::new(problems_text(&validation.errors)).into());
    }
    let field = |field: &Option<hypothesis::Field>| field.as_ref().map(|field| field.text.clone());
    let new_entry = NewEntry {
        title: entry.title.clone(),
        hypothesis: field(&entry.hypothesis).unwrap_or_default(),
        expected: field(&entry.expected).unwrap_or_default(),
        inspired_by: field(&entry.inspired_by).unwrap_or_default(),
        risk: field(&entry.risk),
        direction: field(&entry.direction),
        again: field(&entry.again),
    };
    let prediction = validation
        .prediction
        .as_ref()
        .map(|prediction| prediction.value);
    // Only the project's own tree adopts a hand-written entry; lanes plan with `dfh plan`.
    let event = planned_event(number, &new_entry, prediction, entry.line, None);
    project.journal.append(std::slice::from_ref(&event))?;
    state.apply(&event);
    Ok(Adoption::Adopted {
        number,
        warnings: validation
            .warnings
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

/// The refusal for a run without a hypothesis: the template, filled with the next number.
pub fn no_hypothesis(project: &Project, state: &State) -> Refusal {
    let number = state.next_number();
    if let Some(lane) = project.lane {
        return Refusal::new(format!(
            "no pending hypothesis in lane {lane}. Plan before you perturb: run `dfh plan --lane {lane} --title T --hypothesis H --expected E --inspired-by REF` (it moves the lane's worktree to the best), change the editable files in {}/{lane}, then run `dfh run --lane {lane}` again",
            crate::lanes::DIR
        ));
    }
    Refusal::new(format!(
        "no pending hypothesis for experiment {number}. Plan before you perturb: run `dfh plan --title T --hypothesis H --expected E --inspired-by REF`, or append this entry to docs/hypotheses.md and fill it in:\n\n{}\nThen change the editable files and run `dfh run` again.",
        hypothesis::template(number, &project.config.metric.name)
    ))
}

pub fn learn(project: &Project, number: u32, text: &str) -> Result<Vec<String>> {
    let _lock = ProjectLock::acquire(&project.path(paths::LOCK), "dfh learn")?;
    let (state, _) = project.load()?;
    // The Result block goes first; a record an earlier dfh left half written is completed.
    recovery::complete_record(project, &state)?;
    let Some(experiment) = state.experiments.get(&number) else {
        return Err(Refusal::new(format!(
            "there is no experiment {number}; `dfh status` lists the recent ones"
        ))
        .into());
    };
    if matches!(experiment.phase, Phase::Pending | Phase::Running) {
        return Err(Refusal::new(format!(
            "experiment {number} has no result yet; run it with `dfh run`, then record what it taught"
        ))
        .into());
    }
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        return Err(Refusal::new("the learning is empty; write one or two sentences").into());
    }
    let mut warnings = Vec::new();
    let file = read_hypotheses(project)?;
    match edit_entry(&file, number, |file| {
        hypothesis::set_learning(file, number, &text)
    }) {
        Ok(updated) => write_hypotheses(project, &updated)?,
        Err(error) => warnings.push(format!("docs/hypotheses.md not updated: {error}")),
    }
    project.journal.append(&[Event::Learned(Learned {
        at: now(),
        experiment: number,
        text,
    })])?;
    Ok(warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editing_the_tail_equals_editing_the_whole_file() {
        let text = crate::synthetic::history(30).hypotheses;
        let tail = edit_entry(&text, 12, |text| {
            hypothesis::set_learning(text, 12, "tail edit")
        });
        let whole = hypothesis::set_learning(&text, 12, "tail edit");
        assert_eq!(tail, whole);
        // Experiment 1 starts at offset > 0 too (after the file's header); 30 is the last.
        for number in [1, 30] {
            let tail = edit_entry(&text, number, |text| {
                hypothesis::set_learning(text, number, "x")
            });
            assert_eq!(tail, hypothesis::set_learning(&text, number, "x"));
        }
        // A missing experiment falls back to the whole file and its error.
        assert!(edit_entry(&text, 99, |text| hypothesis::set_learning(text, 99, "x")).is_err());
    }
}
