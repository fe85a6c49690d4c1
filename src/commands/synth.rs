//! `dfh synth` (hidden): fills a harnessed project with a synthetic history, for benchmarks.

use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;

use super::Context;
use crate::project::paths;

/// Append a synthetic history of N experiments to this project's journal and hypotheses.md.
#[derive(Debug, Args)]
pub struct SynthArgs {
    /// How many experiments.
    #[arg(long, default_value_t = 1000)]
    experiments: u32,
}

pub fn run(context: &Context, args: SynthArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let (state, _) = project.load()?;
    if !state.experiments.is_empty() {
        return Err(crate::refusal::Refusal::new(
            "this project already has experiments; run `dfh synth` in a freshly initialized project",
        )
        .into());
    }
    let history = crate::synthetic::history(args.experiments);
    let events: Vec<_> = history
        .events
        .into_iter()
        .filter(|event| !matches!(event, crate::journal::Event::Initialized(_)))
        .collect();
    project.journal.append(&events)?;
    std::fs::write(project.path(paths::HYPOTHESES), history.hypotheses)
        .context("cannot write docs/hypotheses.md")?;
    context
        .printer
        .data(&format!("wrote {} synthetic experiments", args.experiments));
    Ok(ExitCode::SUCCESS)
}
