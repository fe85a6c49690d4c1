//! One run of an experiment's commit: the journal's `started`, `launched` and `finished`
//! around the executor, its own log file (N.log, N.2.log, ...) and seed. An experiment has
//! several runs when the baseline measures the noise floor or a winner is confirmed.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result};

use super::Interrupted;
use crate::config::ExecutorKind;
use crate::decide::RunResult;
use crate::executor::{self, local, slurm, Progress, RunReport, RunSpec};
use crate::journal::{Event, Finished, Launched, Started};
use crate::logscan::{self, Scan};
use crate::project::{now, paths, Project};

/// Which experiment, at which commit, run how.
pub struct RunPlan<'a> {
    pub experiment: u32,
    pub attempt: u32,
    pub commit: &'a str,
    pub parent: &'a str,
    pub branch: &'a str,
    pub timeout: Option<Duration>,
}

/// What one run produced.
pub struct RunRecord {
    pub index: u32,
    pub seed: u64,
    pub log: String,
    pub events: PathBuf,
    pub report: RunReport,
    pub scan: Scan,
    pub memory_gb: Option<f64>,
    pub started: SystemTime,
    /// What the work done while it ran reported (see `Meanwhile`).
    pub warning: Option<String>,
}

/// Work started once the run is journaled that goes on while the training runs; joined as
/// soon as the command is over, before anything else touches git. It answers a warning or
/// nothing.
pub type Meanwhile = std::thread::JoinHandle<Option<String>>;

impl RunRecord {
    pub fn result(&self) -> RunResult {
        RunResult {
            value: self.scan.value,
            exit_code: self.report.exit_code,
            signal: self.report.signal,
            timed_out: self.report.timed_out,
        }
    }

    /// The metric of a clean run (exit 0, finite value).
    pub fn clean_value(&self) -> Option<f64> {
        self.scan
            .value
            .filter(|value| value.is_finite() && self.report.succeeded())
    }
}

