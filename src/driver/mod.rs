//! Driver mode, `dfh loop`: the harness runs the loop and calls the agent only to think, each
//! step in a fresh, bounded context (the brief), so context fog cannot build up. The agent
//! plans and edits; the harness checks what it left, runs the experiment, asks for the
//! learning, distills when due, and repeats. Each step goes through the same library code as
//! the commands.

pub mod agent;
pub mod lanes;
pub mod prompts;
pub mod validate;

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::decide::round;
use crate::executor::{signals, Progress};
use crate::journal::{AgentStep, Event, Phase, State};
use crate::method::planning::{self, Adoption, PlanRequest};
use crate::pipeline::{self, RunOptions};
use crate::project::{now, paths, Project};
use crate::refusal::Refusal;

pub use agent::{AgentCommand, Preset};

#[derive(Debug, Clone)]
pub struct LoopOptions {
    pub agent: AgentCommand,
    pub max_experiments: Option<u32>,
    pub hours: Option<f64>,
    /// Stop once the best reaches this value of the metric.
    pub until: Option<f64>,
    pub step_timeout: Duration,
}

/// What the loop reports as it goes: one line per experiment for a human, JSONL with --json.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LoopEvent {
    Step {
        step: String,
        experiment: u32,
    },
    Rejected {
        step: String,
        experiment: u32,
        reason: String,
    },
    Experiment {
        experiment: u32,
        title: String,
        status: String,
        value: Option<f64>,
        best: Option<f64>,
    },
    Refused {
        experiment: u32,
        reason: String,
    },
    Distilled {
        after_experiment: u32,
    },
    Stopped {
        reason: String,
        experiments: u32,
    },
}

/// Why the loop stopped, and how many experiments it ran.
#[derive(Debug, Clone, Serialize)]
pub struct LoopSummary {
    pub experiments: u32,
    pub reason: String,
    pub best: Option<f64>,
}

/// A loop that cannot go on: three rule-breaking steps in a row (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("the loop stopped: three agent steps in a row broke the rules (last: {last}). Read .dfh/agent/*.log, fix the agent command or its prompts (docs/prompts/), then resume with the same command")]
pub struct TooManyRejections {
    pub last: String,
}

pub(crate) const STOP_FILE: &str = ".dfh/stop";

pub fn drive(
    project: &Project,
    options: &LoopOptions,
    emit: &mut dyn FnMut(LoopEvent),
) -> Result<LoopSummary> {
    signals::install();
    let started = Instant::now();
    let lane = project.lane;
    if lane.is_none() {
        // Lanes leave the stop file for each other; `dfh loop --lanes` removes it once.
        let _ = std::fs::remove_file(project.path(STOP_FILE));
    }
    let mut experiments_run = std::collections::BTreeSet::new();
    let mut rejected_in_a_row = 0u32;
    let mut feedback: Option<String> = None;
    let mut asked_learning: Option<u32> = None;
    let stop = |reason: String, ran: u32, emit: &mut dyn FnMut(LoopEvent), state: &State| {
        emit(LoopEvent::Stopped {
            reason: reason.clone(),
            experiments: ran,
        });
        LoopSummary {
            experiments: ran,
            reason,
            best: state.best.as_ref().map(|best| best.value),
        }
    };
    loop {
        let (state, _) = project.load()?;
        let ran = experiments_run.len() as u32;
        if let Some(reason) = stop_reason(project, options, &state, ran, started) {
            return Ok(stop(reason, ran, emit, &state));
        }
        let every = project.config.distill.every;
        if state.distill_open.is_some() || state.distill_due(every) {
            if lane.is_some_and(|lane| lane > 1) {
                // Lane 1 distills for all lanes; the others wait for the new strategy.
                std::thread::sleep(Duration::from_millis(500));
                continue;
            }
            tally(
                distill_step(project, options, &state, emit)?,
                &mut rejected_in_a_row,
                &mut feedback,
            )?;
            continue;
        }
        if state.experiments.is_empty() && lane.is_none() {
            baseline(project)?;
            continue;
        }
        if let Some(crashed) = state.awaiting_retry_in(lane) {
            let number = crashed.number;
            let diagnosis = format!(
                "{}\nfix: {}",
                crashed.reason.clone().unwrap_or_default(),
                crashed
                    .fix
                    .clone()
                    .unwrap_or_else(|| "see `dfh crash`".into())
            );
            let prompt = fill(project, "retry", number, &[("diagnosis", &diagnosis)])?;
            match agent_step(project, options, "retry", number, &prompt, emit, true)? {
                StepResult::Done => {
                    rejected_in_a_row = 0;
                    let options = RunOptions {
                        retry: true,
                        ..RunOptions::default()
                    };
                    experiments_run.extend(run(project, &options, emit, &mut feedback)?);
                }
                StepResult::Rejected(reason) => {
                    rejected_in_a_row += 1;
                    if rejected_in_a_row >= 3 {
                        return Err(TooManyRejections { last: reason }.into());
                    }
                    // The retry is given up: planning anew abandons the crashed experiment.
                    feedback = Some(reason);
                    asked_learning = None;
                }
            }
            continue;
        }
        if let Some(pending) = state.pending_in(lane) {
            let number = pending.number;
            if let Some(refusal) = feedback.take() {
                // The last run of this experiment was refused by a check: the agent fixes it.
                let rejection = format!("{refusal}\n");
                let prompt = fill(project, "fix", number, &[("rejection", &rejection)])?;
                let result = agent_step(project, options, "fix", number, &prompt, emit, true)?;
                if tally(result, &mut rejected_in_a_row, &mut feedback)? {
                    continue;
                }
            }
            experiments_run.extend(run(project, &RunOptions::default(), emit, &mut feedback)?);
            continue;
        }
        let unlearned = state
            .latest_in(lane)
            .filter(|experiment| !experiment.imported && experiment.learning.is_none())
            .filter(|experiment| !matches!(experiment.phase, Phase::Pending | Phase::Running))
            .map(|experiment| experiment.number);
        if let Some(number) = unlearned.filter(|number| asked_learning != Some(*number)) {
            asked_learning = Some(number);
            learn_step(project, options, &state, number, emit)?;
            continue;
        }
        if let (Some(lane), Some(best)) = (lane, state.best.as_ref()) {
            // The plan is made on the current best.
            crate::lanes::prepare(project, lane, best)?;
        }
        let number = state.next_number();
        let rejection = feedback
            .take()
            .map(|reason| format!("Your last step was rejected: {reason}\nDo not repeat that.\n\n"))
            .unwrap_or_default();
        let prompt = fill(project, "plan", number, &[("rejection", &rejection)])?;
        let result = agent_step(project, options, "plan", number, &prompt, emit, true)?;
        tally(result, &mut rejected_in_a_row, &mut feedback)?;
    }
}

