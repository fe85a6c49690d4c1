//! The journal's event types: one struct per event, tagged by `event` in JSON.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    Initialized(Initialized),
    ReadonlyAccepted(ReadonlyAccepted),
    Imported(Imported),
    Planned(Planned),
    Rejected(Rejected),
    Started(Started),
    Launched(Launched),
    Finished(Finished),
    Decided(Decided),
    Interrupted(Interrupted),
    Learned(Learned),
    Abandoned(Abandoned),
    NoiseMeasured(NoiseMeasured),
    AgentStep(AgentStep),
    DistillOpened(DistillOpened),
    Distilled(Distilled),
    ReportRead(ReportRead),
    /// An event written by a newer dfh; kept in the file, ignored by the fold.
    #[serde(other)]
    Unknown,
}

/// The outcome of an experiment, as results.tsv spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Keep,
    Discard,
    Crash,
    Timeout,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Keep => "keep",
            Outcome::Discard => "discard",
            Outcome::Crash => "crash",
            Outcome::Timeout => "timeout",
        }
    }

    pub fn failed(self) -> bool {
        matches!(self, Outcome::Crash | Outcome::Timeout)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Initialized {
    pub at: String,
    pub branch: String,
    pub base_commit: String,
    pub editable: Vec<String>,
    pub readonly_hashes: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReadonlyAccepted {
    pub at: String,
    pub readonly_hashes: BTreeMap<String, String>,
}

/// One row of a results.tsv that existed before `dfh init`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Imported {
    pub at: String,
    pub experiment: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    pub value: Option<f64>,
    /// keep, discard, crash, timeout, or the original spelling of another status.
    pub status: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Planned {
    pub at: String,
    pub experiment: u32,
    pub title: String,
    #[serde(default)]
    pub hypothesis: String,
    #[serde(default)]
    pub expected: String,
    #[serde(default)]
    pub inspired_by: String,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub risk: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub direction: Option<String>,
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub again: Option<String>,
    /// The metric value the hypothesis predicts, when it states one.
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub prediction: Option<f64>,
    /// 1-based line of the entry's heading in docs/hypotheses.md.
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub line: Option<usize>,
    /// The lane that runs it (`dfh plan --lane k`); none for the project's own tree.
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub lane: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rejected {
    pub at: String,
    pub experiment: u32,
    /// The pipeline stage that refused: preflight, checks, ...
    pub stage: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Started {
    pub at: String,
    pub experiment: u32,
    pub attempt: u32,
    /// 1 for the first run of an attempt; repeats and confirmations count up.
    pub run: u32,
    pub commit: String,
    /// The branch tip before the experiment commit: where a discard returns.
    pub parent: String,
    pub branch: String,
    pub log: String,
    pub seed: u64,
    /// The pid of the dfh process that runs it.
    pub harness_pid: u32,
    /// Filled in from the `launched` event by the fold.
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub child_pid: Option<u32>,
    /// Start time of the child (clock ticks since boot), to recognise it after pid reuse.
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub child_start: Option<u64>,
    /// The Slurm job running it; filled in from the `launched` event by the fold.
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub job_id: Option<String>,
    /// The lane it runs in (its worktree is `.dfh/lanes/k`); none for the project's own tree.
    #[serde(default, skip_serializing_if = "super::snapshot::omit_none")]
    pub lane: Option<u32>,
}

/// The training process of the run in progress started: enough to stop it after a crash of dfh.
/// A local run names its process; a Slurm run names its job, once when it is submitted and
/// again with the node when it starts there (and anew after a requeue).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Launched {
    pub at: String,
    pub experiment: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_pid: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_start: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Finished {
    pub at: String,
    pub experiment: u32,
    pub attempt: u32,
    pub run: u32,
    pub value: Option<f64>,
    pub exit_code: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    pub timed_out: bool,
    pub seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rss_mb: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub summary: BTreeMap<String, String>,
    pub log: String,
    /// The Slurm job that ran it, and its node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Why a first job was resubmitted (lost by the scheduler).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requeued: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Decided {
    pub at: String,
    pub experiment: u32,
    pub attempt: u32,
    pub outcome: Outcome,
    pub commit: String,
    pub value: Option<f64>,
    pub best_before: Option<f64>,
    pub seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_gb: Option<f64>,
    /// Why: "gain 0.004 over #3", "val_bpb missing from the log", ...
    pub reason: String,
    /// Crash class from the advisor, for crashes and timeouts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crash_class: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Code regions the experiment's diff touched: `GPT.forward`, `DEPTH`, `train`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Knobs the experiment changed, as `NAME=value` after the change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub knobs: Vec<String>,
    /// One line per automatic diagnostics flag of the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// metrics/<commit>.json, relative to the project root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
    /// Hash of the change's added and removed lines: an identical change has the same hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_hash: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interrupted {
    pub at: String,
    pub experiment: u32,
    pub attempt: u32,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Learned {
    pub at: String,
    pub experiment: u32,
    pub text: String,
}

/// One step of the agent in driver mode (`dfh loop`) and how it ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AgentStep {
    pub at: String,
    /// plan, fix, retry, learn, distill
    pub step: String,
    pub experiment: u32,
    /// done, rejected, or missing (a learn step that wrote no learning)
    pub outcome: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    pub log: String,
}

/// Repeated runs of one experiment's code with different seeds: the noise floor.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NoiseMeasured {
    pub at: String,
    #[serde(flatten)]
    pub floor: crate::decide::noise::NoiseFloor,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Abandoned {
    pub at: String,
    pub experiment: u32,
    pub reason: String,
}

/// `dfh distill` rewrote strategy.md's auto section and asked the agent to synthesize.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DistillOpened {
    pub at: String,
    /// The last experiment with a result when it opened: what this distillation covers.
    pub after_experiment: u32,
    /// SHA-256 of docs/strategy.md outside the auto section, to see the agent's edits.
    pub sections_hash: String,
}

/// `dfh distill --done`: the agent updated the strategy; plans and runs may go on.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Distilled {
    pub at: String,
    pub after_experiment: u32,
    /// The agent's `## Priorities` as it closed the distillation: what the strategy became.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
}

/// The human read the morning report through this experiment; the next report starts after it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportRead {
    pub at: String,
    pub through_experiment: u32,
}