/// Runs the plan once as run `index` with `seed`; an interruption settles and errors.
pub fn run_once(
    project: &Project,
    plan: &RunPlan<'_>,
    index: u32,
    seed: u64,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunRecord> {
    run_once_after(project, plan, index, seed, on_progress, &|| Ok(None))
}

/// As `run_once`, calling `after_started` once `started` is journaled, before the launch; what
/// it leaves running is joined when the command is over.
pub fn run_once_after(
    project: &Project,
    plan: &RunPlan<'_>,
    index: u32,
    seed: u64,
    on_progress: &mut dyn FnMut(Progress<'_>),
    after_started: &dyn Fn() -> Result<Option<Meanwhile>>,
) -> Result<RunRecord> {
    let log = project.log_path(plan.experiment, index);
    let suffix = if index <= 1 {
        String::new()
    } else {
        format!(".{index}")
    };
    let events = project.path(&format!(
        "{}/{}{suffix}.events.jsonl",
        paths::LOGS,
        plan.experiment
    ));
    let _ = std::fs::remove_file(&events);
    project.journal.append(&[Event::Started(Started {
        at: now(),
        experiment: plan.experiment,
        attempt: plan.attempt,
        run: index,
        commit: plan.commit.to_string(),
        parent: plan.parent.to_string(),
        branch: plan.branch.to_string(),
        log: log.clone(),
        seed,
        harness_pid: std::process::id(),
        child_pid: None,
        child_start: None,
        job_id: None,
        lane: project.lane,
    })])?;
    super::pause_point("started");
    let meanwhile = after_started()?;
    super::pause_point("launch");
    let timeout = plan.timeout.unwrap_or_else(|| project.config.timeout());
    let spec = spec(project, plan.experiment, seed, &log, &events, timeout);
    let started = SystemTime::now();
    let journal = &project.journal;
    let number = plan.experiment;
    let mut launch_error = None;
    let mut record = |progress: Progress<'_>| {
        let launched = match &progress {
            Progress::Started { pid, start_ticks } => Some(Launched {
                at: now(),
                experiment: number,
                child_pid: Some(*pid),
                child_start: *start_ticks,
                ..Launched::default()
            }),
            Progress::Job { job_id, node } => Some(Launched {
                at: now(),
                experiment: number,
                job_id: Some(job_id.to_string()),
                node: node.map(str::to_string),
                ..Launched::default()
            }),
            Progress::Tick { .. } => None,
        };
        if let Some(launched) = launched {
            if let Err(error) = journal.append(&[Event::Launched(launched)]) {
                launch_error = Some(error);
            }
        }
        on_progress(progress);
    };
    // The patterns the scan needs compile while the training runs.
    let pattern = project.config.metric.effective_pattern();
    let compiled = std::thread::spawn(move || {
        logscan::warm();
        regex::bytes::Regex::new(&pattern)
    });
    let executed = match project.config.executor.kind {
        ExecutorKind::Local => local::run(&spec, &mut record),
        ExecutorKind::Slurm => {
            let settings =
                slurm::SlurmSettings::new(&project.config.executor, format!("dfh-{number}"));
            slurm::run(&spec, &settings, &mut record)
        }
    };
    // Joined before any settling below moves the branch or the files.
    let warning = meanwhile.and_then(|work| work.join().ok().flatten());
    let report = match executed {
        Ok(report) => report,
        Err(error) => {
            // Nothing ran (sbatch refused the job, the command could not start): put the
            // branch back now rather than at the next command.
            let (mut state, _) = project.load()?;
            super::recovery::settle(project, &mut state, &error.to_string())?;
            return Err(error.into());
        }
    };
    if let Some(error) = launch_error {
        return Err(error.into());
    }
    if let Some(lost) = &report.lost {
        let reason = match &report.requeued {
            Some(first) => format!("{first}; requeued once, then {lost}"),
            None => lost.clone(),
        };
        let (mut state, _) = project.load()?;
        super::recovery::settle(project, &mut state, &reason)?;
        return Err(super::Lost {
            experiment: plan.experiment,
            reason,
        }
        .into());
    }
    if report.interrupted {
        let signal = executor::signals::received().unwrap_or(libc::SIGINT);
        let (mut state, _) = project.load()?;
        super::recovery::settle(
            project,
            &mut state,
            &format!("dfh received signal {signal}"),
        )?;
        return Err(Interrupted {
            experiment: plan.experiment,
            signal,
        }
        .into());
    }
    super::pause_point("collect");
    let metric = compiled
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        .context("the metric pattern in dfh.toml does not compile")?;
    let scan = logscan::scan(&project.path(&log), &metric)
        .with_context(|| format!("cannot read the log {log}"))?;
    let memory_gb = memory_gb(&scan.summary, &report);
    project.journal.append(&[Event::Finished(Finished {
        at: now(),
        experiment: plan.experiment,
        attempt: plan.attempt,
        run: index,
        value: scan.value,
        exit_code: report.exit_code,
        signal: report.signal,
        timed_out: report.timed_out,
        seconds: report.seconds,
        peak_rss_mb: report.peak_rss_mb,
        memory_gb,
        summary: scan.summary.clone(),
        log: log.clone(),
        job_id: report.job_id.clone(),
        node: report.node.clone(),
        requeued: report.requeued.clone(),
    })])?;
    Ok(RunRecord {
        index,
        seed,
        log,
        events,
        report,
        scan,
        memory_gb,
        started,
        warning,
    })
}

/// How experiment `experiment` runs with `seed`: the training command in the working tree,
/// its output to `log` (relative to the root), and the variables a run gets.
pub(super) fn spec(
    project: &Project,
    experiment: u32,
    seed: u64,
    log: &str,
    events: &std::path::Path,
    timeout: Duration,
) -> RunSpec {
    RunSpec {
        command: project.config.run.command.clone(),
        dir: project.work.clone(),
        env: vec![
            (crate::env::EXPERIMENT.into(), experiment.to_string()),
            (
                crate::env::BUDGET_SECONDS.into(),
                project.config.budget().as_secs().to_string(),
            ),
            (crate::env::EVENTS.into(), events.display().to_string()),
            (crate::env::SEED.into(), seed.to_string()),
        ]
        .into_iter()
        .chain(crate::lanes::run_env(project))
        .collect(),
        log: project.path(log),
        timeout,
        grace: Duration::from_secs(5),
    }
}

/// Peak memory in GB: the script's own `peak_vram_mb`, else the GPU's, else the RSS.
fn memory_gb(
    summary: &std::collections::BTreeMap<String, String>,
    report: &RunReport,
) -> Option<f64> {
    summary
        .get("peak_vram_mb")
        .and_then(|text| text.parse::<f64>().ok())
        .or(report.gpu_peak_mb)
        .or(report.peak_rss_mb)
        .map(|megabytes| (megabytes / 1024.0 * 10.0).round() / 10.0)
}
