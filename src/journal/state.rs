//! The state of a project: the fold of its journal's events.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Decided, DistillOpened, Event, Initialized, Outcome, Planned, Started};

/// Where an experiment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Planned and waiting to run (also after a rejection or an interruption).
    Pending,
    Running,
    /// Decided: keep, discard, crash or timeout.
    Done(Outcome),
    Abandoned,
    /// Imported from an earlier results.tsv with a status of its own spelling.
    Other,
}

impl Phase {
    pub fn label(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Running => "running",
            Phase::Done(outcome) => outcome.as_str(),
            Phase::Abandoned => "abandoned",
            Phase::Other => "other",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Experiment {
    pub number: u32,
    pub title: String,
    pub phase: Phase,
    /// The original status text of an imported row.
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub status_text: Option<String>,
    pub imported: bool,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub plan: Option<Planned>,
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub parent: Option<String>,
    pub value: Option<f64>,
    pub best_before: Option<f64>,
    pub seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub memory_gb: Option<f64>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub crash_class: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub learning: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_empty")]
    pub regions: Vec<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_empty")]
    pub knobs: Vec<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_empty")]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub metrics: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub change_hash: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub last_rejection: Option<String>,
    pub logs: Vec<String>,
    /// The metric of each successful run of the current attempt (repeats, confirmation).
    #[serde(default, skip_serializing_if = "super::snapshot::omit_empty")]
    pub run_values: Vec<f64>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub finished_at: Option<String>,
}

impl Experiment {
    fn new(number: u32, title: String) -> Self {
        Self {
            number,
            title,
            phase: Phase::Pending,
            status_text: None,
            imported: false,
            plan: None,
            attempts: 0,
            commit: None,
            parent: None,
            value: None,
            best_before: None,
            seconds: None,
            memory_gb: None,
            reason: None,
            crash_class: None,
            fix: None,
            learning: None,
            regions: Vec::new(),
            knobs: Vec::new(),
            flags: Vec::new(),
            metrics: None,
            change_hash: None,
            last_rejection: None,
            logs: Vec::new(),
            run_values: Vec::new(),
            finished_at: None,
        }
    }

    /// The metric value the hypothesis predicted, when it stated one.
    pub fn prediction(&self) -> Option<f64> {
        self.plan.as_ref().and_then(|plan| plan.prediction)
    }

    /// The lane that runs it, when it was planned for one.
    pub fn lane(&self) -> Option<u32> {
        self.plan.as_ref().and_then(|plan| plan.lane)
    }

    pub fn direction(&self) -> Option<&str> {
        self.plan
            .as_ref()
            .and_then(|plan| plan.direction.as_deref())
    }

    pub fn outcome(&self) -> Option<Outcome> {
        match self.phase {
            Phase::Done(outcome) => Some(outcome),
            _ => None,
        }
    }

    /// Crashed once and may be retried with `dfh run --retry`.
    pub fn awaiting_retry(&self) -> bool {
        matches!(self.phase, Phase::Done(outcome) if outcome.failed()) && self.attempts < 2
    }
}

/// The current best: the latest kept experiment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Best {
    pub experiment: u32,
    pub value: f64,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub commit: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct State {
    pub initialized: Option<Initialized>,
    pub readonly_hashes: BTreeMap<String, String>,
    /// When the read-only hashes were last recorded.
    pub readonly_since: String,
    pub experiments: BTreeMap<u32, Experiment>,
    pub best: Option<Best>,
    /// The run in progress in the project's own tree (a `started` with no decision).
    pub running: Option<Started>,
    /// Runs in progress in lanes, by lane.
    #[serde(default)]
    pub lanes: BTreeMap<u32, Started>,
    /// The latest noise floor measurement.
    pub noise: Option<crate::decide::noise::NoiseFloor>,
    /// The last experiment covered by the latest finished distillation (0: none yet).
    pub last_distilled_after: u32,
    /// How many distillations were finished (`distilled` events).
    pub distillations: u32,
    /// A distillation opened by `dfh distill` and not yet closed with `--done`.
    pub distill_open: Option<DistillOpened>,
    /// The last experiment the human read in a report (`dfh report --mark-read`).
    pub last_read: Option<u32>,
}

impl State {
    pub fn fold(events: &[Event]) -> Self {
        let mut state = State::default();
        for event in events {
            state.apply(event);
        }
        state
    }

    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::Initialized(init) => {
                self.readonly_hashes = init.readonly_hashes.clone();
                self.readonly_since = init.at.clone();
                self.initialized = Some(init.clone());
            }
            Event::ReadonlyAccepted(accepted) => {
                self.readonly_hashes = accepted.readonly_hashes.clone();
                self.readonly_since = accepted.at.clone();
            }
            Event::Imported(row) => {
                let mut experiment = Experiment::new(row.experiment, row.description.clone());
                experiment.imported = true;
                experiment.phase = match row.status.as_str() {
                    "keep" => Phase::Done(Outcome::Keep),
                    "discard" => Phase::Done(Outcome::Discard),
                    "crash" => Phase::Done(Outcome::Crash),
                    "timeout" => Phase::Done(Outcome::Timeout),
                    other => {
                        experiment.status_text = Some(other.to_string());
                        Phase::Other
                    }
                };
                experiment.commit = row.commit.clone();
                experiment.value = row.value;
                experiment.seconds = row.seconds;
                experiment.memory_gb = row.memory_gb;
                experiment.attempts = 1;
                experiment.finished_at = Some(row.at.clone());
                if experiment.phase == Phase::Done(Outcome::Keep) {
                    if let Some(value) = row.value {
                        self.best = Some(Best {
                            experiment: row.experiment,
                            value,
                            commit: row.commit.clone(),
                        });
                    }
                }
                self.experiments.insert(row.experiment, experiment);
            }
            Event::Planned(plan) => {
                let experiment = self
                    .experiments
                    .entry(plan.experiment)
                    .or_insert_with(|| Experiment::new(plan.experiment, plan.title.clone()));
                experiment.title = plan.title.clone();
                experiment.plan = Some(plan.clone());
                experiment.phase = Phase::Pending;
            }
            Event::Rejected(rejected) => {
                if let Some(experiment) = self.experiments.get_mut(&rejected.experiment) {
                    experiment.last_rejection = Some(rejected.reason.clone());
                }
            }
            Event::Started(started) => {
                if let Some(experiment) = self.experiments.get_mut(&started.experiment) {
                    // A repeat of a decided experiment (`dfh noise`) leaves its outcome alone.
                    let repeat = started.run > 1 && matches!(experiment.phase, Phase::Done(_));
                    if !repeat {
                        experiment.phase = Phase::Running;
                        experiment.attempts = started.attempt;
                        experiment.commit = Some(started.commit.clone());
                        experiment.parent = Some(started.parent.clone());
                    }
                    experiment.logs.push(started.log.clone());
                    if started.run <= 1 {
                        experiment.run_values.clear();
                    }
                }
                match started.lane {
                    Some(lane) => {
                        self.lanes.insert(lane, started.clone());
                    }
                    None => self.running = Some(started.clone()),
                }
            }
            Event::Launched(launched) => {
                let lanes = self.lanes.values_mut();
                for running in self.running.iter_mut().chain(lanes) {
                    if running.experiment == launched.experiment {
                        if launched.child_pid.is_some() {
                            running.child_pid = launched.child_pid;
                            running.child_start = launched.child_start;
                        }
                        if launched.job_id.is_some() {
                            running.job_id = launched.job_id.clone();
                        }
                    }
                }
            }
            Event::Finished(finished) => {
                // A pipeline run stays unsettled until its decision: a dfh killed between
                // `finished` and `decided` left the branch on an undecided commit. Repeats of
                // a decided experiment (`dfh noise`) end with their `finished`.
                let undecided = self
                    .experiments
                    .get(&finished.experiment)
                    .is_some_and(|experiment| experiment.phase == Phase::Running);
                if !undecided {
                    self.stop_running(finished.experiment);
                }
                if let (Some(experiment), Some(value), Some(0)) = (
                    self.experiments.get_mut(&finished.experiment),
                    finished.value,
                    finished.exit_code,
                ) {
                    if value.is_finite() && !finished.timed_out {
                        experiment.run_values.push(value);
                    }
                }
            }
            Event::NoiseMeasured(measured) => {
                let floor = &measured.floor;
                // Re-measured on the best: its runs are now the reference for comparisons.
                if let Some(best) = self
                    .best
                    .as_mut()
                    .filter(|best| best.experiment == floor.experiment)
                {
                    best.value = floor.mean;
                    if let Some(experiment) = self.experiments.get_mut(&floor.experiment) {
                        experiment.run_values = floor.values.clone();
                        experiment.value = Some(floor.mean);
                    }
                }
                self.noise = Some(floor.clone());
            }
            Event::Decided(decided) => self.decide(decided),
            Event::Interrupted(interrupted) => {
                self.stop_running(interrupted.experiment);
                let running = self
                    .experiments
                    .get_mut(&interrupted.experiment)
                    .filter(|experiment| experiment.phase == Phase::Running);
                if let Some(experiment) = running {
                    experiment.phase = Phase::Pending;
                    experiment.attempts = interrupted.attempt.saturating_sub(1);
                    experiment.reason = Some(interrupted.reason.clone());
                }
            }
            Event::Learned(learned) => {
                if let Some(experiment) = self.experiments.get_mut(&learned.experiment) {
                    experiment.learning = Some(learned.text.clone());
                }
            }
            Event::Abandoned(abandoned) => {
                if let Some(experiment) = self.experiments.get_mut(&abandoned.experiment) {
                    experiment.phase = Phase::Abandoned;
                    experiment.reason = Some(abandoned.reason.clone());
                }
            }
            Event::DistillOpened(opened) => self.distill_open = Some(opened.clone()),
            Event::Distilled(distilled) => {
                self.distill_open = None;
                self.distillations += 1;
                self.last_distilled_after =
                    self.last_distilled_after.max(distilled.after_experiment);
            }
            Event::ReportRead(read) => self.last_read = Some(read.through_experiment),
            Event::AgentStep(_) | Event::Unknown => {}
        }
    }

