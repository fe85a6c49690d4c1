//! The narrative of a report — what ran, what it found, what was learned, where the search is
//! stuck — as a typed value, and its markdown rendering (report/morning.md).

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::inputs::{Distillation, Inputs};
use super::{finished, Counts};
use crate::decide::round;
use crate::journal::{Experiment, Outcome, Phase, State};

/// The story tells at most this many kept experiments (the largest gains), and this many
/// instructive failures (the latest); the table holds the rest.
pub const STORY_KEPT: usize = 12;
pub const STORY_FAILURES: usize = 6;
/// A direction is stuck after this many experiments in a row without a keep.
pub const STUCK_AFTER: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct Narrative {
    pub metric: String,
    pub goal: String,
    pub since: String,
    pub first: Option<u32>,
    pub last: Option<u32>,
    pub counts: Counts,
    pub best: BestMove,
    pub story: Vec<StoryEntry>,
    /// Kept experiments and instructive failures left out of the story.
    pub story_left_out: usize,
    pub distillations: Vec<Distillation>,
    pub failure_modes: Vec<FailureMode>,
    pub rejections: Vec<(String, usize)>,
    pub learned_patterns: usize,
    pub stuck: Vec<Stuck>,
    pub calibration: Option<Calibration>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BestMove {
    pub from: Option<f64>,
    pub from_experiment: Option<u32>,
    pub to: Option<f64>,
    pub to_experiment: Option<u32>,
    /// The kept experiments of the window with the change each made to the metric, largest
    /// gain first (at most five).
    pub by: Vec<(u32, String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StoryEntry {
    pub number: u32,
    pub title: String,
    pub status: String,
    pub hypothesis: String,
    pub inspired_by: String,
    pub result: String,
    pub learning: String,
    /// A failure that taught something (the story's other entries are kept experiments).
    pub instructive: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailureMode {
    pub class: String,
    pub count: usize,
    pub first_experiment: u32,
    pub fix: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stuck {
    pub direction: String,
    /// Experiments in a row since its last keep.
    pub without_keep: usize,
    pub last_keep: Option<u32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub predictions: usize,
    pub mean_absolute_error: f64,
    /// Predictions that promised a gain over the best, and how many of those delivered one.
    pub promised: usize,
    pub delivered: usize,
    /// Mean of predicted gain minus actual gain: positive means optimistic.
    pub optimism: f64,
}

/// The learning of an experiment: the journal's, else the one written in hypotheses.md.
pub fn learning_of(experiment: &Experiment, inputs: &Inputs) -> Option<String> {
    experiment.learning.clone().or_else(|| {
        inputs
            .entries
            .get(&experiment.number)
            .and_then(|entry| entry.learning.clone())
    })
}

pub fn hypothesis_of(experiment: &Experiment, inputs: &Inputs) -> Option<String> {
    experiment
        .plan
        .as_ref()
        .map(|plan| plan.hypothesis.clone())
        .filter(|text| !text.is_empty())
        .or_else(|| {
            inputs
                .entries
                .get(&experiment.number)
                .and_then(|entry| entry.hypothesis.clone())
        })
}

/// `val_bpb 0.8 (best before 0.9) · keep · 301 s`, and why for a crash.
pub fn result_line(experiment: &Experiment, metric: &str) -> String {
    let mut line = format!(
        "{metric} {}",
        experiment.value.map(round).unwrap_or_else(|| "none".into())
    );
    if let Some(before) = experiment.best_before {
        line.push_str(&format!(" (best before {})", round(before)));
    }
    line.push_str(&format!(" · {}", status_of(experiment)));
    if let Some(seconds) = experiment.seconds {
        line.push_str(&format!(" · {seconds:.0} s"));
    }
    if experiment.outcome().is_some_and(Outcome::failed) || experiment.phase == Phase::Abandoned {
        if let Some(class) = &experiment.crash_class {
            line.push_str(&format!(" · {class}"));
        }
        if let Some(reason) = &experiment.reason {
            line.push_str(&format!(" — {reason}"));
        }
    }
    line
}

pub fn status_of(experiment: &Experiment) -> String {
    experiment
        .status_text
        .clone()
        .unwrap_or_else(|| experiment.phase.label().to_string())
}

fn gain(experiment: &Experiment, inputs: &Inputs) -> Option<f64> {
    Some(inputs.goal.gain(experiment.value?, experiment.best_before?))
}

pub fn narrate(state: &State, inputs: &Inputs) -> Narrative {
    let window: Vec<&Experiment> = inputs.experiments(state).collect();
    let outcome_count = |wanted: &[Outcome]| {
        window
            .iter()
            .filter(|experiment| experiment.outcome().is_some_and(|o| wanted.contains(&o)))
            .count()
    };
    let counts = Counts {
        ran: window.len(),
        kept: outcome_count(&[Outcome::Keep]),
        discarded: outcome_count(&[Outcome::Discard]),
        crashed: outcome_count(&[Outcome::Crash, Outcome::Timeout]),
        abandoned: window
            .iter()
            .filter(|experiment| experiment.phase == Phase::Abandoned)
            .count(),
        rejected: inputs.rejections.len(),
        seconds: window
            .iter()
            .filter_map(|experiment| experiment.seconds)
            .sum(),
    };
    let mut rejections: BTreeMap<String, usize> = BTreeMap::new();
    for (_, stage) in &inputs.rejections {
        *rejections.entry(stage.clone()).or_default() += 1;
    }
    let (story, story_left_out) = story(&window, inputs);
    Narrative {
        metric: inputs.metric.clone(),
        goal: inputs.goal.as_str().into(),
        since: inputs.since_label.clone(),
        first: window.first().map(|experiment| experiment.number),
        last: window.last().map(|experiment| experiment.number),
        counts,
        best: best_move(state, &window, inputs),
        story,
        story_left_out,
        distillations: inputs
            .distillations
            .iter()
            .filter(|distillation| {
                distillation
                    .after_experiment
                    .is_none_or(|after| after >= inputs.start)
            })
            .cloned()
            .collect(),
        failure_modes: failure_modes(state, &window, inputs.start),
        rejections: rejections.into_iter().collect(),
        learned_patterns: inputs.learned_patterns,
        stuck: stuck(state, inputs.start),
        calibration: calibration(&window, inputs),
    }
}

fn best_move(state: &State, window: &[&Experiment], inputs: &Inputs) -> BestMove {
    let before = state
        .experiments
        .range(..inputs.start)
        .rev()
        .map(|(_, experiment)| experiment)
        .find(|experiment| {
            experiment.outcome() == Some(Outcome::Keep) && experiment.value.is_some()
        });
    let after = window.iter().rev().find(|experiment| {
        experiment.outcome() == Some(Outcome::Keep) && experiment.value.is_some()
    });
    let mut by: Vec<(u32, String, f64)> = window
        .iter()
        .filter(|experiment| experiment.outcome() == Some(Outcome::Keep))
        .filter_map(|experiment| {
            gain(experiment, inputs).map(|gain| (experiment.number, experiment.title.clone(), gain))
        })
        .collect();
    by.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    // Shown as the change of the metric itself (negative when minimizing).
    for entry in &mut by {
        entry.2 = match inputs.goal {
            crate::config::Goal::Minimize => -entry.2,
            crate::config::Goal::Maximize => entry.2,
        };
    }
    by.truncate(5);
    // Without an earlier best, the story starts at the first kept value (the baseline).
    let start = before.or_else(|| {
        window.iter().copied().find(|experiment| {
            experiment.outcome() == Some(Outcome::Keep) && experiment.value.is_some()
        })
    });
    BestMove {
        from: start.and_then(|experiment| experiment.value),
        from_experiment: start.map(|experiment| experiment.number),
        to: after
            .copied()
            .or(before)
            .and_then(|experiment| experiment.value),
        to_experiment: after
            .copied()
            .or(before)
            .map(|experiment| experiment.number),
        by,
    }
}

fn story(window: &[&Experiment], inputs: &Inputs) -> (Vec<StoryEntry>, usize) {
    let kept: Vec<&Experiment> = window
        .iter()
        .copied()
        .filter(|experiment| experiment.outcome() == Some(Outcome::Keep))
        .collect();
    let mut chosen: BTreeSet<u32> = BTreeSet::new();
    let mut by_gain: Vec<(f64, u32)> = kept
        .iter()
        .map(|experiment| (gain(experiment, inputs).unwrap_or(0.0), experiment.number))
        .collect();
    by_gain.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    chosen.extend(by_gain.iter().take(STORY_KEPT).map(|(_, number)| *number));
    let failures: Vec<u32> = window
        .iter()
        .filter(|experiment| instructive(experiment, inputs))
        .map(|experiment| experiment.number)
        .collect();
    let failures_chosen: Vec<u32> = failures
        .iter()
        .rev()
        .take(STORY_FAILURES)
        .copied()
        .collect();
    chosen.extend(failures_chosen.iter().copied());
    let left_out = kept.len() + failures.len() - chosen.len();
    let entries = window
        .iter()
        .filter(|experiment| chosen.contains(&experiment.number))
        .map(|experiment| StoryEntry {
            number: experiment.number,
            title: experiment.title.clone(),
            status: status_of(experiment),
            hypothesis: hypothesis_of(experiment, inputs).unwrap_or_default(),
            inspired_by: experiment
                .plan
                .as_ref()
                .map(|plan| plan.inspired_by.clone())
                .unwrap_or_default(),
            result: result_line(experiment, &inputs.metric),
            learning: learning_of(experiment, inputs).unwrap_or_default(),
            instructive: experiment.outcome() != Some(Outcome::Keep),
        })
        .collect();
    (entries, left_out)
}

/// A failure worth reading: it has a learning, and it crashed, was abandoned, raised a
/// diagnostics flag, or missed its prediction by more than the gain it promised.
fn instructive(experiment: &Experiment, inputs: &Inputs) -> bool {
    if experiment.outcome() == Some(Outcome::Keep) || learning_of(experiment, inputs).is_none() {
        return false;
    }
    let crashed =
        experiment.outcome().is_some_and(Outcome::failed) || experiment.phase == Phase::Abandoned;
    let missed = match (
        experiment.prediction(),
        experiment.value,
        experiment.best_before,
    ) {
        (Some(predicted), Some(value), Some(before)) => {
            let promised = inputs.goal.gain(predicted, before);
            promised > 0.0 && inputs.goal.gain(value, before) < -promised
        }
        _ => false,
    };
    crashed || !experiment.flags.is_empty() || missed
}

fn failure_modes(state: &State, window: &[&Experiment], start: u32) -> Vec<FailureMode> {
    let seen: BTreeSet<&str> = state
        .experiments
        .range(..start)
        .filter_map(|(_, experiment)| experiment.crash_class.as_deref())
        .collect();
    let mut modes: BTreeMap<&str, FailureMode> = BTreeMap::new();
    for experiment in window {
        let Some(class) = experiment.crash_class.as_deref() else {
            continue;
        };
        if seen.contains(class) {
            continue;
        }
        let mode = modes.entry(class).or_insert_with(|| FailureMode {
            class: class.to_string(),
            count: 0,
            first_experiment: experiment.number,
            fix: experiment.fix.clone(),
        });
        mode.count += 1;
    }
    let mut modes: Vec<FailureMode> = modes.into_values().collect();
    modes.sort_by_key(|mode| mode.first_experiment);
    modes
}

/// Directions active in the window whose latest experiments brought no keep.
fn stuck(state: &State, start: u32) -> Vec<Stuck> {
    let mut runs: BTreeMap<&str, (usize, Option<u32>, bool)> = BTreeMap::new();
    for experiment in state.experiments.values().filter(|e| finished(e)) {
        let Some(direction) = experiment.direction() else {
            continue;
        };
        let entry = runs.entry(direction).or_insert((0, None, false));
        if experiment.outcome() == Some(Outcome::Keep) {
            *entry = (0, Some(experiment.number), entry.2);
        } else {
            entry.0 += 1;
        }
        entry.2 |= experiment.number >= start;
    }
    let mut stuck: Vec<Stuck> = runs
        .into_iter()
        .filter(|(_, (without, _, active))| *active && *without >= STUCK_AFTER)
        .map(|(direction, (without_keep, last_keep, _))| Stuck {
            direction: direction.to_string(),
            without_keep,
            last_keep,
        })
        .collect();
    stuck.sort_by(|a, b| {
        b.without_keep
            .cmp(&a.without_keep)
            .then(a.direction.cmp(&b.direction))
    });
    stuck.truncate(8);
    stuck
}

fn calibration(window: &[&Experiment], inputs: &Inputs) -> Option<Calibration> {
    let pairs: Vec<(f64, f64, f64)> = window
        .iter()
        .filter_map(|experiment| {
            Some((
                experiment.prediction()?,
                experiment.value?,
                experiment.best_before?,
            ))
        })
        .filter(|(predicted, value, before)| {
            predicted.is_finite() && value.is_finite() && before.is_finite()
        })
        .collect();
    if pairs.is_empty() {
        return None;
    }
    let count = pairs.len() as f64;
    let promised: Vec<&(f64, f64, f64)> = pairs
        .iter()
        .filter(|(predicted, _, before)| inputs.goal.gain(*predicted, *before) > 0.0)
        .collect();
    Some(Calibration {
        predictions: pairs.len(),
        mean_absolute_error: pairs.iter().map(|(p, v, _)| (p - v).abs()).sum::<f64>() / count,
        promised: promised.len(),
        delivered: promised
            .iter()
            .filter(|(_, value, before)| inputs.goal.gain(*value, *before) > 0.0)
            .count(),
        optimism: pairs
            .iter()
            .map(|(p, v, b)| inputs.goal.gain(*p, *b) - inputs.goal.gain(*v, *b))
            .sum::<f64>()
            / count,
    })
}