fn stop_reason(
    project: &Project,
    options: &LoopOptions,
    state: &State,
    ran: u32,
    started: Instant,
) -> Option<String> {
    if project.path(STOP_FILE).exists() {
        if project.lane.is_none() {
            let _ = std::fs::remove_file(project.path(STOP_FILE));
        }
        return Some(format!(
            "{STOP_FILE} was found; resume with the same command"
        ));
    }
    if let Some(signal) = signals::received() {
        return Some(format!("signal {signal}; resume with the same command"));
    }
    if options.max_experiments.is_some_and(|max| ran >= max) {
        return Some(format!("{ran} experiments ran (--max-experiments)"));
    }
    if options
        .hours
        .is_some_and(|hours| started.elapsed().as_secs_f64() >= hours * 3600.0)
    {
        return Some("the time limit (--hours) was reached".into());
    }
    if let (Some(until), Some(best)) = (options.until, &state.best) {
        let goal = project.config.metric.goal;
        if best.value == until || goal.better(best.value, until) {
            return Some(format!(
                "the best {} reached {until} (--until)",
                round(best.value)
            ));
        }
    }
    None
}

/// The first experiment is the unchanged script, planned and run by the harness itself.
fn baseline(project: &Project) -> Result<()> {
    planning::plan(
        project,
        &PlanRequest {
            title: "baseline".into(),
            hypothesis: "The unchanged training script sets the reference and, with its repeated runs, the noise floor.".into(),
            expected: format!("a first measurement of {}", project.config.metric.name),
            inspired_by: paths::STRATEGY.into(),
            risk: Some("none: nothing is changed".into()),
            direction: Some("baseline".into()),
            again: None,
        },
    )?;
    Ok(())
}

/// Counts rejected steps in a row and keeps the last reason for the next prompt; three in a
/// row stop the loop. Returns whether the step was rejected.
fn tally(result: StepResult, in_a_row: &mut u32, feedback: &mut Option<String>) -> Result<bool> {
    match result {
        StepResult::Done => {
            *in_a_row = 0;
            Ok(false)
        }
        StepResult::Rejected(reason) => {
            *in_a_row += 1;
            if *in_a_row >= 3 {
                return Err(TooManyRejections { last: reason }.into());
            }
            *feedback = Some(reason);
            Ok(true)
        }
    }
}

enum StepResult {
    Done,
    Rejected(String),
}