    /// Ends the run of `experiment` in progress, in the project's tree or in a lane.
    fn stop_running(&mut self, experiment: u32) {
        let in_lane = self
            .lanes
            .values()
            .any(|running| running.experiment == experiment);
        if in_lane {
            self.lanes
                .retain(|_, running| running.experiment != experiment);
        } else {
            self.running = None;
        }
    }

    fn decide(&mut self, decided: &Decided) {
        self.stop_running(decided.experiment);
        let Some(experiment) = self.experiments.get_mut(&decided.experiment) else {
            return;
        };
        experiment.phase = Phase::Done(decided.outcome);
        experiment.attempts = decided.attempt;
        experiment.commit = Some(decided.commit.clone());
        experiment.value = decided.value;
        experiment.best_before = decided.best_before;
        experiment.seconds = Some(decided.seconds);
        experiment.memory_gb = decided.memory_gb;
        experiment.reason = Some(decided.reason.clone());
        // A crash that a retry fixed still happened: its class stays on the experiment.
        experiment.crash_class = decided
            .crash_class
            .clone()
            .or(experiment.crash_class.take());
        experiment.fix = decided.fix.clone().or(experiment.fix.take());
        experiment.regions = decided.regions.clone();
        experiment.knobs = decided.knobs.clone();
        experiment.flags = decided.flags.clone();
        experiment.metrics = decided.metrics.clone();
        experiment.change_hash = decided.change_hash.clone();
        experiment.finished_at = Some(decided.at.clone());
        if decided.outcome == Outcome::Keep {
            if let Some(value) = decided.value {
                self.best = Some(Best {
                    experiment: decided.experiment,
                    value,
                    commit: Some(decided.commit.clone()),
                });
            }
        }
    }

