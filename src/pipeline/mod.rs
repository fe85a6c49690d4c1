//! The experiment pipeline of `dfh run`: preflight, checks, commit, execute, collect,
//! decide, record. It passes down through the layers once and returns a typed result that
//! the command renders as text or JSON.

pub mod preflight;
pub mod recovery;

use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::decide::{self, Decision, RunResult};
use crate::executor::{self, local, Progress, RunReport, RunSpec};
use crate::journal::{
    Abandoned, Decided, Event, Experiment, Finished, Launched, Outcome, Rejected, Started, State,
};
use crate::lock::ProjectLock;
use crate::logscan;
use crate::project::{now, paths, Project};
use crate::refusal::Refusal;
use crate::results;

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub timeout: Option<Duration>,
    pub retry: bool,
}

/// The result of `dfh run`, rendered by the command.
#[derive(Debug, Clone, Serialize)]
pub struct RunOutcome {
    pub experiment: u32,
    pub attempt: u32,
    pub title: String,
    pub status: Outcome,
    pub metric: String,
    pub value: Option<f64>,
    pub best_before: Option<f64>,
    pub seconds: f64,
    pub commit: String,
    pub reason: String,
    pub log: String,
    /// True when a second failure abandoned the experiment.
    pub abandoned: bool,
    /// The command the agent should run next, in words.
    pub next: String,
}

/// Errors of the pipeline that are not refusals (exit 1). A refusal is `Refusal` (exit 3).
#[derive(Debug, thiserror::Error)]
#[error("the run was interrupted by signal {signal}; experiment {experiment} is recorded as interrupted and the branch is back where it was. Run `dfh run` to run it again")]
pub struct Interrupted {
    pub experiment: u32,
    pub signal: i32,
}

/// The experiment chosen by preflight.
struct Target {
    number: u32,
    attempt: u32,
    title: String,
    direction: String,
    branch: String,
    parent: String,
}

