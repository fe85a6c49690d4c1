//! `dfh show N`.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use serde::Serialize;

use super::Context;
use crate::decide::round;
use crate::journal::Experiment;
use crate::printer::Render;
use crate::refusal::Refusal;

/// One experiment's record: hypothesis, result, learning; with --diff, its change against
/// the kept parent (also for discarded experiments, from refs/dfh/exp/N).
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The experiment number.
    number: u32,
    /// Include the diff of the editable files.
    #[arg(long)]
    diff: bool,
}

#[derive(Debug, Serialize)]
pub struct ShowView {
    /// keep, discard, crash, timeout, pending, running, abandoned, or an imported spelling.
    pub status: String,
    #[serde(flatten)]
    pub experiment: Experiment,
    pub metric: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

pub fn run(context: &Context, args: ShowArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let (state, _) = project.load()?;
    let Some(experiment) = state.experiments.get(&args.number).cloned() else {
        let range = match (
            state.experiments.keys().next(),
            state.experiments.keys().next_back(),
        ) {
            (Some(first), Some(last)) => format!("experiments are numbered {first} to {last}"),
            _ => "no experiment is recorded yet".into(),
        };
        return Err(
            Refusal::new(format!("there is no experiment {}; {range}", args.number)).into(),
        );
    };
    let diff = if args.diff {
        Some(diff_of(&project, &experiment)?)
    } else {
        None
    };
    let status = experiment
        .status_text
        .clone()
        .unwrap_or_else(|| experiment.phase.label().to_string());
    let view = ShowView {
        status,
        experiment,
        metric: project.config.metric.name,
        diff,
    };
    context.printer.render(&view);
    Ok(ExitCode::SUCCESS)
}

fn diff_of(project: &crate::project::Project, experiment: &Experiment) -> anyhow::Result<String> {
    let reference = format!("refs/dfh/exp/{}", experiment.number);
    let commit = match project.git.resolve(&reference)? {
        Some(commit) => commit,
        None => {
            return Ok(format!(
                "(no commit: experiment {} {})",
                experiment.number,
                if experiment.imported {
                    "was imported from results.tsv"
                } else {
                    "has not run"
                }
            ))
        }
    };
    let parent = match &experiment.parent {
        Some(parent) => parent.clone(),
        None => format!("{commit}^"),
    };
    project
        .git
        .diff(&parent, &commit, &project.config.run.editable)
        .context("cannot compute the experiment's diff")
}

impl Render for ShowView {
    fn human(&self) -> String {
        let experiment = &self.experiment;
        let mut lines = vec![format!(
            "experiment {}: {} [{}]",
            experiment.number,
            experiment.title,
            experiment
                .status_text
                .clone()
                .unwrap_or_else(|| experiment.phase.label().into())
        )];
        if let Some(plan) = &experiment.plan {
            lines.push(format!("hypothesis: {}", plan.hypothesis));
            lines.push(format!("expected: {}", plan.expected));
            lines.push(format!("inspired by: {}", plan.inspired_by));
            if let Some(direction) = &plan.direction {
                lines.push(format!("direction: {direction}"));
            }
        }
        if experiment.value.is_some() || experiment.seconds.is_some() {
            lines.push(format!(
                "result: {} {}{}{}",
                self.metric,
                experiment.value.map(round).unwrap_or_else(|| "none".into()),
                experiment
                    .best_before
                    .map(|best| format!(" (best before: {})", round(best)))
                    .unwrap_or_default(),
                experiment
                    .seconds
                    .map(|seconds| format!(" · {seconds:.0} s"))
                    .unwrap_or_default()
            ));
        }
        if let Some(reason) = &experiment.reason {
            lines.push(format!("why: {reason}"));
        }
        if let Some(commit) = &experiment.commit {
            lines.push(format!("commit: {commit}"));
        }
        if let Some(learning) = &experiment.learning {
            lines.push(format!("learning: {learning}"));
        }
        if let Some(diff) = &self.diff {
            lines.push(String::new());
            lines.push(diff.trim_end().to_string());
        }
        lines.join("\n")
    }
}
