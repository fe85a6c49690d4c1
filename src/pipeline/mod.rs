//! The experiment pipeline of `dfh run`: preflight, checks, commit, execute, collect,
//! decide, record. It passes down through the layers once and returns a typed result that
//! the command renders as text or JSON.

pub mod change;
pub mod collect;
mod lane;
pub mod noise;
pub mod prefetch;
pub mod preflight;
pub mod record;
pub mod recovery;
pub mod runs;

use std::time::Duration;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::crash::{Diagnosis, ExitInfo};
use crate::decide::noise::NoiseFloor;
use crate::decide::{self, Decision, Noise, RunResult};
use crate::executor::{local, Progress, RunReport};
use crate::journal::{
    Abandoned, Decided, Event, Experiment, NoiseMeasured, Outcome, Rejected, State,
};
use crate::lock::ProjectLock;
use crate::logscan;
use crate::method::planning::{self, Adoption};
use crate::project::{now, paths, Project};
use crate::refusal::Refusal;

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
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metrics: Option<String>,
    pub flags: Vec<String>,
    pub regions: Vec<String>,
    pub knobs: Vec<String>,
    /// Earlier experiments that tried the same knob values or change.
    pub tried: Vec<String>,
    /// The metric of each run: the baseline's repeats, or a winner and its confirmation.
    pub runs: Vec<Option<f64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
    /// True when a second failure abandoned the experiment.
    pub abandoned: bool,
    pub warnings: Vec<String>,
    /// The command the agent should run next, in words.
    pub next: String,
}

/// A Slurm job lost by the scheduler twice (exit 1): no result, recorded as interrupted.
#[derive(Debug, thiserror::Error)]
#[error("experiment {experiment}: {reason}; it is recorded as interrupted and the branch is back where it was. Check the cluster (`sinfo -R`), then run `dfh run` to run it again")]
pub struct Lost {
    pub experiment: u32,
    pub reason: String,
}

/// A run stopped by Ctrl-C or SIGTERM (exit 130).
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
    again: Option<String>,
    branch: String,
    parent: String,
    /// In a lane: the kept experiment the change was made on, and its value as the decision
    /// compares against it.
    started_from: Option<(u32, crate::decide::Reference)>,
}

