//! The Slurm executor: the training command as a batch job, submitted with `sbatch
//! --parsable`, watched with `squeue` (`scontrol`, and `sacct` where accounting exists, for
//! what squeue no longer shows), cancelled with `scancel` on the timeout and on Ctrl-C.
//!
//! The project directory must be on a filesystem that this machine and the compute nodes
//! share: the job writes its log to `spec.log` and its exit code to a file beside it, and
//! that file is the first source of truth (Slurm's `ExitCode` is the fallback). The timeout
//! counts from the moment the job runs on a node, not while it waits in the queue. A job the
//! scheduler loses (node failure, boot failure, preemption) is submitted once more; a second
//! loss is reported in `RunReport::lost`, and the run has no result.

pub mod scheduler;
pub mod script;

use std::path::Path;
use std::time::{Duration, Instant};

use scheduler::{JobStatus, Phase};

use super::{local, signals, ExecutorError, Progress, RunReport, RunSpec};
use crate::config::ExecutorConfig;

/// Longest pause between two squeue calls while a job waits or runs.
const QUERY_INTERVAL_MAX: Duration = Duration::from_secs(5);
/// Pause between two squeue calls while a cancelled job ends.
const QUERY_INTERVAL_CANCELLING: Duration = Duration::from_millis(250);
/// How often the exit-code file is looked for.
const FILE_INTERVAL: Duration = Duration::from_millis(50);
/// How long an exit-code file may lag behind the job's end on a shared filesystem.
const FILE_LAG: Duration = Duration::from_secs(10);
/// How long a cancelled job may take to end, beyond the run's grace.
const CANCEL_LIMIT: Duration = Duration::from_secs(60);

/// The `[executor]` settings of a Slurm run, and the job's name.
#[derive(Debug, Clone, Default)]
pub struct SlurmSettings {
    pub job_name: String,
    pub partition: String,
    /// e.g. `gpu:1`.
    pub gres: String,
    /// Slurm's own time limit (`--time`); when empty, dfh's timeout plus a margin, so that a
    /// job outlives a killed dfh by minutes at most.
    pub time: String,
    /// Passed to sbatch as they are, after dfh's own options.
    pub sbatch_args: Vec<String>,
}

impl SlurmSettings {
    pub fn new(config: &ExecutorConfig, job_name: impl Into<String>) -> Self {
        Self {
            job_name: job_name.into(),
            partition: config.partition.clone(),
            gres: config.gres.clone(),
            time: config.time.clone(),
            sbatch_args: config.sbatch_args.clone(),
        }
    }

    /// The sbatch options for `spec`.
    fn options(&self, spec: &RunSpec) -> Vec<String> {
        let log = spec.log.display().to_string();
        // sbatch expands %j and friends in file names; a backslash turns that off entirely.
        let log = if log.contains('\\') {
            log
        } else {
            log.replace('%', "%%")
        };
        let time = if self.time.is_empty() {
            let seconds = (spec.timeout + spec.grace).as_secs() + 120;
            seconds.div_ceil(60).to_string()
        } else {
            self.time.clone()
        };
        let mut options = vec![
            format!("--job-name={}", self.job_name),
            format!("--chdir={}", spec.dir.display()),
            format!("--output={log}"),
            "--open-mode=truncate".into(),
            // dfh requeues a lost job itself, once, so that it knows about it.
            "--no-requeue".into(),
            format!("--time={time}"),
        ];
        if !self.partition.is_empty() {
            options.push(format!("--partition={}", self.partition));
        }
        if !self.gres.is_empty() {
            options.push(format!("--gres={}", self.gres));
        }
        options.extend(self.sbatch_args.iter().cloned());
        options
    }
}

/// Runs `spec` as a Slurm job to completion, timeout, interruption or loss.
pub fn run(
    spec: &RunSpec,
    settings: &SlurmSettings,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunReport, ExecutorError> {
    if let Some(parent) = spec.log.parent() {
        std::fs::create_dir_all(parent).map_err(|source| ExecutorError::Log {
            path: spec.log.clone(),
            source,
        })?;
    }
    let script_path = spec.log.with_extension("sbatch");
    let exit_file = spec.log.with_extension("exitcode");
    let text = script::render(spec, &exit_file)?;
    std::fs::write(&script_path, text).map_err(|source| ExecutorError::Script {
        path: script_path.clone(),
        source,
    })?;
    let options = settings.options(spec);
    signals::install();
    let mut requeued = None;
    loop {
        let _ = std::fs::remove_file(&exit_file);
        let job_id = scheduler::submit(&script_path, &options)?;
        on_progress(Progress::Job {
            job_id: &job_id,
            node: None,
        });
        let watched = watch(&job_id, spec, &exit_file, on_progress);
        if let Ending::Lost(why) = &watched.ending {
            if requeued.is_none() && watched.cancel.is_none() {
                // The job is gone already; the scancel only makes sure of it.
                scheduler::cancel(&job_id);
                requeued = Some(why.clone());
                continue;
            }
        }
        let mut report = report(&job_id, watched);
        report.requeued = requeued;
        return Ok(report);
    }
}

/// Why dfh cancelled the job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cancel {
    Timeout,
    Interrupt,
}

