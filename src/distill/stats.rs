//! The figures of a distillation, computed from the experiments alone (pure, no I/O): the
//! best and its trajectory, productivity per direction and per code region, runs without
//! improvement, recurring crash classes, prediction calibration and the explored ideas.
//!
//! A *gain* is the improvement of an experiment's value over the best before it, signed so
//! that positive is better under the metric's goal.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Goal;
use crate::journal::{Experiment, Outcome, Phase};

/// Directions without a `Direction:` tag are grouped under this name.
pub const UNTAGGED: &str = "(untagged)";
/// Crashes without a class from the advisor are grouped under this name.
pub const UNCLASSIFIED: &str = "unclassified";

#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    /// Experiments with a result.
    pub finished: usize,
    pub kept: usize,
    pub crashed: usize,
    pub best: Option<Move>,
    /// Every kept experiment, in order: which experiments moved the best, and by how much.
    pub trajectory: Vec<Move>,
    /// Ranked by productivity, most productive first.
    pub directions: Vec<Group>,
    pub regions: Vec<Group>,
    /// Runs of consecutive experiments without improvement, longest first (the current run,
    /// whatever its length, is flagged and always included).
    pub plateaus: Vec<Plateau>,
    /// Crash classes, most frequent first.
    pub crash_classes: Vec<CrashClass>,
    pub calibration: Option<Calibration>,
    /// Explored ideas grouped by direction, in the order of `directions`.
    pub explored: Vec<Explored>,
}

/// A kept experiment: the value it reached and its gain over the best before it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Move {
    pub experiment: u32,
    pub title: String,
    pub value: f64,
    /// None for a baseline (nothing to improve on).
    pub gain: Option<f64>,
}

/// The productivity of one direction or code region.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Group {
    pub name: String,
    pub tried: usize,
    pub kept: usize,
    pub crashed: usize,
    /// Mean and best gain over the experiments of the group that produced a value.
    pub mean_gain: Option<f64>,
    pub best_gain: Option<f64>,
}