/// Runs the pending experiment through the whole pipeline.
pub fn run_experiment(
    project: &Project,
    options: &RunOptions,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunOutcome> {
    let _lock = ProjectLock::acquire(&project.path(paths::LOCK), "dfh run")?;
    let (mut state, _) = project.load()?;
    recovery::settle(
        project,
        &mut state,
        "dfh was stopped before the run finished",
    )?;
    let target = preflight(project, &state, options)?;
    pause_point("checks");
    if let Err(refusal) = checks(project, &target) {
        reject(project, &target, "checks", &refusal)?;
        return Err(refusal.into());
    }

    pause_point("commit");
    let message = format!("exp {}: {}", target.number, target.title);
    let commit = project
        .git
        .commit_paths(
            &target.parent,
            &project.config.run.editable,
            &message,
            &project.path(paths::SCRATCH_INDEX),
        )
        .context("cannot commit the experiment")?;
    let log = project.log_path(target.number, target.attempt);
    let started = Started {
        at: now(),
        experiment: target.number,
        attempt: target.attempt,
        run: 1,
        commit: commit.clone(),
        parent: target.parent.clone(),
        branch: target.branch.clone(),
        log: log.clone(),
        seed: 1,
        harness_pid: std::process::id(),
        child_pid: None,
        child_start: None,
    };
    project.journal.append(&[Event::Started(started)])?;
    let experiment_ref = format!("refs/dfh/exp/{}", target.number);
    let branch_ref = format!("refs/heads/{}", target.branch);
    let mut updates = vec![(
        branch_ref.as_str(),
        commit.as_str(),
        Some(target.parent.as_str()),
    )];
    let previous = state
        .experiments
        .get(&target.number)
        .and_then(|experiment| {
            (target.attempt > 1)
                .then(|| experiment.commit.clone())
                .flatten()
        });
    let attempt_ref = format!("refs/dfh/attempts/{}.{}", target.number, target.attempt - 1);
    if let Some(previous) = previous.as_deref() {
        updates.push((attempt_ref.as_str(), previous, None));
    }
    updates.push((experiment_ref.as_str(), commit.as_str(), None));
    project
        .git
        .update_refs(&updates)
        .context("cannot record the experiment commit")?;
    project
        .git
        .reset_index_paths(&project.config.run.editable)?;

    pause_point("execute");
    let report = execute(project, &target, &log, options, on_progress)?;
    if report.interrupted {
        let signal = executor::signals::received().unwrap_or(libc::SIGINT);
        let (mut state, _) = project.load()?;
        recovery::settle(
            project,
            &mut state,
            &format!("dfh received signal {signal}"),
        )?;
        return Err(Interrupted {
            experiment: target.number,
            signal,
        }
        .into());
    }

    pause_point("collect");
    let metric = regex::bytes::Regex::new(&project.config.metric.effective_pattern())
        .context("the metric pattern in dfh.toml does not compile")?;
    let scan = logscan::scan(&project.path(&log), &metric)
        .with_context(|| format!("cannot read the log {log}"))?;
    let memory_gb = memory_gb(&scan.summary, &report);
    project.journal.append(&[Event::Finished(Finished {
        at: now(),
        experiment: target.number,
        attempt: target.attempt,
        run: 1,
        value: scan.value,
        exit_code: report.exit_code,
        signal: report.signal,
        timed_out: report.timed_out,
        seconds: report.seconds,
        peak_rss_mb: report.peak_rss_mb,
        memory_gb,
        summary: scan.summary.clone(),
        log: log.clone(),
    })])?;

    pause_point("decide");
    let best = state.best.as_ref().map(|best| best.value);
    let decision = decide::decide(
        &project.config.metric,
        best,
        &RunResult {
            value: scan.value,
            exit_code: report.exit_code,
            signal: report.signal,
            timed_out: report.timed_out,
        },
    );
    let abandoned = decision.outcome.failed() && target.attempt >= 2;
    apply_to_git(project, &target, &commit, &decision, abandoned)?;

    pause_point("record");
    let mut events = vec![Event::Decided(Decided {
        at: now(),
        experiment: target.number,
        attempt: target.attempt,
        outcome: decision.outcome,
        commit: commit.clone(),
        value: scan.value,
        best_before: best,
        seconds: report.seconds,
        memory_gb,
        reason: decision.reason.clone(),
        crash_class: None,
        fix: None,
        regions: Vec::new(),
        knobs: Vec::new(),
        flags: Vec::new(),
        metrics: None,
    })];
    if abandoned {
        events.push(Event::Abandoned(Abandoned {
            at: now(),
            experiment: target.number,
            reason: "failed twice".into(),
        }));
    }
    project.journal.append(&events)?;
    results::append(
        &project.path(paths::RESULTS),
        &project.config.metric.name,
        &[results::Row {
            commit: &commit,
            value: scan.value,
            memory_gb,
            status: decision.outcome.as_str(),
            description: &target.title,
            experiment: target.number,
            direction: &target.direction,
            seconds: Some(report.seconds),
        }],
    )
    .context("cannot append to results.tsv")?;

    let next = next_step(&decision, target.number, target.attempt, abandoned);
    Ok(RunOutcome {
        experiment: target.number,
        attempt: target.attempt,
        title: target.title,
        status: decision.outcome,
        metric: project.config.metric.name.clone(),
        value: scan.value,
        best_before: best,
        seconds: report.seconds,
        commit,
        reason: decision.reason,
        log,
        abandoned,
        next,
    })
}

fn preflight(project: &Project, state: &State, options: &RunOptions) -> Result<Target> {
    if state.initialized.is_none() {
        return Err(Refusal::new(
            "the journal has no `initialized` event; run `dfh init` at the project root first",
        )
        .into());
    }
    let git_dir = project.git.git_dir()?;
    if let Some(operation) = project.git.operation_in_progress(&git_dir) {
        return Err(Refusal::new(format!(
            "{operation} is in progress; finish it or abort it (e.g. `git rebase --abort`) before running an experiment"
        ))
        .into());
    }
    let Some(branch) = project.git.current_branch()? else {
        let head = project.git.head_commit()?.unwrap_or_default();
        let expected = state
            .initialized
            .as_ref()
            .map(|init| init.branch.as_str())
            .unwrap_or("main");
        return Err(Refusal::new(format!(
            "HEAD is detached at {}; dfh commits experiments on a branch. Run `git switch {expected}` and then `dfh run` again",
            head.chars().take(7).collect::<String>()
        ))
        .into());
    };
    let Some(parent) = project.git.head_commit()? else {
        return Err(Refusal::new(
            "the branch has no commit yet; commit your training script first (`git add -A && git commit -m initial`)",
        )
        .into());
    };
    if !options.retry {
        crate::distill::refuse_if_due(state, project.config.distill.every, "dfh run")?;
    }
    let experiment = choose_experiment(state, options)?;
    let target = Target {
        number: experiment.number,
        attempt: experiment.attempts + 1,
        title: experiment.title.clone(),
        direction: experiment.direction().unwrap_or_default().to_string(),
        branch,
        parent,
    };
    let refusal = match preflight::check_readonly(project, state) {
        Err(refusal) => Some(refusal),
        Ok(()) => preflight::check_changes(project)?.err(),
    };
    if let Some(refusal) = refusal {
        reject(project, &target, "preflight", &refusal)?;
        return Err(refusal.into());
    }
    Ok(target)
}

fn choose_experiment<'a>(state: &'a State, options: &RunOptions) -> Result<&'a Experiment> {
    if let Some(crashed) = state.awaiting_retry() {
        if options.retry {
            return Ok(crashed);
        }
        return Err(Refusal::new(format!(
            "experiment {} ({}) failed: {}. Apply the fix and run `dfh run --retry` (one retry), or plan a different idea with `dfh plan`, which abandons #{}",
            crashed.number,
            crashed.title,
            crashed.fix.as_deref().or(crashed.reason.as_deref()).unwrap_or("see its log"),
            crashed.number
        ))
        .into());
    }
    if options.retry {
        return Err(Refusal::new(
            "nothing to retry: --retry reruns an experiment that crashed or timed out once. Run `dfh run` for the pending hypothesis",
        )
        .into());
    }
    state.pending().ok_or_else(|| {
        Refusal::new(format!(
            "no pending hypothesis. Plan experiment {} first: `dfh plan --title T --hypothesis H --expected E --inspired-by REF`, then change the editable files and run `dfh run`",
            state.next_number()
        ))
        .into()
    })
}

