//! `dfh plan` and `dfh learn`: the hypothesis log's entries and their journal events.

use anyhow::{Context, Result};
use serde::Serialize;

use crate::journal::{Abandoned, Event, Learned, Phase};
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
    if let Some(pending) = state.pending() {
        return Err(Refusal::new(format!(
            "experiment {} ({}) is already planned and has not run; run it with `dfh run` first. One pending hypothesis at a time",
            pending.number, pending.title
        ))
        .into());
    }
    for (label, value) in [
        ("--title", &request.title),
        ("--hypothesis", &request.hypothesis),
        ("--expected", &request.expected),
        ("--inspired-by", &request.inspired_by),
    ] {
        if value.trim().is_empty() {
            return Err(Refusal::new(format!("{label} is empty; say it in a sentence")).into());
        }
    }
    let mut abandoned = None;
    if let Some(crashed) = state.awaiting_retry() {
        let number = crashed.number;
        project
            .git
            .restore_paths("HEAD", &project.config.run.editable)?;
        project.journal.append(&[Event::Abandoned(Abandoned {
            at: now(),
            experiment: number,
            reason: "a new hypothesis was planned instead of a retry".into(),
        })])?;
        abandoned = Some(number);
    }
    let number = state.next_number();
    let path = project.path(paths::HYPOTHESES);
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let entry = render_entry(number, request);
    let mut text = existing;
    if !text.is_empty() && !text.ends_with("\n\n") {
        text.push_str(if text.ends_with('\n') { "\n" } else { "\n\n" });
    }
    let line = text.lines().count() + 1;
    text.push_str(&entry);
    std::fs::write(&path, &text).with_context(|| format!("cannot write {}", path.display()))?;
    project
        .journal
        .append(&[Event::Planned(crate::journal::Planned {
            at: now(),
            experiment: number,
            title: request.title.clone(),
            hypothesis: request.hypothesis.clone(),
            expected: request.expected.clone(),
            inspired_by: request.inspired_by.clone(),
            risk: request.risk.clone(),
            direction: request.direction.clone(),
            again: request.again.clone(),
            prediction: None,
            line: Some(line),
        })])?;
    Ok(Planned {
        experiment: number,
        title: request.title.clone(),
        line,
        prediction: None,
        abandoned,
        warnings: Vec::new(),
    })
}

fn render_entry(number: u32, request: &PlanRequest) -> String {
    let mut text = format!(
        "## Experiment {number} — {}\nHypothesis: {}\nExpected outcome: {}\nInspired by: {}\n",
        request.title, request.hypothesis, request.expected, request.inspired_by
    );
    if let Some(risk) = &request.risk {
        text.push_str(&format!("Risk: {risk}\n"));
    }
    if let Some(direction) = &request.direction {
        text.push_str(&format!("Direction: {direction}\n"));
    }
    text
}

pub fn learn(project: &Project, number: u32, text: &str) -> Result<()> {
    let _lock = ProjectLock::acquire(&project.path(paths::LOCK), "dfh learn")?;
    let (state, _) = project.load()?;
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
    if text.trim().is_empty() {
        return Err(Refusal::new("the learning is empty; write one or two sentences").into());
    }
    project.journal.append(&[Event::Learned(Learned {
        at: now(),
        experiment: number,
        text: text.trim().to_string(),
    })])?;
    Ok(())
}