    /// The number the next planned experiment gets.
    pub fn next_number(&self) -> u32 {
        self.experiments
            .keys()
            .next_back()
            .map_or(1, |last| last + 1)
    }

    /// The title of experiment `number`; empty when there is none.
    pub fn title_of(&self, number: u32) -> String {
        self.experiments
            .get(&number)
            .map(|experiment| experiment.title.clone())
            .unwrap_or_default()
    }

    /// The experiment waiting to run in the project's own tree, if any.
    pub fn pending(&self) -> Option<&Experiment> {
        self.pending_in(None)
    }

    /// The experiment of the project's own tree that crashed once and may be retried.
    pub fn awaiting_retry(&self) -> Option<&Experiment> {
        self.awaiting_retry_in(None)
    }

    /// The latest experiment planned for `lane` (none: the project's own tree).
    pub fn latest_in(&self, lane: Option<u32>) -> Option<&Experiment> {
        self.experiments
            .values()
            .rev()
            .find(|experiment| experiment.lane() == lane)
    }

    /// The experiment waiting to run in `lane`, if any: planned, or running.
    pub fn pending_in(&self, lane: Option<u32>) -> Option<&Experiment> {
        self.latest_in(lane)
            .filter(|experiment| matches!(experiment.phase, Phase::Pending | Phase::Running))
    }

