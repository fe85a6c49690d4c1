//! Settling a run that an earlier dfh left unfinished (it was killed, or the machine went
//! down): stop its training group if it is still alive, record `interrupted`, and put the
//! branch back where it was before the experiment. The experiment's code stays in the
//! working tree and at refs/dfh/exp/N, so nothing is lost and it can simply run again.

use std::time::Duration;

use anyhow::Result;

use crate::executor::process;
use crate::journal::{Event, Interrupted, Started, State};
use crate::project::{now, Project};

/// What was settled, for the message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Settled {
    pub experiment: u32,
    pub killed_pid: Option<u32>,
    pub branch_restored: bool,
}

/// Settles `state.running` when its harness is gone. The caller holds the project lock, so
/// the dfh that wrote `started` cannot still be running.
pub fn settle(project: &Project, state: &mut State, reason: &str) -> Result<Option<Settled>> {
    let Some(started) = state.running.clone() else {
        return Ok(None);
    };
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
    Ok(Some(Settled {
        experiment: started.experiment,
        killed_pid,
        branch_restored,
    }))
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
    project
        .git
        .reset_index_paths(&project.config.run.editable)?;
    Ok(true)
}