impl Group {
    /// The share kept, smoothed so that 1 of 1 does not outrank 8 of 10: (kept+1)/(tried+2).
    pub fn productivity(&self) -> f64 {
        (self.kept as f64 + 1.0) / (self.tried as f64 + 2.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plateau {
    pub first: u32,
    pub last: u32,
    pub length: usize,
    /// True for the run that is still going (no improvement since).
    pub current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrashClass {
    pub class: String,
    pub count: usize,
    /// The most recent experiments of this class (at most five), oldest first.
    pub experiments: Vec<u32>,
    /// The latest fix the advisor gave for it.
    pub fix: Option<String>,
}

impl CrashClass {
    pub fn recurs(&self) -> bool {
        self.count >= 2
    }

    /// No pattern explained it: a class to teach with `dfh crash learn`.
    pub fn untaught(&self) -> bool {
        self.class == UNCLASSIFIED || self.class == "other"
    }
}

/// How the stated predictions compared with the outcomes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    /// Experiments with a prediction, a value and a best before.
    pub count: usize,
    pub mean_absolute_error: f64,
    /// Mean of predicted gain minus actual gain: positive means optimistic.
    pub mean_optimism: f64,
    /// Outcomes worse than predicted.
    pub fell_short: usize,
    /// Predicted an improvement and got one, or predicted none and got none.
    pub direction_right: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explored {
    pub direction: String,
    pub ideas: Vec<Idea>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Idea {
    pub experiment: u32,
    pub title: String,
    pub outcome: String,
    pub gain: Option<f64>,
    pub learning: Option<String>,
}

/// How one experiment ended, for the counts.
fn kept(experiment: &Experiment) -> bool {
    experiment.phase == Phase::Done(Outcome::Keep)
}

fn crashed(experiment: &Experiment) -> bool {
    matches!(experiment.phase, Phase::Done(outcome) if outcome.failed())
        || experiment.phase == Phase::Abandoned
}

fn has_result(experiment: &Experiment) -> bool {
    matches!(
        experiment.phase,
        Phase::Done(_) | Phase::Abandoned | Phase::Other
    )
}

/// The gain of an experiment over the best before it, when both are finite numbers.
pub fn gain(experiment: &Experiment, goal: Goal) -> Option<f64> {
    let value = experiment.value.filter(|value| value.is_finite())?;
    let before = experiment.best_before.filter(|value| value.is_finite())?;
    Some(goal.gain(value, before))
}

/// A baseline sets the reference: kept with nothing before it. It belongs to no direction.
fn is_baseline(experiment: &Experiment) -> bool {
    kept(experiment) && experiment.best_before.is_none()
}

#[derive(Default)]
struct Tally {
    tried: usize,
    kept: usize,
    crashed: usize,
    gains: Vec<f64>,
}

impl Tally {
    fn add(&mut self, experiment: &Experiment, gain: Option<f64>) {
        self.tried += 1;
        self.kept += usize::from(kept(experiment));
        self.crashed += usize::from(crashed(experiment));
        self.gains.extend(gain);
    }

    fn group(self, name: String) -> Group {
        let mean_gain = (!self.gains.is_empty())
            .then(|| self.gains.iter().sum::<f64>() / self.gains.len() as f64);
        let best_gain = self.gains.iter().copied().reduce(f64::max);
        Group {
            name,
            tried: self.tried,
            kept: self.kept,
            crashed: self.crashed,
            mean_gain,
            best_gain,
        }
    }
}

fn ranked(tallies: BTreeMap<String, Tally>) -> Vec<Group> {
    let mut groups: Vec<Group> = tallies
        .into_iter()
        .map(|(name, tally)| tally.group(name))
        .collect();
    groups.sort_by(|a, b| {
        b.productivity()
            .total_cmp(&a.productivity())
            .then(
                b.mean_gain
                    .unwrap_or(f64::NEG_INFINITY)
                    .total_cmp(&a.mean_gain.unwrap_or(f64::NEG_INFINITY)),
            )
            .then(b.tried.cmp(&a.tried))
            .then(a.name.cmp(&b.name))
    });
    groups
}

/// Computes every figure from the experiments (any order; only those with a result count).
pub fn compute<'a>(experiments: impl IntoIterator<Item = &'a Experiment>, goal: Goal) -> Stats {
    let mut finished: Vec<&Experiment> = experiments
        .into_iter()
        .filter(|experiment| has_result(experiment))
        .collect();
    finished.sort_by_key(|experiment| experiment.number);
    let mut stats = Stats {
        finished: finished.len(),
        ..Stats::default()
    };
    let mut directions: BTreeMap<String, Tally> = BTreeMap::new();
    let mut regions: BTreeMap<String, Tally> = BTreeMap::new();
    let mut crashes: BTreeMap<String, CrashClass> = BTreeMap::new();
    let mut ideas: BTreeMap<String, Vec<Idea>> = BTreeMap::new();
    let mut predictions: Vec<(f64, f64, f64)> = Vec::new();
    let mut plateau: Option<Plateau> = None;
    let mut plateaus: Vec<Plateau> = Vec::new();
    for experiment in &finished {
        let gain = gain(experiment, goal);
        if kept(experiment) {
            stats.kept += 1;
            if let Some(value) = experiment.value.filter(|value| value.is_finite()) {
                stats.trajectory.push(Move {
                    experiment: experiment.number,
                    title: experiment.title.clone(),
                    value,
                    gain,
                });
            }
            plateaus.extend(plateau.take());
        } else {
            let run = plateau.get_or_insert(Plateau {
                first: experiment.number,
                last: experiment.number,
                length: 0,
                current: false,
            });
            run.last = experiment.number;
            run.length += 1;
        }
        if crashed(experiment) {
            stats.crashed += 1;
            let class = experiment
                .crash_class
                .clone()
                .unwrap_or_else(|| UNCLASSIFIED.to_string());
            let entry = crashes.entry(class.clone()).or_insert(CrashClass {
                class,
                count: 0,
                experiments: Vec::new(),
                fix: None,
            });
            entry.count += 1;
            entry.experiments.push(experiment.number);
            if entry.experiments.len() > 5 {
                entry.experiments.remove(0);
            }
            if experiment.fix.is_some() {
                entry.fix = experiment.fix.clone();
            }
        }
        if is_baseline(experiment) {
            continue;
        }
        let direction = experiment.direction().unwrap_or(UNTAGGED).to_string();
        directions
            .entry(direction.clone())
            .or_default()
            .add(experiment, gain);
        for region in &experiment.regions {
            regions
                .entry(region.clone())
                .or_default()
                .add(experiment, gain);
        }
        if let (Some(predicted), Some(value), Some(before)) = (
            experiment.prediction().filter(|value| value.is_finite()),
            experiment.value.filter(|value| value.is_finite()),
            experiment.best_before.filter(|value| value.is_finite()),
        ) {
            predictions.push((predicted, value, before));
        }
        ideas.entry(direction).or_default().push(Idea {
            experiment: experiment.number,
            title: experiment.title.clone(),
            outcome: match (experiment.phase, &experiment.status_text) {
                (Phase::Other, Some(text)) => text.clone(),
                (phase, _) => phase.label().to_string(),
            },
            gain,
            learning: experiment.learning.clone(),
        });
    }
    if let Some(mut current) = plateau {
        current.current = true;
        plateaus.push(current);
    }
    plateaus.sort_by(|a, b| b.length.cmp(&a.length).then(a.first.cmp(&b.first)));
    stats.plateaus = plateaus;
    stats.best = stats.trajectory.last().cloned();
    stats.directions = ranked(directions);
    stats.regions = ranked(regions);
    let mut crash_classes: Vec<CrashClass> = crashes.into_values().collect();
    crash_classes.sort_by(|a, b| b.count.cmp(&a.count).then(a.class.cmp(&b.class)));
    stats.crash_classes = crash_classes;
    stats.calibration = calibration(&predictions, goal);
    stats.explored = stats
        .directions
        .iter()
        .filter_map(|group| {
            ideas.remove(&group.name).map(|ideas| Explored {
                direction: group.name.clone(),
                ideas,
            })
        })
        .collect();
    stats
}

fn calibration(predictions: &[(f64, f64, f64)], goal: Goal) -> Option<Calibration> {
    if predictions.is_empty() {
        return None;
    }
    let count = predictions.len();
    let mut absolute = 0.0;
    let mut optimism = 0.0;
    let mut fell_short = 0;
    let mut direction_right = 0;
    for &(predicted, value, before) in predictions {
        let predicted_gain = goal.gain(predicted, before);
        let actual_gain = goal.gain(value, before);
        absolute += (value - predicted).abs();
        optimism += predicted_gain - actual_gain;
        fell_short += usize::from(actual_gain < predicted_gain);
        direction_right += usize::from((predicted_gain > 0.0) == (actual_gain > 0.0));
    }
    Some(Calibration {
        count,
        mean_absolute_error: absolute / count as f64,
        mean_optimism: optimism / count as f64,
        fell_short,
        direction_right,
    })
}

/// "improved in 4 of 5 experiments (mean gain +0.0021, best +0.0050; 1 crashed)".
pub fn sentence(group: &Group) -> String {
    let mut text = format!(
        "improved in {} of {} experiment{}",
        group.kept,
        group.tried,
        if group.tried == 1 { "" } else { "s" }
    );
    let mut details = Vec::new();
    if let (Some(mean), Some(best)) = (group.mean_gain, group.best_gain) {
        details.push(format!("mean gain {}, best {}", signed(mean), signed(best)));
    }
    if group.crashed > 0 {
        details.push(format!("{} crashed", group.crashed));
    }
    if !details.is_empty() {
        text.push_str(&format!(" ({})", details.join("; ")));
    }
    text
}

/// A gain with its sign and four significant decimals: `+0.0021`, `-0.0130`.
pub fn signed(value: f64) -> String {
    if value != 0.0 && value.abs() < 0.0001 {
        return format!("{value:+.2e}");
    }
    let text = format!("{value:+.4}");
    if text == "-0.0000" {
        "+0.0000".into()
    } else {
        text
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
