//! `dfh run`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::decide::round;
use crate::executor::Progress;
use crate::pipeline::{self, RunOptions, RunOutcome};
use crate::printer::Render;

/// Run the pending experiment: checks, commit, train within the budget, keep or discard,
/// record. Exit 3 when a check refuses (the message says what to change).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Override the hard timeout of dfh.toml for this run, e.g. "15m".
    #[arg(long, value_parser = crate::config::parse_duration)]
    timeout: Option<std::time::Duration>,
    /// Rerun the experiment that crashed or timed out, after applying the fix (once).
    #[arg(long)]
    retry: bool,
    /// Run lane K's pending experiment in its worktree (.dfh/lanes/K) while other lanes run.
    #[arg(long, value_name = "K", value_parser = crate::lanes::parse)]
    lane: Option<u32>,
}

pub fn run(context: &Context, args: RunArgs) -> anyhow::Result<ExitCode> {
    let project = context.project_in(args.lane)?;
    let options = RunOptions {
        timeout: args.timeout,
        retry: args.retry,
    };
    let printer = context.printer;
    let outcome = pipeline::run_experiment(&project, &options, &mut |progress| {
        if let Progress::Tick { elapsed, last_line } = progress {
            printer.progress(&format!("[{:>4}s] {last_line}", elapsed.as_secs()));
        }
    });
    printer.clear_progress();
    let outcome = outcome?;
    printer.render(&outcome);
    Ok(ExitCode::SUCCESS)
}

impl Render for RunOutcome {
    fn human(&self) -> String {
        let value = self.value.map(round).unwrap_or_else(|| "none".into());
        let best = match self.best_before {
            Some(best) => format!(" (best before: {})", round(best)),
            None => String::new(),
        };
        let attempt = if self.attempt > 1 {
            format!(" attempt {}", self.attempt)
        } else {
            String::new()
        };
        let mut lines = vec![
            format!(
                "experiment {}{attempt} {}: {} {value}{best} · {:.0} s",
                self.experiment,
                self.status.as_str(),
                self.metric,
                self.seconds
            ),
            format!("why: {}", self.reason),
        ];
        if self.runs.len() > 1 {
            let values: Vec<String> = self
                .runs
                .iter()
                .map(|value| value.map(round).unwrap_or_else(|| "none".into()))
                .collect();
            lines.push(format!(
                "runs: {} (seeds 1..{})",
                values.join(", "),
                self.runs.len()
            ));
        }
        if let Some(diagnosis) = &self.diagnosis {
            lines.push(format!("crash: {} — {}", diagnosis.class, diagnosis.cause));
            if let Some(location) = &diagnosis.location {
                lines.push(format!(
                    "at: {}:{}: {}",
                    location.file,
                    location.line,
                    location.source.trim()
                ));
            }
            lines.push(format!("fix: {}", diagnosis.fix));
        }
        for flag in &self.flags {
            lines.push(format!("flag: {flag}"));
        }
        if !self.regions.is_empty() {
            lines.push(format!("changed: {}", self.regions.join(", ")));
        }
        for tried in &self.tried {
            lines.push(format!("tried before: {tried}"));
        }
        for warning in &self.warnings {
            lines.push(format!("warning: {warning}"));
        }
        let mut files = format!("log: {}", self.log);
        if let Some(metrics) = &self.metrics {
            files.push_str(&format!(
                " · diagnostics: {metrics} (`dfh diag {}`)",
                self.experiment
            ));
        }
        lines.push(files);
        lines.push(format!("next: {}", self.next));
        lines.join("\n")
    }
}
