//! What the agent should do next, derived from the state: one action and its command.

use serde::Serialize;

use crate::journal::{Phase, State};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Plan,
    Run,
    Retry,
    Learn,
    Distill,
    Wait,
}

#[derive(Debug, Clone, Serialize)]
pub struct NextStep {
    pub action: Action,
    /// The command to run, with placeholders the agent fills in.
    pub command: String,
    pub why: String,
}

/// The next step with the default `[distill] every`; `next_step_for` takes the project's.
pub fn next_step(state: &State) -> NextStep {
    next_step_for(state, crate::config::DistillConfig::default().every)
}

/// The next step, distillation included when `distill_every` experiments finished since the last.
pub fn next_step_for(state: &State, distill_every: u32) -> NextStep {
    let step = |action, command: String, why: String| NextStep {
        action,
        command,
        why,
    };
    if let Some(running) = &state.running {
        return step(
            Action::Wait,
            "dfh status".into(),
            format!("experiment {} is running", running.experiment),
        );
    }
    if let Some(crashed) = state.awaiting_retry() {
        return step(
            Action::Retry,
            "dfh run --retry".into(),
            format!(
                "experiment {} failed once: apply the fix (`dfh crash`) and retry, or `dfh plan` a different idea",
                crashed.number
            ),
        );
    }
    let distill = || {
        let (command, why) = match &state.distill_open {
            Some(opened) => (
                "dfh distill --done".to_string(),
                format!(
                    "a distillation is open (after experiment {}): update the agent sections of docs/strategy.md, then close it",
                    opened.after_experiment
                ),
            ),
            None => (
                "dfh distill".to_string(),
                format!(
                    "{} experiments finished since the last distillation: step back and update docs/strategy.md",
                    state.finished_since_distill()
                ),
            ),
        };
        step(Action::Distill, command, why)
    };
    let due = state.distill_due(distill_every);
    if due && state.pending().is_some() {
        return distill();
    }
    if let Some(pending) = state.pending() {
        return step(
            Action::Run,
            "dfh run".into(),
            format!(
                "experiment {} ({}) is planned: implement it in the editable files, then run it",
                pending.number, pending.title
            ),
        );
    }
    let unlearned = state
        .experiments
        .values()
        .rev()
        .find(|experiment| !experiment.imported && experiment.phase != Phase::Pending)
        .filter(|experiment| experiment.learning.is_none());
    if let Some(experiment) = unlearned {
        return step(
            Action::Learn,
            format!("dfh learn {} \"...\"", experiment.number),
            format!(
                "experiment {} has a result but no learning yet",
                experiment.number
            ),
        );
    }
    if due || state.distill_open.is_some() {
        return distill();
    }
    if state.best.is_none() {
        return step(
            Action::Plan,
            "dfh plan --title baseline --hypothesis \"The unchanged script sets the reference.\" --expected \"a first measurement\" --inspired-by docs/strategy.md && dfh run".into(),
            "no baseline yet: run the unchanged script first".into(),
        );
    }
    step(
        Action::Plan,
        "dfh plan --title T --hypothesis H --expected E --inspired-by REF".into(),
        "plan the next experiment, grounded in a paper or a past result".into(),
    )
}
