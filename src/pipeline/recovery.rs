//! Settling a run that an earlier dfh left unfinished (it was killed, or the machine went
//! down): stop its training group if it is still alive, record `interrupted`, and put the
//! branch back where it was before the experiment. The experiment's code stays in the
//! working tree and at refs/dfh/exp/N, so nothing is lost and it can simply run again.
//!
//! A dfh stopped after journaling a decision but before writing results.tsv and
//! docs/hypotheses.md leaves `record::MARKER`; the next command writes what is missing.

use std::time::Duration;

use anyhow::Result;

use super::record::{self, Record, Recording};
use crate::crash::{Diagnosis, PatternSource};
use crate::executor::process;
use crate::journal::{Decided, Event, Interrupted, Started, State};
use crate::project::{now, Project};

/// What was settled, for the message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Settled {
    pub experiment: u32,
    pub killed_pid: Option<u32>,
    pub branch_restored: bool,
}

/// Settles the runs whose harness is gone. The caller holds the project lock, so the dfh that
/// wrote a `started` in the project's own tree cannot still be running; a lane's run is settled
/// only when its lane lock is free (its dfh is gone), and runs on otherwise.
pub fn settle(project: &Project, state: &mut State, reason: &str) -> Result<Option<Settled>> {
    settle_runs(project, state, reason, None)
}

/// As `settle`, for a caller that also holds its lane's lock: that lane's run is its own
/// predecessor's and is settled too.
pub fn settle_own(project: &Project, state: &mut State, reason: &str) -> Result<Option<Settled>> {
    settle_runs(project, state, reason, project.lane)
}

fn settle_runs(
    project: &Project,
    state: &mut State,
    reason: &str,
    own_lane: Option<u32>,
) -> Result<Option<Settled>> {
    complete_record(project, state)?;
    let mut settled = None;
    if let Some(started) = state.running.clone() {
        settled = Some(settle_one(project, state, &started, reason)?);
    }
    for (lane, started) in state.lanes.clone() {
        let _held = if own_lane == Some(lane) {
            None
        } else {
            match orphaned(project, lane) {
                Some(held) => Some(held),
                // Its dfh is alive and running it.
                None => continue,
            }
        };
        let one = settle_one(project, state, &started, reason)?;
        settled.get_or_insert(one);
    }
    Ok(settled)
}

/// Lane `lane`'s lock, when no dfh holds it: its run in the journal has no harness left.
pub fn orphaned(project: &Project, lane: u32) -> Option<crate::lock::ProjectLock> {
    crate::lock::ProjectLock::try_take(&crate::lanes::lock_path(&project.root, lane))
}

fn settle_one(
    project: &Project,
    state: &mut State,
    started: &Started,
    reason: &str,
) -> Result<Settled> {
    let started = started.clone();
    let killed_pid = stop_child(&started);
    let branch_restored = restore_branch(project, &started)?;
    let event = Event::Interrupted(Interrupted {
        at: now(),
        experiment: started.experiment,
        attempt: started.attempt,
        reason: reason.into(),
    });
    project.journal.append(std::slice::from_ref(&event))?;
    state.apply(&event);
    Ok(Settled {
        experiment: started.experiment,
        killed_pid,
        branch_restored,
    })
}

fn stop_child(started: &Started) -> Option<u32> {
    if let Some(job_id) = &started.job_id {
        // A Slurm job outlives dfh: cancel it (a job that has ended already is unaffected).
        crate::executor::slurm::scheduler::cancel(job_id);
    }
    let pid = started.child_pid?;
    let alive = process::alive(pid as i32, started.child_start)
        || !process::group_members(pid as i32).is_empty();
    if !alive {
        return None;
    }
    process::stop_group(pid as i32, Duration::from_secs(3));
    Some(pid)
}

/// Moves the branch back to the experiment's parent when it still points at the experiment.
pub fn restore_branch(project: &Project, started: &Started) -> Result<bool> {
    let reference = format!("refs/heads/{}", started.branch);
    let tip = project.git.resolve(&reference)?;
    if tip.as_deref() != Some(started.commit.as_str()) {
        return Ok(false);
    }
    project
        .git
        .update_refs(&[(&reference, &started.parent, Some(&started.commit))])?;
    // The index to reset is the tree's that ran it: the project's or its lane's worktree.
    project
        .git_in(started.lane)
        .reset_index_paths(&project.config.run.editable)?;
    Ok(true)
}

/// Completes a record that an earlier dfh left half written (see `record::MARKER`): the
/// results.tsv row and the `### Result` block, each only when missing. Returns what was done.
pub fn complete_record(project: &Project, state: &State) -> Result<Option<String>> {
    let Some(recording) = record::pending(project) else {
        return Ok(None);
    };
    let loaded = project.journal.load()?;
    let found = loaded
        .events
        .iter()
        .enumerate()
        .rev()
        .find_map(|(index, event)| match event {
            Event::Decided(decided) if same(&recording, decided) => Some((index, decided)),
            _ => None,
        });
    let Some((index, decided)) = found else {
        // Stopped before the decision was journaled: the run is settled as interrupted.
        record::end(project)?;
        return Ok(None);
    };
    let abandoned = loaded.events[index + 1..].iter().any(
        |event| matches!(event, Event::Abandoned(gone) if gone.experiment == decided.experiment),
    );
    let experiment = state.experiments.get(&decided.experiment);
    let title = experiment
        .map(|experiment| experiment.title.as_str())
        .unwrap_or_default();
    let direction = experiment
        .and_then(|experiment| experiment.direction())
        .unwrap_or_default();
    let diagnosis = decided.crash_class.as_ref().map(|class| Diagnosis {
        class: class.clone(),
        cause: decided.reason.clone(),
        evidence: String::new(),
        location: None,
        fix: decided.fix.clone().unwrap_or_default(),
        pattern_source: PatternSource::None,
    });
    let entry = Record {
        experiment: decided.experiment,
        title,
        direction,
        commit: &decided.commit,
        outcome: decided.outcome,
        value: decided.value,
        best_before: decided.best_before,
        seconds: decided.seconds,
        memory_gb: decided.memory_gb,
        metrics: decided.metrics.as_deref(),
        flags: &decided.flags,
        diagnosis: diagnosis.as_ref(),
        last: !decided.outcome.failed() || abandoned,
        abandoned,
    };
    let mut done = Vec::new();
    if !has_row(project, decided) {
        record::results_row(project, &entry)?;
        done.push("its results.tsv row");
    }
    if entry.last && record::hypothesis_result(project, &entry)?.is_none() {
        done.push("its result in docs/hypotheses.md");
    }
    record::end(project)?;
    Ok((!done.is_empty()).then(|| {
        format!(
            "experiment {} was decided but an earlier dfh stopped before recording it: wrote {}",
            decided.experiment,
            done.join(" and ")
        )
    }))
}

fn same(recording: &Recording, decided: &Decided) -> bool {
    decided.experiment == recording.experiment && decided.commit == recording.commit
}

/// True when results.tsv has the row of this decision (its experiment and short commit).
fn has_row(project: &Project, decided: &Decided) -> bool {
    let short: String = decided.commit.chars().take(7).collect();
    let experiment = decided.experiment.to_string();
    std::fs::read_to_string(project.path(crate::project::paths::RESULTS))
        .unwrap_or_default()
        .lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .any(|cells| {
            cells.first() == Some(&short.as_str()) && cells.get(5) == Some(&experiment.as_str())
        })
}
