//! The lane side of the pipeline: the project lock taken only for moments, the reference a
//! lane's experiment is judged against (the kept experiment it was made on), a winner that
//! another lane superseded meanwhile, and a lane's keep becoming the project's best.

use anyhow::{Context, Result};

use crate::decide::{self, Decision};
use crate::journal::{Outcome, State};
use crate::lock::ProjectLock;
use crate::project::{paths, Project};
use crate::refusal::Refusal;

/// In a lane, the project lock for a moment; the project's own run holds it throughout.
pub(super) fn shared_lock(project: &Project, label: &str) -> Result<Option<ProjectLock>> {
    Ok(match project.lane {
        Some(_) => Some(ProjectLock::acquire(&project.path(paths::LOCK), label)?),
        None => None,
    })
}

/// The kept experiment a lane's change was made on (its worktree's commit), as the reference
/// its result is judged against.
pub(super) fn start(
    state: &State,
    lane: u32,
    parent: &str,
) -> Result<(u32, crate::decide::Reference)> {
    let Some(best) = state.best.as_ref() else {
        return Err(crate::lanes::before_baseline().into());
    };
    let Some(from) = state.kept_at(parent) else {
        return Err(Refusal::new(format!(
            "lane {lane}'s worktree is on {}, which is not a kept experiment; `dfh plan --lane {lane} ...` moves it to the best (#{}), carrying its edits along",
            parent.chars().take(7).collect::<String>(),
            best.experiment
        ))
        .into());
    };
    let runs = from.run_values.len().max(1);
    let mean = if from.number == best.experiment {
        best.value
    } else {
        from.value.unwrap_or(best.value)
    };
    Ok((from.number, crate::decide::Reference { mean, runs }))
}

/// A lane's winner is judged against the best it started from; when another lane found a
/// better best meanwhile, it is not kept (the best line holds one commit at a time) and the
/// reason says so, with its gain, so the idea can be tried again on the new best.
pub(super) fn superseded(
    project: &Project,
    state: &State,
    from: u32,
    value: Option<f64>,
    decision: &mut Decision,
) {
    let (Some(best), Some(value)) = (state.best.as_ref(), value) else {
        return;
    };
    if decision.outcome != Outcome::Keep || best.experiment == from {
        return;
    }
    let goal = project.config.metric.goal;
    if goal.better(value, best.value) {
        decision.reason = format!(
            "{}; also better than #{} ({}), kept by another lane while this one ran, so it is the new best (#{}'s change is not in it)",
            decision.reason,
            best.experiment,
            decide::round(best.value),
            best.experiment
        );
        return;
    }
    *decision = Decision {
        outcome: Outcome::Discard,
        reason: format!(
            "superseded: better than #{from}, which it started from ({}), but #{} reached {} in another lane meanwhile; not kept. Try the change again on the new best",
            decision.reason,
            best.experiment,
            decide::round(best.value)
        ),
    };
}

/// A lane's keep becomes the project's best: the project's branch moves to the experiment's
/// commit and its editable files follow, unless someone edited them there (then a warning).
pub(super) fn promote(project: &Project, state: &State, commit: &str) -> Result<Vec<String>> {
    let main = project.git_in(None);
    let Some(branch) = main.current_branch()? else {
        return Ok(vec![format!(
            "the project's HEAD is detached, so its branch was not moved to the new best; the best is at {commit}"
        )]);
    };
    let editable = &project.config.run.editable;
    let edited: Vec<String> = main
        .status()?
        .into_iter()
        .filter(|change| editable.contains(&change.path))
        .map(|change| change.path)
        .collect();
    if !edited.is_empty() {
        return Ok(vec![format!(
            "{} in the project's own tree has uncommitted edits, so {branch} was not moved to the new best ({}); commit or restore them, then `git reset --keep {commit}`",
            edited.join(", "),
            commit.chars().take(7).collect::<String>()
        )]);
    }
    let expected = main.resolve(&format!("refs/heads/{branch}"))?;
    let previous_best = state.best.as_ref().and_then(|best| best.commit.clone());
    if expected.is_some() && expected != previous_best {
        return Ok(vec![format!(
            "{branch} has moved away from the previous best, so it was not moved to the new best; the best is at {commit} (refs/dfh/exp)"
        )]);
    }
    let reference = format!("refs/heads/{branch}");
    main.update_refs(&[(&reference, commit, expected.as_deref())])
        .context("cannot move the project's branch to the new best")?;
    main.restore_paths(commit, editable)?;
    Ok(Vec::new())
}
