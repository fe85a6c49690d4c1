//! Executors: where a training command runs. Local runs it in its own process group on this
//! machine, Slurm submits it as a batch job; the pipeline around it (checks, collect, decide)
//! never knows which one ran it.

pub mod gpu;
pub mod local;
pub mod process;
pub mod signals;
pub mod slurm;

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

/// What to run and under which limits.
#[derive(Debug, Clone)]
pub struct RunSpec {
    /// A shell command line from `[run] command` (the user's configuration, never agent text).
    pub command: String,
    pub dir: PathBuf,
    pub env: Vec<(String, String)>,
    pub log: PathBuf,
    pub timeout: Duration,
    /// Time between TERM and KILL when the group is stopped.
    pub grace: Duration,
}

/// What happened to a run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunReport {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
    /// Stopped because dfh itself was asked to stop (Ctrl-C, SIGTERM).
    pub interrupted: bool,
    pub seconds: f64,
    pub peak_rss_mb: Option<f64>,
    pub gpu_peak_mb: Option<f64>,
    /// The Slurm job that ran the command (the last one, after a requeue).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    /// The node the job ran on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// Seconds the job waited in the queue before it started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub queued_seconds: Option<f64>,
    /// Why the first job was resubmitted: it was lost by the scheduler (node failure,
    /// preemption) and requeued once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requeued: Option<String>,
    /// Set when the job was lost by the scheduler again after its one requeue: the run has
    /// no result, neither good nor bad.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost: Option<String>,
}

impl RunReport {
    pub fn succeeded(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out && !self.interrupted
    }
}

/// Events the executor reports while a run is in progress.
pub enum Progress<'a> {
    /// The child started: its pid and start time, for the journal.
    Started { pid: u32, start_ticks: Option<u64> },
    /// A Slurm job was submitted (no node yet) or started on a node.
    Job {
        job_id: &'a str,
        node: Option<&'a str>,
    },
    /// Periodic tick with the time elapsed and the last line of the log.
    Tick {
        elapsed: Duration,
        last_line: &'a str,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ExecutorError {
    #[error("cannot create the log {path}: {source}")]
    Log {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start `{command}`: {source}. Check [run] command in dfh.toml")]
    Spawn {
        command: String,
        source: std::io::Error,
    },
    #[error("lost track of the training process: {0}")]
    Wait(std::io::Error),
    #[error("cannot write the batch script {path}: {source}")]
    Script {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the environment variable name `{0}` cannot be exported to a batch job")]
    EnvironmentName(String),
    #[error("`{program}` failed: {message}")]
    Scheduler { program: String, message: String },
}