/// Step 2: pre-train checks. A failure costs no training time.
fn checks(project: &Project, _target: &Target) -> Result<(), Refusal> {
    crate::checks::syntax::check(&project.root, &project.config.run.editable)
}

fn reject(project: &Project, target: &Target, stage: &str, refusal: &Refusal) -> Result<()> {
    project.journal.append(&[Event::Rejected(Rejected {
        at: now(),
        experiment: target.number,
        stage: stage.into(),
        reason: refusal.message.clone(),
    })])?;
    Ok(())
}

fn execute(
    project: &Project,
    target: &Target,
    log: &str,
    options: &RunOptions,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunReport> {
    let budget = project.config.budget();
    let events = project.path(&format!("{}/{}.events.jsonl", paths::LOGS, target.number));
    let _ = std::fs::remove_file(&events);
    let spec = RunSpec {
        command: project.config.run.command.clone(),
        dir: project.root.clone(),
        env: vec![
            (crate::env::EXPERIMENT.into(), target.number.to_string()),
            (
                crate::env::BUDGET_SECONDS.into(),
                budget.as_secs().to_string(),
            ),
            (crate::env::EVENTS.into(), events.display().to_string()),
            (crate::env::SEED.into(), "1".into()),
        ],
        log: project.path(log),
        timeout: options.timeout.unwrap_or_else(|| project.config.timeout()),
        grace: Duration::from_secs(5),
    };
    let journal = &project.journal;
    let number = target.number;
    let mut launch_error = None;
    let report = local::run(&spec, &mut |progress| {
        if let Progress::Started { pid, start_ticks } = progress {
            let event = Event::Launched(Launched {
                at: now(),
                experiment: number,
                child_pid: pid,
                child_start: start_ticks,
            });
            if let Err(error) = journal.append(&[event]) {
                launch_error = Some(error);
            }
        }
        on_progress(progress);
    })?;
    if let Some(error) = launch_error {
        return Err(error.into());
    }
    Ok(report)
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

/// Moves the branch and the editable files as the decision requires.
fn apply_to_git(
    project: &Project,
    target: &Target,
    commit: &str,
    decision: &Decision,
    abandoned: bool,
) -> Result<()> {
    if decision.outcome == Outcome::Keep {
        return Ok(());
    }
    let branch_ref = format!("refs/heads/{}", target.branch);
    project
        .git
        .update_refs(&[(&branch_ref, &target.parent, Some(commit))])
        .context("cannot move the branch back to the last kept commit")?;
    let editable = &project.config.run.editable;
    if decision.outcome == Outcome::Discard || abandoned {
        // Only the editable files go back; every other file in the tree stays as it is.
        project.git.restore_paths(&target.parent, editable)?;
    } else {
        // A first crash keeps the failed code in the working tree, for the fix and --retry.
        project.git.reset_index_paths(editable)?;
    }
    Ok(())
}

fn next_step(decision: &Decision, number: u32, attempt: u32, abandoned: bool) -> String {
    match decision.outcome {
        Outcome::Keep | Outcome::Discard => format!(
            "record what you learned: `dfh learn {number} \"...\"`, then plan the next experiment with `dfh plan`"
        ),
        _ if abandoned => format!(
            "experiment {number} failed twice and is abandoned; the editable files are back at the last kept commit. Move on to a different idea: `dfh learn {number} \"...\"`, then `dfh plan`"
        ),
        _ => format!(
            "read the diagnosis with `dfh crash`, apply the one fix and run `dfh run --retry` (attempt {} of 2), or plan a different idea with `dfh plan`",
            attempt + 1
        ),
    }
}

/// Test hook: with `DFH_PAUSE_AT=<stage>`, dfh waits at that stage until it is killed, so the
/// fault-injection tests can kill it at a known point.
fn pause_point(stage: &str) {
    if std::env::var(crate::env::PAUSE_AT).is_ok_and(|value| value == stage) {
        eprintln!("dfh: paused at {stage} (DFH_PAUSE_AT)");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}