    /// The latest experiment of `lane` when it crashed once and may be retried.
    pub fn awaiting_retry_in(&self, lane: Option<u32>) -> Option<&Experiment> {
        self.latest_in(lane)
            .filter(|experiment| experiment.awaiting_retry())
    }

    /// The kept experiment whose commit is `commit`: what a lane's experiment started from.
    pub fn kept_at(&self, commit: &str) -> Option<&Experiment> {
        self.experiments.values().rev().find(|experiment| {
            experiment.outcome() == Some(Outcome::Keep)
                && experiment.commit.as_deref() == Some(commit)
        })
    }

    /// Experiments that ran to a decision (imported rows included).
    pub fn finished(&self) -> impl DoubleEndedIterator<Item = &Experiment> {
        self.experiments.values().filter(|experiment| {
            matches!(
                experiment.phase,
                Phase::Done(_) | Phase::Abandoned | Phase::Other
            )
        })
    }

    /// The best as the decision compares against it: the mean of its successful runs.
    pub fn reference(&self) -> Option<crate::decide::Reference> {
        let best = self.best.as_ref()?;
        let runs = self
            .experiments
            .get(&best.experiment)
            .map(|experiment| experiment.run_values.len())
            .unwrap_or(0);
        Some(crate::decide::Reference {
            mean: best.value,
            runs: runs.max(1),
        })
    }

    /// Experiments with a result (a crash awaiting its retry included) after the last
    /// distillation.
    pub fn finished_since_distill(&self) -> usize {
        self.experiments
            .range(self.last_distilled_after.saturating_add(1)..)
            .filter(|(_, experiment)| {
                matches!(
                    experiment.phase,
                    Phase::Done(_) | Phase::Abandoned | Phase::Other
                )
            })
            .count()
    }

    /// True when `every` experiments finished since the last distillation: plans and runs
    /// wait for `dfh distill`.
    pub fn distill_due(&self, every: u32) -> bool {
        every > 0 && self.finished_since_distill() >= every as usize
    }

    /// True when no experiment has run yet: the next one is the baseline.
    pub fn no_baseline(&self) -> bool {
        self.best.is_none()
    }
}
