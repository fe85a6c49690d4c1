//! `dfh diag N`.

use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::Context;
use crate::diagnostics::{compare, render_comparison_text, Comparison, MetricsDoc};
use crate::journal::State;
use crate::printer::Render;
use crate::project::Project;
use crate::refusal::Refusal;

/// One run's diagnostics side by side with the best run (or experiment M): every series'
/// final, min and trend, gradient-norm ranges, eval and section values, flags.
#[derive(Debug, Args)]
pub struct DiagArgs {
    /// The experiment number.
    number: u32,
    /// Compare with experiment M instead of the best.
    #[arg(long, value_name = "M")]
    vs: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct DiagView {
    #[serde(flatten)]
    pub comparison: Comparison,
}

pub fn run(context: &Context, args: DiagArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let (state, _) = project.load()?;
    let this = metrics_of(&project, &state, args.number)?;
    let other_number = args.vs.or_else(|| {
        state
            .best
            .as_ref()
            .map(|best| best.experiment)
            .filter(|best| *best != args.number)
    });
    let other = match other_number {
        Some(number) => Some(metrics_of(&project, &state, number)?),
        None => None,
    };
    let comparison = compare(&this, other.as_ref());
    context.printer.render(&DiagView { comparison });
    Ok(ExitCode::SUCCESS)
}

fn metrics_of(project: &Project, state: &State, number: u32) -> anyhow::Result<MetricsDoc> {
    let experiment = state.experiments.get(&number).ok_or_else(|| {
        Refusal::new(format!(
            "there is no experiment {number}; `dfh status` lists the recent ones"
        ))
    })?;
    let path = experiment.metrics.as_ref().ok_or_else(|| {
        Refusal::new(format!(
            "experiment {number} has no diagnostics ({}); diagnostics are written for every run from then on",
            if experiment.imported { "it was imported from results.tsv" } else { "it has not finished a run" }
        ))
    })?;
    Ok(MetricsDoc::read(&project.path(path))?)
}

impl Render for DiagView {
    fn human(&self) -> String {
        render_comparison_text(&self.comparison)
    }
}
