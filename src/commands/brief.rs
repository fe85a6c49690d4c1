//! `dfh brief [--tokens N]`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::brief::{self, Brief};
use crate::printer::Render;

/// The agent's entire context for its next step, within a token budget: what to do next,
/// the goal and best, the strategy's priorities, the last experiments, the most productive
/// directions and code regions, recent learnings and open failures. Run it first in every
/// step instead of reading results.tsv, logs or git history.
#[derive(Debug, Args)]
pub struct BriefArgs {
    /// The token budget (o200k_base tokens); default `[brief] tokens` in dfh.toml.
    #[arg(long, value_name = "N")]
    tokens: Option<usize>,
}

pub fn run(context: &Context, args: BriefArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let budget = args.tokens.unwrap_or(project.config.brief.tokens);
    let brief = brief::for_project(&project, budget)?;
    context.printer.render(&brief);
    Ok(ExitCode::SUCCESS)
}

impl Render for Brief {
    fn human(&self) -> String {
        self.text.clone()
    }
}