/// How the job ended.
#[derive(Debug)]
enum Ending {
    /// The batch script wrote its exit code.
    Exited(i32),
    /// Slurm says it ended (completed, failed, cancelled, out of memory).
    Ended(JobStatus),
    /// Slurm's own time limit (`--time`) ended it.
    TimeLimit,
    /// The scheduler lost it.
    Lost(String),
    /// A cancelled job that did not end within the limit, or never could be cancelled.
    Abandoned,
}

struct Watched {
    ending: Ending,
    node: Option<String>,
    submitted: Instant,
    running_since: Option<Instant>,
    ended: Instant,
    cancel: Option<Cancel>,
}

/// Polls the job until it ends; cancels it on the timeout or a signal.
fn watch(
    job_id: &str,
    spec: &RunSpec,
    exit_file: &Path,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Watched {
    let submitted = Instant::now();
    let mut watched = Watched {
        ending: Ending::Abandoned,
        node: None,
        submitted,
        running_since: None,
        ended: submitted,
        cancel: None,
    };
    let mut query_interval = Duration::from_millis(100);
    let mut next_query = submitted;
    let mut next_tick = submitted + Duration::from_secs(1);
    let mut cancelled_at: Option<Instant> = None;
    let mut gone_since: Option<Instant> = None;
    let mut waiting_reason = String::from("submitted");
    let ending = loop {
        let now = Instant::now();
        if watched.cancel.is_none() {
            if let Some(code) = read_exit_code(exit_file) {
                // A node failure or a preemption kills the command with TERM and the script
                // may still write 143: the scheduler's word decides whether it was lost.
                if let Ok(Some(status)) = scheduler::query(job_id) {
                    note_node(&mut watched, job_id, &status, on_progress);
                    if status.phase() == Phase::Lost {
                        break Ending::Lost(lost_reason(job_id, &status));
                    }
                }
                break Ending::Exited(code);
            }
        }
        if now >= next_query {
            match scheduler::query(job_id) {
                Ok(Some(status)) => {
                    gone_since = None;
                    note_node(&mut watched, job_id, &status, on_progress);
                    match status.phase() {
                        Phase::Waiting => waiting_reason = status.reason.clone(),
                        Phase::Running => {
                            watched.running_since.get_or_insert(now);
                        }
                        Phase::Ended => break Ending::Ended(status),
                        Phase::TimeLimit => break Ending::TimeLimit,
                        Phase::Lost => break Ending::Lost(lost_reason(job_id, &status)),
                    }
                }
                Ok(None) => {
                    if let Some(ending) = ending_of_unknown_job(job_id, exit_file) {
                        break ending;
                    }
                    let since = *gone_since.get_or_insert(now);
                    if now - since >= FILE_LAG {
                        break Ending::Lost(format!(
                            "Slurm no longer knows job {job_id} and it left no exit code"
                        ));
                    }
                }
                Err(error) => waiting_reason = error.to_string(),
            }
            query_interval = if watched.cancel.is_some() {
                QUERY_INTERVAL_CANCELLING
            } else {
                (query_interval * 2).min(QUERY_INTERVAL_MAX)
            };
            next_query = Instant::now() + query_interval;
        }
        if watched.cancel.is_none() {
            let timed_out = watched
                .running_since
                .is_some_and(|since| now - since >= spec.timeout);
            let cancel = if timed_out {
                Some(Cancel::Timeout)
            } else {
                signals::received().map(|_| Cancel::Interrupt)
            };
            if let Some(cancel) = cancel {
                watched.cancel = Some(cancel);
                cancelled_at = Some(now);
                scheduler::cancel(job_id);
                next_query = now;
            }
        } else if let Some(at) = cancelled_at {
            if now - at >= spec.grace + CANCEL_LIMIT {
                break Ending::Abandoned;
            }
        }
        if now >= next_tick {
            let last_line = if watched.running_since.is_some() || watched.cancel.is_some() {
                local::last_line(&spec.log)
            } else {
                format!("waiting in the Slurm queue as job {job_id} ({waiting_reason})")
            };
            on_progress(Progress::Tick {
                elapsed: now - submitted,
                last_line: &last_line,
            });
            next_tick = now + Duration::from_secs(1);
        }
        std::thread::sleep(FILE_INTERVAL);
    };
    watched.ending = ending;
    watched.ended = Instant::now();
    watched
}

/// Records the node the first time Slurm names one, and tells the caller.
fn note_node(
    watched: &mut Watched,
    job_id: &str,
    status: &JobStatus,
    on_progress: &mut dyn FnMut(Progress<'_>),
) {
    if watched.node.is_none() && !status.node.is_empty() && status.phase() != Phase::Waiting {
        watched.node = Some(status.node.clone());
        on_progress(Progress::Job {
            job_id,
            node: Some(&status.node),
        });
    }
}

/// The ending of a job that squeue no longer lists: its exit-code file, else sacct.
fn ending_of_unknown_job(job_id: &str, exit_file: &Path) -> Option<Ending> {
    if let Some(code) = read_exit_code(exit_file) {
        return Some(Ending::Exited(code));
    }
    let (status, _) = scheduler::accounting(job_id)?;
    match status.phase() {
        Phase::Ended => Some(Ending::Ended(status)),
        Phase::TimeLimit => Some(Ending::TimeLimit),
        Phase::Lost => Some(Ending::Lost(lost_reason(job_id, &status))),
        Phase::Waiting | Phase::Running => None,
    }
}

fn lost_reason(job_id: &str, status: &JobStatus) -> String {
    let node = if status.node.is_empty() {
        String::new()
    } else {
        format!(" on {}", status.node)
    };
    format!("job {job_id} lost by the scheduler: {}{node}", status.state)
}

fn read_exit_code(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn report(job_id: &str, watched: Watched) -> RunReport {
    let mut report = RunReport {
        job_id: Some(job_id.to_string()),
        node: watched.node.clone(),
        timed_out: watched.cancel == Some(Cancel::Timeout),
        interrupted: watched.cancel == Some(Cancel::Interrupt),
        ..RunReport::default()
    };
    let start = watched.running_since.unwrap_or(watched.submitted);
    report.seconds = (watched.ended - start).as_secs_f64();
    report.queued_seconds = watched
        .running_since
        .map(|since| (since - watched.submitted).as_secs_f64());
    match watched.ending {
        Ending::Exited(code) => report.exit_code = Some(code),
        Ending::Ended(status) => {
            let code = scheduler::exit_code(job_id);
            match code {
                Some((_, signal)) if signal != 0 => report.signal = Some(signal),
                Some((exit, _)) if exit != 0 || status.state == "COMPLETED" => {
                    report.exit_code = Some(exit);
                }
                // Cancelled by someone else: Slurm's TERM, even when the code says 0:0.
                _ if status.state == "CANCELLED" => report.signal = Some(libc::SIGTERM),
                _ => {}
            }
        }
        Ending::TimeLimit => report.timed_out = true,
        Ending::Lost(why) => report.lost = Some(why),
        Ending::Abandoned => {}
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn options_escape_the_log_and_derive_the_time_limit() {
        let spec = RunSpec {
            command: "python3 train.py".into(),
            dir: PathBuf::from("/shared/p"),
            env: Vec::new(),
            log: PathBuf::from("/shared/p/100%/.dfh/logs/1.log"),
            timeout: Duration::from_secs(600),
            grace: Duration::from_secs(5),
        };
        let settings = SlurmSettings {
            job_name: "dfh-1".into(),
            gres: "gpu:1".into(),
            sbatch_args: vec!["--qos=short".into()],
            ..SlurmSettings::default()
        };
        let options = settings.options(&spec);
        assert!(options.contains(&"--output=/shared/p/100%%/.dfh/logs/1.log".into()));
        assert!(options.contains(&"--time=13".into()), "{options:?}");
        assert!(options.contains(&"--gres=gpu:1".into()));
        assert_eq!(options.last().map(String::as_str), Some("--qos=short"));
        assert!(!options
            .iter()
            .any(|option| option.starts_with("--partition")));
    }
}
