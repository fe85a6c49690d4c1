//! `dfh distill [--done]`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::distill::{self, Closed, Opened};
use crate::printer::Render;

/// Step back from the experiments: rewrite the auto section of docs/strategy.md with the
/// figures of the whole history and print the synthesis task. Due every `[distill] every`
/// experiments; `dfh plan` and `dfh run` wait for it. With --done, check that the agent
/// sections were updated and close the distillation.
#[derive(Debug, Args)]
pub struct DistillArgs {
    /// Close the open distillation once docs/strategy.md's sections are updated.
    #[arg(long)]
    done: bool,
}

pub fn run(context: &Context, args: DistillArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    if args.done {
        let closed = distill::done(&project)?;
        context.printer.render(&closed);
    } else {
        let opened = distill::open(&project)?;
        context.printer.render(&opened);
    }
    Ok(ExitCode::SUCCESS)
}

impl Render for Opened {
    fn human(&self) -> String {
        let mut lines = vec![format!(
            "distillation {} after experiment {}: docs/strategy.md lines {}–{} (the dfh:auto section) hold the figures of {} experiments ({} kept, {} crashed)",
            if self.reopened { "refreshed" } else { "open" },
            self.after_experiment,
            self.auto_lines.0,
            self.auto_lines.1,
            self.finished,
            self.kept,
            self.crashed
        )];
        lines.push("Read that section, then synthesize: update these sections of docs/strategy.md (outside the markers), driven by these figures:".into());
        for task in &self.task {
            lines.push(task.section.clone());
            for figure in &task.figures {
                lines.push(format!("  - {figure}"));
            }
        }
        lines.push("next: `dfh distill --done` once they are updated (Priorities at least)".into());
        lines.join("\n")
    }
}

impl Render for Closed {
    fn human(&self) -> String {
        let mut lines = vec![format!(
            "distilled after experiment {}: `dfh plan` and `dfh run` may go on; docs/strategy.md#priorities can be cited",
            self.after_experiment
        )];
        if !self.empty_sections.is_empty() {
            lines.push(format!(
                "still empty: {} — fill them at the next distillation",
                self.empty_sections.join(", ")
            ));
        }
        lines.push("next: `dfh brief`".into());
        lines.join("\n")
    }
}