fn fill(project: &Project, step: &str, number: u32, extra: &[(&str, &str)]) -> Result<String> {
    let brief = crate::brief::for_project(project, project.config.brief.tokens)
        .map(|brief| brief.text)
        .unwrap_or_else(|error| format!("(the brief is unavailable: {error})"));
    let editable = project.config.run.editable.join(", ");
    let number_text = number.to_string();
    let mut values: Vec<(&str, &str)> = vec![
        ("brief", &brief),
        ("experiment", &number_text),
        ("metric", &project.config.metric.name),
        ("editable", &editable),
        ("rejection", ""),
    ];
    values.retain(|(name, _)| !extra.iter().any(|(other, _)| other == name));
    values.extend_from_slice(extra);
    Ok(prompts::fill(&prompts::template(project, step), &values))
}

/// Runs an agent step and checks what it left; a plan or fix step must leave a pending, valid
/// hypothesis and a change in the editable files.
fn agent_step(
    project: &Project,
    options: &LoopOptions,
    step: &str,
    number: u32,
    prompt: &str,
    emit: &mut dyn FnMut(LoopEvent),
    needs_change: bool,
) -> Result<StepResult> {
    emit(LoopEvent::Step {
        step: step.into(),
        experiment: number,
    });
    let before = validate::snapshot(project)?;
    let run = agent::run_step(
        project,
        &options.agent,
        step,
        number,
        prompt,
        options.step_timeout,
    )?;
    let changes = validate::settle_step(project, &before)?;
    if run.report.interrupted {
        return Err(anyhow::anyhow!(
            "the loop was interrupted during the agent's {step} step; resume with the same command"
        ));
    }
    let mut reason = None;
    if !changes.restored.is_empty() {
        reason = Some(format!(
            "it changed {} outside the editable files ({}); those changes were undone",
            changes.restored.join(", "),
            project.config.run.editable.join(", ")
        ));
    } else if run.report.timed_out {
        reason = Some(format!(
            "it did not finish within {} s",
            options.step_timeout.as_secs()
        ));
    } else if needs_change && changes.editable.is_empty() {
        reason = Some(format!(
            "it changed nothing in the editable files ({})",
            project.config.run.editable.join(", ")
        ));
    } else if step == "plan" {
        reason = pending_problem(project)?;
    }
    let outcome = if reason.is_some() { "rejected" } else { "done" };
    project.journal.append(&[Event::AgentStep(AgentStep {
        at: now(),
        step: step.into(),
        experiment: number,
        outcome: outcome.into(),
        reason: reason.clone().unwrap_or_default(),
        log: run.log,
    })])?;
    Ok(match reason {
        Some(reason) => {
            emit(LoopEvent::Rejected {
                step: step.into(),
                experiment: number,
                reason: reason.clone(),
            });
            StepResult::Rejected(reason)
        }
        None => StepResult::Done,
    })
}

/// After a plan step: a pending hypothesis must exist, planned with `dfh plan` or written by
/// hand (adopted here when valid).
fn pending_problem(project: &Project) -> Result<Option<String>> {
    let _lock = crate::lock::ProjectLock::acquire(&project.path(paths::LOCK), "dfh loop")?;
    let (mut state, _) = project.load()?;
    if state.pending_in(project.lane).is_some() {
        return Ok(None);
    }
    if let Some(lane) = project.lane {
        return Ok(Some(format!(
            "it planned nothing for lane {lane}: plan with `dfh plan` (run in the lane's worktree, or with --lane {lane}) before changing code"
        )));
    }
    match planning::adopt_written_entry(project, &mut state) {
        Ok(Adoption::Adopted { .. }) => Ok(None),
        Ok(Adoption::None) => Ok(Some(
            "it wrote no hypothesis: plan with `dfh plan` (or append an entry to docs/hypotheses.md) before changing code".into(),
        )),
        Err(error) => Ok(Some(format!("its hypothesis is not valid: {error}"))),
    }
}

/// Runs the pending experiment (or a retry); a check's refusal becomes feedback for a fix
/// step. Returns the experiment that ran, if one did.
fn run(
    project: &Project,
    options: &RunOptions,
    emit: &mut dyn FnMut(LoopEvent),
    feedback: &mut Option<String>,
) -> Result<Option<u32>> {
    match pipeline::run_experiment(project, options, &mut |_: Progress<'_>| {}) {
        Ok(outcome) => {
            let (state, _) = project.load()?;
            emit(LoopEvent::Experiment {
                experiment: outcome.experiment,
                title: outcome.title,
                status: outcome.status.as_str().into(),
                value: outcome.value,
                best: state.best.as_ref().map(|best| best.value),
            });
            Ok(Some(outcome.experiment))
        }
        Err(error) => match error.downcast_ref::<Refusal>() {
            Some(refusal) => {
                let (state, _) = project.load()?;
                let number = state
                    .pending_in(project.lane)
                    .map_or(0, |pending| pending.number);
                emit(LoopEvent::Refused {
                    experiment: number,
                    reason: refusal.message.clone(),
                });
                *feedback = Some(refusal.message.clone());
                Ok(None)
            }
            None => Err(error),
        },
    }
}

