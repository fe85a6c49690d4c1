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
}

pub fn run(context: &Context, args: RunArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
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
        format!(
            "experiment {}{attempt} {}: {} {value}{best} · {:.0} s\nwhy: {}\nlog: {}\nnext: {}",
            self.experiment,
            self.status.as_str(),
            self.metric,
            self.seconds,
            self.reason,
            self.log,
            self.next
        )
    }
}
