//! `dfh check`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::checks::{self, CheckReport};
use crate::printer::Render;

/// Run every pre-train check on the pending change without training: syntax, the rules of
/// checks/rules.toml over the scripts' constants, the memory estimate, checks/pre_train_check.py.
/// Exit 3 when one fails; the message says what to change and where.
#[derive(Debug, Args)]
pub struct CheckArgs {}

pub fn run(context: &Context, _args: CheckArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let report = checks::pre_train(&project);
    for warning in &report.warnings {
        context.printer.talk(&format!("warning: {warning}"));
    }
    if let Some(refusal) = report.refusal() {
        if context.printer.json {
            context.printer.json_line(&report);
        }
        context
            .printer
            .error(&format!("refused: {}", refusal.message));
        return Ok(ExitCode::from(3));
    }
    context.printer.render(&report);
    Ok(ExitCode::SUCCESS)
}

impl Render for CheckReport {
    fn human(&self) -> String {
        let memory = self
            .memory_estimate_gb
            .map(|estimate| format!(", memory estimate {estimate:.1} GB"))
            .unwrap_or_default();
        format!(
            "checks passed: syntax, {} rules over {} constants{memory}\nnext: `dfh run`",
            self.rules, self.knobs
        )
    }
}