/// Runs the pending experiment through the whole pipeline.
pub fn run_experiment(
    project: &Project,
    options: &RunOptions,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunOutcome> {
    let label = format!("dfh run{}", project.lane_flag());
    if let Some(lane) = project.lane {
        // The worktree lives in .dfh/lanes, beside the lane's lock file.
        if !project.work.join(".git").exists() {
            return Err(Refusal::new(format!(
                "lane {lane} has no worktree yet ({}/{lane}); plan its first experiment with `dfh plan --lane {lane} ...`, which creates it at the current best",
                crate::lanes::DIR
            ))
            .into());
        }
    }
    // A lane holds its own lock for the whole run and the project's only for moments.
    let _lock = ProjectLock::hold(&project.run_lock_path(), &label)?;
    let brief = lane::shared_lock(project, &label)?;
    // Python's start-up overlaps preflight's git calls; the result is read at step 2.
    let syntax =
        crate::checks::syntax::SyntaxCheck::start(&project.work, &project.config.run.editable);
    // Git's answers are asked while the state loads (see `prefetch`).
    let prefetch = prefetch::Prefetch::start(project);
    let (mut state, _) = project.load_for_run()?;
    let settled = recovery::settle_own(
        project,
        &mut state,
        "dfh was stopped before the run finished",
    )?;
    if settled.is_some() {
        // Settling wrote events; the run goes on from the whole state.
        state = project.load()?.0;
    }
    let mut answers = prefetch.finish(settled.is_some());
    let mut warnings = Vec::new();
    let target = preflight(project, &mut state, options, &mut warnings, &mut answers)?;
    let change = change::analyze(project, &target.parent, answers.take_diff(&target.parent))?;
    let (tried, repeat) = change::tried_before(
        &state,
        &change,
        target.number,
        &project.config.metric.name,
        target.again.as_deref(),
    );
    if let Some(refusal) = repeat {
        reject(project, &target, "tried-before", &refusal)?;
        return Err(refusal.into());
    }
    // Checks and training run without the project lock: other lanes record meanwhile.
    drop(brief);

    pause_point("checks");
    let checks = crate::checks::pre_train_with(project, syntax);
    warnings.extend(checks.warnings.iter().cloned());
    if let Some(refusal) = checks.refusal() {
        reject(project, &target, "checks", &refusal)?;
        return Err(refusal.into());
    }
    if project.config.checks.smoke {
        if let Some(refusal) = smoke(project, &target)? {
            reject(project, &target, "smoke", &refusal)?;
            return Err(refusal.into());
        }
    }

    pause_point("commit");
    let message = commit_message(target.number, &target.title);
    let commit = match answers.take_commit(&target.parent, &message) {
        Some(commit) => Ok(commit),
        None => match answers.take_tree(&target.parent) {
            Some(tree) => project.git.commit_tree(&target.parent, &tree, &message),
            None => project.git.commit_paths(
                &target.parent,
                &project.config.run.editable,
                &message,
                &project.scratch_index(),
            ),
        },
    }
    .context("cannot commit the experiment")?;
    project.git.scratch_holds(
        &project.scratch_index(),
        &project.config.run.editable,
        &commit,
    );
    pause_point("execute");
    let plan = runs::RunPlan {
        experiment: target.number,
        attempt: target.attempt,
        commit: &commit,
        parent: &target.parent,
        branch: &target.branch,
        timeout: options.timeout,
    };
    let mut next_index = state
        .experiments
        .get(&target.number)
        .map_or(0, |experiment| experiment.logs.len()) as u32
        + 1;
    // The branch moves to the experiment only once its `started` is journaled, so a harness
    // killed in between is always found and settled by the next command.
    let first = runs::run_once_after(project, &plan, next_index, 1, on_progress, &|| {
        move_refs(project, &state, &target, &commit)?;
        Ok(Some(reset_index_meanwhile(project)))
    })?;
    let mut first = first;
    warnings.extend(first.warning.take());
    let mut records = vec![first];
    next_index += 1;

    pause_point("decide");
    // Other lanes may have decided meanwhile: a lane decides and records against the journal
    // as it is now, under the project lock.
    let brief = lane::shared_lock(project, &label)?;
    if brief.is_some() {
        state = project.load()?.0;
    }
    let metric_config = &project.config.metric;
    let reference = match &target.started_from {
        Some((_, reference)) => Some(reference.clone()),
        None => state.reference(),
    };
    let best = reference.as_ref().map(|reference| reference.mean);
    let first = records[0].result();
    let mut decision = decide::decide_with_noise(metric_config, reference.as_ref(), &first, None);
    let mut value = records[0].scan.value;
    if reference.is_none() && decision.outcome == Outcome::Keep && metric_config.repeats > 1 {
        // The baseline: repeated runs with other seeds measure the noise floor.
        for seed in 2..=u64::from(metric_config.repeats) {
            records.push(runs::run_once(
                project,
                &plan,
                next_index,
                seed,
                on_progress,
            )?);
            next_index += 1;
        }
        let values: Vec<f64> = records
            .iter()
            .filter_map(runs::RunRecord::clean_value)
            .collect();
        if let Some(floor) = NoiseFloor::measure(target.number, &values) {
            value = Some(floor.mean);
            decision.reason = format!("baseline; {}", floor.describe());
            if floor.sigma == 0.0 {
                warnings.push(format!(
                    "σ = 0 from {} runs with different DFH_SEED values: the script ignores DFH_SEED, so noise cannot be told from gains. Seed every random generator from os.environ[\"DFH_SEED\"]",
                    values.len()
                ));
            }
            project
                .journal
                .append(&[Event::NoiseMeasured(NoiseMeasured { at: now(), floor })])?;
        }
    } else if let Some(reference) = &reference {
        let sigma = state.noise.as_ref().map(|floor| floor.sigma);
        let noise = sigma.map(|sigma| Noise {
            sigma,
            candidate_runs: 1,
        });
        decision = decide::decide_with_noise(metric_config, Some(reference), &first, noise);
        if decision.outcome == Outcome::Keep && metric_config.confirm {
            // A winner is rerun once with another seed and kept only if the mean still passes.
            let confirm = runs::run_once(project, &plan, next_index, 2, on_progress)?;
            let confirmed = confirm.clean_value();
            records.push(confirm);
            match (confirmed, records[0].clean_value()) {
                (Some(second), Some(original)) => {
                    let mean = (original + second) / 2.0;
                    value = Some(mean);
                    let noise = sigma.map(|sigma| Noise {
                        sigma,
                        candidate_runs: 2,
                    });
                    let result = RunResult {
                        value: Some(mean),
                        ..first
                    };
                    decision =
                        decide::decide_with_noise(metric_config, Some(reference), &result, noise);
                    decision.reason = format!(
                        "confirmed by a second run (seed 2: {}), mean of 2 runs {}: {}",
                        decide::round(second),
                        decide::round(mean),
                        decision.reason
                    );
                }
                _ => {
                    decision = Decision {
                        outcome: Outcome::Discard,
                        reason: "the confirmation run (seed 2) did not finish cleanly; not kept"
                            .into(),
                    };
                }
            }
        }
    }
    if let Some((from, _)) = &target.started_from {
        lane::superseded(project, &state, *from, value, &mut decision);
    }
    let record = &records[0];
    let (log, report, scan, memory_gb) =
        (&record.log, &record.report, &record.scan, record.memory_gb);
    let run_values: Vec<Option<f64>> = records.iter().map(|record| record.scan.value).collect();
    let events_path = record.events.clone();
    let started_at = record.started;
    let seconds: f64 = records.iter().map(|record| record.report.seconds).sum();
    let abandoned = decision.outcome.failed() && target.attempt >= 2;
    let diagnosis = decision
        .outcome
        .failed()
        .then(|| diagnose(project, log, report));
    let collected = collect::RunFacts {
        experiment: target.number,
        commit: &commit,
        status: decision.outcome.as_str(),
        value,
        best_before: best,
        summary: &scan.summary,
        report,
        events: &events_path,
        started: started_at,
    };
    let (metrics, flags) = match collect::write_metrics(project, &state, &collected) {
        Ok(collected) => {
            warnings.extend(collected.warnings);
            (Some(collected.path), collected.flags)
        }
        Err(error) => {
            warnings.push(format!("metrics not written: {error:#}"));
            (None, Vec::new())
        }
    };
    apply_to_git(project, &target, &commit, &decision, abandoned)?;
    if project.lane.is_some() && decision.outcome == Outcome::Keep {
        warnings.extend(lane::promote(project, &state, &commit)?);
    }

    pause_point("record");
    record::begin(
        project,
        &record::Recording {
            experiment: target.number,
            commit: commit.clone(),
        },
    )?;
    let mut events = vec![Event::Decided(Decided {
        at: now(),
        experiment: target.number,
        attempt: target.attempt,
        outcome: decision.outcome,
        commit: commit.clone(),
        value,
        best_before: best,
        seconds,
        memory_gb,
        reason: decision.reason.clone(),
        crash_class: diagnosis.as_ref().map(|diagnosis| diagnosis.class.clone()),
        fix: diagnosis.as_ref().map(|diagnosis| diagnosis.fix.clone()),
        regions: change.regions.clone(),
        knobs: change.knobs.clone(),
        flags: flags.clone(),
        metrics: metrics.clone(),
        change_hash: change.hash.clone(),
    })];
    if abandoned {
        events.push(Event::Abandoned(Abandoned {
            at: now(),
            experiment: target.number,
            reason: "failed twice".into(),
        }));
    }
    project.journal.append(&events)?;
    pause_point("results");
    let record = record::Record {
        experiment: target.number,
        title: &target.title,
        direction: &target.direction,
        commit: &commit,
        outcome: decision.outcome,
        value,
        best_before: best,
        seconds,
        memory_gb,
        metrics: metrics.as_deref(),
        flags: &flags,
        diagnosis: diagnosis.as_ref(),
        last: !decision.outcome.failed() || abandoned,
        abandoned,
    };
    record::results_row(project, &record)?;
    pause_point("hypotheses");
    warnings.extend(record::hypothesis_result(project, &record)?);
    record::end(project)?;
    if let Some(diagnosis) = &diagnosis {
        warnings.extend(record::recurring_failure(
            project,
            &state,
            diagnosis,
            target.number,
        )?);
    }

    drop(brief);
    let next = next_step(project, &decision, target.number, target.attempt, abandoned);
    crate::journal::release(state);
    Ok(RunOutcome {
        experiment: target.number,
        attempt: target.attempt,
        title: target.title,
        status: decision.outcome,
        metric: project.config.metric.name.clone(),
        value,
        best_before: best,
        seconds,
        commit,
        reason: decision.reason,
        log: log.clone(),
        metrics,
        flags,
        regions: change.regions,
        knobs: change.knobs,
        tried,
        runs: run_values,
        diagnosis,
        abandoned,
        warnings,
        next,
    })
}

/// An experiment commit's message.
pub(crate) fn commit_message(number: u32, title: &str) -> String {
    format!("exp {number}: {title}")
}

fn preflight(
    project: &Project,
    state: &mut State,
    options: &RunOptions,
    warnings: &mut Vec<String>,
    answers: &mut prefetch::Answers,
) -> Result<Target> {
    if state.initialized.is_none() {
        return Err(Refusal::new(
            "the journal has no `initialized` event; run `dfh init` at the project root first",
        )
        .into());
    }
    let (git_dir, head, branch) = match project.git.head_info()? {
        Some((git_dir, head, branch)) => (git_dir, Some(head), branch),
        None => (
            project.git.git_dir()?,
            project.git.head_commit()?,
            project.git.current_branch()?,
        ),
    };
    if let Some(operation) = project.git.operation_in_progress(&git_dir) {
        return Err(Refusal::new(format!(
            "{operation} is in progress; finish it or abort it (e.g. `git rebase --abort`) before running an experiment"
        ))
        .into());
    }
    let index_lock = git_dir.join("index.lock");
    if index_lock.exists() {
        return Err(Refusal::new(format!(
            "{} exists: another git command is running, or one was killed and left its lock behind. If no git is running, remove it (`rm {}`) and run `dfh run` again",
            index_lock.display(),
            index_lock.display()
        ))
        .into());
    }
    let Some(branch) = branch else {
        let head = head.unwrap_or_default();
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
    let Some(parent) = head else {
        return Err(Refusal::new(
            "the branch has no commit yet; commit your training script first (`git add -A && git commit -m initial`)",
        )
        .into());
    };
    if !options.retry {
        crate::distill::refuse_if_due(state, project.config.distill.every, "dfh run")?;
    }
    let lane = project.lane;
    let adopt = lane.is_none() && !options.retry;
    if adopt && state.awaiting_retry().is_none() && state.pending().is_none() {
        if let Adoption::Adopted {
            warnings: adopted, ..
        } = planning::adopt_written_entry(project, state)?
        {
            warnings.extend(adopted);
        }
    }
    let experiment = choose_experiment(project, state, options)?;
    let started_from = match lane {
        Some(lane) => {
            crate::lanes::gpus(project, lane)?;
            Some(lane::start(state, lane, &parent)?)
        }
        None => None,
    };
    let target = Target {
        number: experiment.number,
        attempt: experiment.attempts + 1,
        title: experiment.title.clone(),
        direction: experiment.direction().unwrap_or_default().to_string(),
        again: experiment.plan.as_ref().and_then(|plan| plan.again.clone()),
        branch,
        parent,
        started_from,
    };
    let refusal = match preflight::check_readonly(project, state) {
        Err(refusal) => Some(refusal),
        Ok(()) => {
            let status = answers.take_status(&target.parent);
            preflight::check_changes(project, status)?.err()
        }
    };
    if let Some(refusal) = refusal {
        reject(project, &target, "preflight", &refusal)?;
        return Err(refusal.into());
    }
    Ok(target)
}

fn choose_experiment<'a>(
    project: &Project,
    state: &'a State,
    options: &RunOptions,
) -> Result<&'a Experiment> {
    let lane = project.lane;
    let flag = project.lane_flag();
    if let Some(crashed) = state.awaiting_retry_in(lane) {
        if options.retry {
            return Ok(crashed);
        }
        return Err(Refusal::new(format!(
            "experiment {} ({}) failed: {}. Apply the fix and run `dfh run{flag} --retry` (one retry), or plan a different idea with `dfh plan{flag}`, which abandons #{}",
            crashed.number,
            crashed.title,
            crashed.fix.as_deref().or(crashed.reason.as_deref()).unwrap_or("see its log"),
            crashed.number
        ))
        .into());
    }
    if options.retry {
        return Err(Refusal::new(format!(
            "nothing to retry: --retry reruns an experiment that crashed or timed out once. Run `dfh run{flag}` for the pending hypothesis"
        ))
        .into());
    }
    state
        .pending_in(lane)
        .ok_or_else(|| planning::no_hypothesis(project, state).into())
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

/// Points the branch and refs/dfh/exp/N at the experiment commit, in one transaction.
fn move_refs(project: &Project, state: &State, target: &Target, commit: &str) -> Result<()> {
    let experiment_ref = format!("refs/dfh/exp/{}", target.number);
    let branch_ref = format!("refs/heads/{}", target.branch);
    let mut updates = vec![(branch_ref.as_str(), commit, Some(target.parent.as_str()))];
    let previous = state
        .experiments
        .get(&target.number)
        .filter(|_| target.attempt > 1)
        .and_then(|experiment| experiment.commit.clone());
    let attempt_ref = format!("refs/dfh/attempts/{}.{}", target.number, target.attempt - 1);
    if let Some(previous) = previous.as_deref() {
        updates.push((attempt_ref.as_str(), previous, None));
    }
    updates.push((experiment_ref.as_str(), commit, None));
    project
        .git
        .update_refs(&updates)
        .context("cannot record the experiment commit")
}

/// Sets the user's index entries of the editable files to the experiment commit the branch
/// now names, on a second thread while the training starts (`git status` during the run then
/// shows a clean tree). Joined once the run is over; a failure is a warning.
fn reset_index_meanwhile(project: &Project) -> runs::Meanwhile {
    let git = project.git.clone();
    let editable = project.config.run.editable.clone();
    std::thread::spawn(move || {
        git.reset_index_paths(&editable).err().map(|error| {
            format!(
                "git's index still holds the last kept version of {}: {error}. Run `git reset -q -- {}` to match it to HEAD",
                editable.join(", "),
                editable.join(" ")
            )
        })
    })
}

/// Check (f): the training command with DFH_SMOKE=1 under a short timeout; `dfh_diag.Run`
/// stops the script after its first logged step, so shape errors surface in seconds.
fn smoke(project: &Project, target: &Target) -> Result<Option<Refusal>> {
    let log = format!("{}/{}.smoke.log", paths::LOGS, target.number);
    let events = project.path(&format!(
        "{}/{}.smoke.events.jsonl",
        paths::LOGS,
        target.number
    ));
    let timeout = crate::config::parse_duration(&project.config.checks.smoke_timeout)
        .unwrap_or(Duration::from_secs(120));
    let mut spec = runs::spec(project, target.number, 1, &log, &events, timeout);
    spec.env.push((crate::env::SMOKE.into(), "1".into()));
    let report = local::run(&spec, &mut |_| {})?;
    if report.succeeded() {
        return Ok(None);
    }
    let diagnosis = diagnose(project, &log, &report);
    Ok(Some(Refusal::new(format!(
        "the smoke run (DFH_SMOKE=1, first step only) failed: {} — {}{}\nfix: {}\nlog: {log}. No training was started",
        diagnosis.class,
        diagnosis.cause,
        diagnosis
            .location
            .as_ref()
            .map(|location| format!(" at {}:{}", location.file, location.line))
            .unwrap_or_default(),
        diagnosis.fix
    ))))
}

fn diagnose(project: &Project, log: &str, report: &RunReport) -> Diagnosis {
    let text = logscan::tail(&project.path(log)).unwrap_or_default();
    let exit = ExitInfo {
        code: report.exit_code,
        signal: report.signal,
        timed_out: report.timed_out,
    };
    match crate::crash::project::pattern_db(project) {
        Ok(db) => crate::crash::project::diagnose_for(project, &db, &text, &exit),
        Err(error) => {
            let db = crate::crash::PatternDb::builtin();
            let mut diagnosis = match db {
                Ok(db) => crate::crash::project::diagnose_for(project, &db, &text, &exit),
                Err(_) => return unclassified(error.to_string()),
            };
            diagnosis.fix = format!(
                "{} (checks/failures.toml was skipped: {error})",
                diagnosis.fix
            );
            diagnosis
        }
    }
}

fn unclassified(reason: String) -> Diagnosis {
    Diagnosis {
        class: crate::crash::UNCLASSIFIED.into(),
        cause: reason,
        evidence: String::new(),
        location: None,
        fix: "read the log".into(),
        pattern_source: crate::crash::PatternSource::None,
    }
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
    let editable = &project.config.run.editable;
    let restore = decision.outcome == Outcome::Discard || abandoned;
    // The branch and the files go back at once (two git processes that touch different
    // files): a failure of either leaves the run undecided in the journal, and the next
    // command settles it whole.
    let (moved, files) = std::thread::scope(|scope| {
        let files = scope.spawn(|| {
            if restore {
                // Only the editable files go back; every other file in the tree stays as it is.
                project.git.restore_paths(&target.parent, editable)
            } else {
                // A first crash keeps the failed code in the working tree, for the fix and
                // --retry; only the index follows the branch.
                project.git.reset_index_paths_to(&target.parent, editable)
            }
        });
        let moved = project
            .git
            .update_refs(&[(&branch_ref, &target.parent, Some(commit))]);
        (moved, files.join())
    });
    moved.context("cannot move the branch back to the last kept commit")?;
    files.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
    Ok(())
}

fn next_step(
    project: &Project,
    decision: &Decision,
    number: u32,
    attempt: u32,
    abandoned: bool,
) -> String {
    let flag = project.lane_flag();
    match decision.outcome {
        Outcome::Keep | Outcome::Discard => format!(
            "record what you learned: `dfh learn {number} \"...\"`, then plan the next experiment with `dfh plan{flag}`"
        ),
        _ if abandoned => format!(
            "experiment {number} failed twice and is abandoned; the editable files are back at the last kept commit. Move on to a different idea: `dfh learn {number} \"...\"`, then `dfh plan{flag}`"
        ),
        _ => format!(
            "apply the one fix above and run `dfh run{flag} --retry` (attempt {} of 2), or plan a different idea with `dfh plan{flag}`",
            attempt + 1
        ),
    }
}

/// Test hook: with `DFH_PAUSE_AT=<stage>`, dfh waits at that stage until it is killed, so the
/// fault-injection tests can kill it at a known point. Stages, in order: `checks`, `commit`,
/// `execute`, `started` (journaled, branch not moved), `launch` (branch moved, nothing
/// running), `collect`, `decide`, `record`, `results` (decided journaled), `hypotheses`
/// (results.tsv written).
fn pause_point(stage: &str) {
    if std::env::var(crate::env::PAUSE_AT).is_ok_and(|value| value == stage) {
        eprintln!("dfh: paused at {stage} (DFH_PAUSE_AT)");
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }
}