fn learn_step(
    project: &Project,
    options: &LoopOptions,
    state: &State,
    number: u32,
    emit: &mut dyn FnMut(LoopEvent),
) -> Result<()> {
    let result = state
        .experiments
        .get(&number)
        .map(|experiment| {
            format!(
                "#{number} {}: {} {} {}{}",
                experiment.title,
                experiment.phase.label(),
                project.config.metric.name,
                experiment.value.map(round).unwrap_or_else(|| "none".into()),
                experiment
                    .reason
                    .as_ref()
                    .map(|reason| format!(" ({reason})"))
                    .unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let prompt = fill(project, "learn", number, &[("result", &result)])?;
    emit(LoopEvent::Step {
        step: "learn".into(),
        experiment: number,
    });
    let before = validate::snapshot(project)?;
    let run = agent::run_step(
        project,
        &options.agent,
        "learn",
        number,
        &prompt,
        options.step_timeout,
    )?;
    let changes = validate::settle_step(project, &before)?;
    let (state, _) = project.load()?;
    let learned = state
        .experiments
        .get(&number)
        .is_some_and(|experiment| experiment.learning.is_some());
    let mut reason = String::new();
    if !changes.restored.is_empty() || !changes.editable.is_empty() {
        // A learn step edits nothing: put the editable files back as well.
        for path in &changes.editable {
            project
                .git
                .restore_paths("HEAD", std::slice::from_ref(path))?;
        }
        let mut touched = changes.restored.clone();
        touched.extend(changes.editable.iter().cloned());
        reason = format!(
            "a learn step edits no files; undone: {}",
            touched.join(", ")
        );
    }
    let outcome = if !reason.is_empty() {
        "rejected"
    } else if learned {
        "done"
    } else {
        reason = "no learning was recorded".into();
        "missing"
    };
    project.journal.append(&[Event::AgentStep(AgentStep {
        at: now(),
        step: "learn".into(),
        experiment: number,
        outcome: outcome.into(),
        reason,
        log: run.log,
    })])?;
    Ok(())
}

fn distill_step(
    project: &Project,
    options: &LoopOptions,
    state: &State,
    emit: &mut dyn FnMut(LoopEvent),
) -> Result<StepResult> {
    let opened = match crate::distill::open(project) {
        Ok(opened) => opened,
        Err(error) if error.downcast_ref::<Refusal>().is_some() => {
            // docs/strategy.md is broken (its markers): say so; the next step must repair it.
            let reason = format!("{error:#}");
            let number = state.experiments.keys().next_back().copied().unwrap_or(0);
            emit(LoopEvent::Rejected {
                step: "distill".into(),
                experiment: number,
                reason: reason.clone(),
            });
            return Ok(StepResult::Rejected(reason));
        }
        Err(error) => return Err(error),
    };
    let mut task = String::new();
    for section in &opened.task {
        task.push_str(&section.section);
        task.push('\n');
        for figure in &section.figures {
            task.push_str(&format!("  - {figure}\n"));
        }
    }
    let number = state.experiments.keys().next_back().copied().unwrap_or(0);
    let prompt = fill(project, "distill", number, &[("task", &task)])?;
    let result = agent_step(project, options, "distill", number, &prompt, emit, false)?;
    if let StepResult::Rejected(reason) = result {
        return Ok(StepResult::Rejected(reason));
    }
    match crate::distill::done(project) {
        Ok(closed) => {
            emit(LoopEvent::Distilled {
                after_experiment: closed.after_experiment,
            });
            Ok(StepResult::Done)
        }
        Err(error) => {
            let reason = format!("{error:#}");
            emit(LoopEvent::Rejected {
                step: "distill".into(),
                experiment: number,
                reason: reason.clone(),
            });
            Ok(StepResult::Rejected(reason))
        }
    }
}

/// The agent command from the flags and dfh.toml's [agent].
pub fn agent_from(
    project: &Project,
    command: Option<String>,
    preset: Option<Preset>,
) -> Result<AgentCommand> {
    if let Some(command) = command {
        return Ok(AgentCommand::Shell(command));
    }
    if let Some(preset) = preset {
        return Ok(AgentCommand::Preset(preset));
    }
    let config = &project.config.agent;
    if !config.command.trim().is_empty() {
        return Ok(AgentCommand::Shell(config.command.clone()));
    }
    if !config.preset.trim().is_empty() {
        return Preset::parse(&config.preset)
            .map(AgentCommand::Preset)
            .with_context(|| {
                format!(
                    "dfh.toml: [agent] preset = \"{}\" is not one of claude, codex, gemini, aider",
                    config.preset
                )
            });
    }
    Err(Refusal::new(
        "no agent: pass `--agent \"CMD\"` (the prompt arrives on stdin) or `--preset claude|codex|gemini|aider`, or set [agent] command or preset in dfh.toml",
    )
    .into())
}
