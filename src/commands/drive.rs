//! `dfh loop`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::decide::round;
use crate::driver::{self, LoopEvent, LoopOptions, LoopSummary, Preset};
use crate::printer::Render;

/// Driver mode: dfh runs the loop and calls the agent only to think — plan, fix, retry,
/// learn, distill — each step in a fresh context built from `dfh brief`. It runs, keeps or
/// discards and records every experiment itself. `.dfh/stop` or Ctrl-C ends it after the
/// current step; the same command resumes it.
#[derive(Debug, Args)]
pub struct LoopArgs {
    /// The agent command; each step's prompt arrives on its stdin (and in $DFH_PROMPT_FILE).
    #[arg(long, conflicts_with = "preset")]
    agent: Option<String>,
    /// A known agent, started non-interactively (see the README for the permissions each gets).
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// Stop after this many experiments.
    #[arg(long, value_name = "N")]
    max_experiments: Option<u32>,
    /// Stop after this many hours.
    #[arg(long, value_name = "H")]
    hours: Option<f64>,
    /// Stop once the best reaches this value of the metric.
    #[arg(long, value_name = "METRIC_VALUE")]
    until: Option<f64>,
}

pub fn run(context: &Context, args: LoopArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let agent = driver::agent_from(&project, args.agent, args.preset)?;
    let step_timeout = crate::config::parse_duration(&project.config.agent.timeout)
        .unwrap_or(std::time::Duration::from_secs(1800));
    let options = LoopOptions {
        agent,
        max_experiments: args.max_experiments,
        hours: args.hours,
        until: args.until,
        step_timeout: if project.config.agent.timeout.trim().is_empty() {
            std::time::Duration::from_secs(1800)
        } else {
            step_timeout
        },
    };
    let printer = context.printer;
    let metric = project.config.metric.name.clone();
    let summary = driver::drive(&project, &options, &mut |event| {
        show_event(printer, &metric, &event)
    })?;
    if !printer.json {
        printer.render(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per experiment and per notable step for a human; JSONL with --json. Used by
/// `dfh loop` and `dfh demo`.
pub fn show_event(printer: crate::printer::Printer, metric: &str, event: &LoopEvent) {
    if printer.json {
        printer.json_line(event);
        return;
    }
    match event {
        LoopEvent::Experiment {
            experiment,
            title,
            status,
            value,
            best,
        } => printer.data(&format!(
            "#{experiment:<3} {status:<8} {metric} {:<9} best {:<9} {title}",
            value.map(round).unwrap_or_else(|| "-".into()),
            best.map(round).unwrap_or_else(|| "-".into()),
        )),
        LoopEvent::Rejected {
            step,
            experiment,
            reason,
        } => printer.data(&format!("#{experiment:<3} rejected {step} step: {reason}")),
        LoopEvent::Refused { experiment, reason } => printer.data(&format!(
            "#{experiment:<3} refused  {}",
            reason.lines().last().unwrap_or_default()
        )),
        LoopEvent::Distilled { after_experiment } => printer.data(&format!(
            "     distilled after experiment {after_experiment}: docs/strategy.md updated"
        )),
        LoopEvent::Step { step, experiment } => {
            printer.progress(&format!("#{experiment} agent: {step}"))
        }
        LoopEvent::Stopped { .. } => printer.clear_progress(),
    }
}

impl Render for LoopSummary {
    fn human(&self) -> String {
        format!(
            "loop stopped: {} ({} experiments this session, best {})\nnext: `dfh report` for the morning read",
            self.reason,
            self.experiments,
            self.best.map(round).unwrap_or_else(|| "none".into())
        )
    }
}
