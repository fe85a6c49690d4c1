//! `dfh noise`: re-measure the noise floor on the current best, with `runs` seeds, after a
//! big change of regime. The best's own runs become the reference for later comparisons.

use anyhow::Result;
use serde::Serialize;

use super::runs::{self, RunPlan};
use crate::decide::noise::NoiseFloor;
use crate::executor::Progress;
use crate::journal::{Event, NoiseMeasured};
use crate::lock::ProjectLock;
use crate::project::{now, paths, Project};
use crate::refusal::Refusal;

#[derive(Debug, Clone, Serialize)]
pub struct NoiseOutcome {
    pub experiment: u32,
    pub floor: NoiseFloor,
    pub previous: Option<NoiseFloor>,
    pub failed_runs: usize,
}

pub fn measure(
    project: &Project,
    count: u32,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<NoiseOutcome> {
    let _lock = ProjectLock::hold(&project.path(paths::LOCK), "dfh noise")?;
    let (mut state, _) = project.load()?;
    super::recovery::settle(
        project,
        &mut state,
        "dfh was stopped before the run finished",
    )?;
    let Some(best) = state.best.clone() else {
        return Err(Refusal::new(
            "there is no best yet: run the baseline first (`dfh plan`, `dfh run`)",
        )
        .into());
    };
    let Some(experiment) = state
        .experiments
        .get(&best.experiment)
        .filter(|experiment| !experiment.imported)
    else {
        return Err(Refusal::new(format!(
            "the best, experiment {}, was imported from results.tsv and has no commit dfh can rerun; run a new baseline first",
            best.experiment
        ))
        .into());
    };
    if state.pending().is_some() || state.awaiting_retry().is_some() {
        return Err(Refusal::new(
            "an experiment is planned or awaiting a retry; `dfh noise` reruns the best as it is, so run or abandon that experiment first",
        )
        .into());
    }
    let head = project.git.head_commit()?.unwrap_or_default();
    if experiment.commit.as_deref() != Some(head.as_str()) {
        return Err(Refusal::new(format!(
            "HEAD is not the best's commit (experiment {}); switch back to the branch dfh runs on before measuring noise",
            best.experiment
        ))
        .into());
    }
    let mut args = vec!["diff", "--quiet", "HEAD", "--"];
    args.extend(project.config.run.editable.iter().map(String::as_str));
    if project.git.run(&args).is_err() {
        return Err(Refusal::new(format!(
            "the editable files differ from the best's commit; `dfh noise` must rerun the best unchanged. Restore them with `git checkout -- {}` (or plan and run your change first)",
            project.config.run.editable.join(" ")
        ))
        .into());
    }
    let branch = project.git.current_branch()?.unwrap_or_default();
    let plan = RunPlan {
        experiment: best.experiment,
        attempt: experiment.attempts.max(1),
        commit: &head,
        parent: &head,
        branch: &branch,
        timeout: None,
    };
    let first_index = experiment.logs.len() as u32 + 1;
    let mut values = Vec::new();
    let mut failed_runs = 0;
    for (index, seed) in (first_index..).zip(1..=u64::from(count.max(2))) {
        let record = runs::run_once(project, &plan, index, seed, on_progress)?;
        match record.clean_value() {
            Some(value) => values.push(value),
            None => failed_runs += 1,
        }
    }
    let Some(floor) = NoiseFloor::measure(best.experiment, &values) else {
        return Err(Refusal::new(format!(
            "none of the {count} runs of experiment {} produced the metric; read their logs in {}",
            best.experiment,
            paths::LOGS
        ))
        .into());
    };
    project
        .journal
        .append(&[Event::NoiseMeasured(NoiseMeasured {
            at: now(),
            floor: floor.clone(),
        })])?;
    Ok(NoiseOutcome {
        experiment: best.experiment,
        floor,
        previous: state.noise.clone(),
        failed_runs,
    })
}
