//! `dfh plan`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::method::planning::{self, PlanRequest, Planned};
use crate::printer::Render;

/// Write the hypothesis of the next experiment before any code changes. `--inspired-by`
/// must cite a paper summary under docs/, a recorded experiment or docs/strategy.md.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A short title: "Deeper energy head".
    #[arg(long)]
    title: String,
    /// What you expect to happen and why.
    #[arg(long)]
    hypothesis: String,
    /// The predicted outcome, with the metric's value: "val_bpb ~0.985".
    #[arg(long)]
    expected: String,
    /// What motivates it: docs/papers/x.md, "Experiment 9", docs/strategy.md (repeatable).
    #[arg(long = "inspired-by", required = true, value_name = "REF")]
    inspired_by: Vec<String>,
    /// What could go wrong.
    #[arg(long)]
    risk: Option<String>,
    /// A tag for the research direction, e.g. "optimizer" or "energy-head".
    #[arg(long)]
    direction: Option<String>,
    /// Why this differs from an earlier experiment that tried the same change.
    #[arg(long)]
    again: Option<String>,
    /// Plan for lane K: creates its worktree (.dfh/lanes/K) or moves it to the current best.
    #[arg(long, value_name = "K", value_parser = crate::lanes::parse)]
    lane: Option<u32>,
}

pub fn run(context: &Context, args: PlanArgs) -> anyhow::Result<ExitCode> {
    let project = context.project_in(args.lane)?;
    let request = PlanRequest {
        title: args.title,
        hypothesis: args.hypothesis,
        expected: args.expected,
        inspired_by: args.inspired_by.join("; "),
        risk: args.risk,
        direction: args.direction,
        again: args.again,
    };
    let planned = planning::plan(&project, &request)?;
    for warning in &planned.warnings {
        context.printer.talk(&format!("warning: {warning}"));
    }
    context.printer.render(&planned);
    Ok(ExitCode::SUCCESS)
}

impl Render for Planned {
    fn human(&self) -> String {
        let mut lines = vec![format!(
            "planned experiment {}: {} (docs/hypotheses.md:{})",
            self.experiment, self.title, self.line
        )];
        if let Some(abandoned) = self.abandoned {
            lines.push(format!(
                "experiment {abandoned} is abandoned; the editable files are back at the last kept commit"
            ));
        }
        match &self.lane {
            Some(lane) => lines.push(format!(
                "next: implement it in the editable files in {}, then `dfh run --lane {}`",
                lane.path, lane.lane
            )),
            None => lines.push("next: implement it in the editable files, then `dfh run`".into()),
        }
        lines.join("\n")
    }
}
