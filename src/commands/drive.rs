//! `dfh loop`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::decide::round;
use crate::driver::lanes::LaneLine;
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
    /// Run K experiments at once, each lane in its own worktree (.dfh/lanes/k) with its own
    /// agent steps; the baseline runs first. --max-experiments counts all lanes together.
    #[arg(long, value_name = "K", value_parser = crate::lanes::parse, conflicts_with = "lane")]
    lanes: Option<u32>,
    /// Run the loop of lane K only (what each of --lanes runs).
    #[arg(long, value_name = "K", value_parser = crate::lanes::parse)]
    lane: Option<u32>,
}

pub fn run(context: &Context, args: LoopArgs) -> anyhow::Result<ExitCode> {
    let project = context.project_in(args.lane)?;
    let forward = forwarded(&args);
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
    let summary = match args.lanes {
        Some(lanes) if lanes > 1 => {
            let fan_out = driver::lanes::FanOut { lanes, forward };
            driver::lanes::fan_out(&project, &options, &fan_out, &mut |line| match line {
                LaneLine::Event(lane, event) => show_lane_event(printer, &metric, lane, &event),
                LaneLine::Text(lane, text) => printer.data(&format!("lane {lane} {text}")),
            })?
        }
        _ => driver::drive(&project, &options, &mut |event| {
            show_event(printer, &metric, &event)
        })?,
    };
    if !printer.json {
        printer.render(&summary);
    }
    Ok(ExitCode::SUCCESS)
}

/// The flags every lane of `--lanes` gets: the agent and the limits other than the count.
fn forwarded(args: &LoopArgs) -> Vec<String> {
    let mut forward = Vec::new();
    if let Some(agent) = &args.agent {
        forward.extend(["--agent".to_string(), agent.clone()]);
    }
    if let Some(preset) = args.preset {
        if let Some(value) = clap::ValueEnum::to_possible_value(&preset) {
            forward.extend(["--preset".to_string(), value.get_name().to_string()]);
        }
    }
    if let Some(hours) = args.hours {
        forward.extend(["--hours".to_string(), hours.to_string()]);
    }
    if let Some(until) = args.until {
        forward.extend(["--until".to_string(), until.to_string()]);
    }
    forward
}

/// A lane's event: with its lane in JSON, after a `lane k` column for a human (0: the
/// baseline, run in the project's own tree before the lanes).
fn show_lane_event(printer: crate::printer::Printer, metric: &str, lane: u32, event: &LoopEvent) {
    if printer.json {
        let mut value = serde_json::to_value(event).unwrap_or_default();
        if let Some(object) = value.as_object_mut() {
            object.insert("lane".into(), lane.into());
        }
        printer.json_line(&value);
        return;
    }
    match event_line(metric, event) {
        Some(line) if lane == 0 => printer.data(&format!("       {line}")),
        Some(line) => printer.data(&format!("lane {lane} {line}")),
        None => {}
    }
}

/// The line a human sees for an event, if it has one.
fn event_line(metric: &str, event: &LoopEvent) -> Option<String> {
    Some(match event {
        LoopEvent::Experiment {
            experiment,
            title,
            status,
            value,
            best,
        } => format!(
            "#{experiment:<3} {status:<8} {metric} {:<9} best {:<9} {title}",
            value.map(round).unwrap_or_else(|| "-".into()),
            best.map(round).unwrap_or_else(|| "-".into()),
        ),
        LoopEvent::Rejected {
            step,
            experiment,
            reason,
        } => format!("#{experiment:<3} rejected {step} step: {reason}"),
        LoopEvent::Refused { experiment, reason } => format!(
            "#{experiment:<3} refused  {}",
            reason.lines().last().unwrap_or_default()
        ),
        LoopEvent::Distilled { after_experiment } => {
            format!("     distilled after experiment {after_experiment}: docs/strategy.md updated")
        }
        LoopEvent::Step { .. } | LoopEvent::Stopped { .. } => return None,
    })
}

/// One line per experiment and per notable step for a human; JSONL with --json. Used by
/// `dfh loop` and `dfh demo`.
pub fn show_event(printer: crate::printer::Printer, metric: &str, event: &LoopEvent) {
    if printer.json {
        printer.json_line(event);
        return;
    }
    match event {
        LoopEvent::Step { step, experiment } => {
            printer.progress(&format!("#{experiment} agent: {step}"))
        }
        LoopEvent::Stopped { .. } => printer.clear_progress(),
        _ => {
            if let Some(line) = event_line(metric, event) {
                printer.data(&line);
            }
        }
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
