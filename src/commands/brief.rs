//! `dfh brief [--tokens N]`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::brief::{self, Brief, Input};
use crate::printer::Render;
use crate::project::paths;

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
    // Parsing the tokenizer's table takes longer than reading a long journal: do both at once.
    std::thread::spawn(|| brief::tokens::load().map(|_| ()));
    let project = context.project()?;
    let (state, _) = project.load()?;
    let strategy = std::fs::read_to_string(project.path(paths::STRATEGY)).ok();
    let budget = args.tokens.unwrap_or(project.config.brief.tokens);
    let brief = brief::build(
        &Input {
            state: &state,
            config: &project.config,
            strategy: strategy.as_deref(),
            // The noise floor is not recorded in the journal yet.
            noise_sigma: None,
        },
        budget,
    )?;
    context.printer.render(&brief);
    Ok(ExitCode::SUCCESS)
}

impl Render for Brief {
    fn human(&self) -> String {
        self.text.clone()
    }
}
