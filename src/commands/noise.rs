//! `dfh noise`.

use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::decide::round;
use crate::executor::Progress;
use crate::pipeline::noise::{self, NoiseOutcome};
use crate::printer::Render;

/// Re-measure the noise floor on the current best: rerun it with K seeds (DFH_SEED) and use
/// its runs as the reference from now on. Do it after a big change of regime.
#[derive(Debug, Args)]
pub struct NoiseArgs {
    /// How many runs (default: [metric] repeats).
    #[arg(long, value_name = "K")]
    runs: Option<u32>,
}

pub fn run(context: &Context, args: NoiseArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    let count = args.runs.unwrap_or(project.config.metric.repeats);
    let printer = context.printer;
    let outcome = noise::measure(&project, count, &mut |progress| {
        if let Progress::Tick { elapsed, last_line } = progress {
            printer.progress(&format!("[{:>4}s] {last_line}", elapsed.as_secs()));
        }
    });
    printer.clear_progress();
    let outcome = outcome?;
    if outcome.floor.sigma == 0.0 {
        printer.talk("warning: σ = 0: the script ignores DFH_SEED, so noise cannot be told from gains. Seed every random generator from os.environ[\"DFH_SEED\"]");
    }
    printer.render(&outcome);
    Ok(ExitCode::SUCCESS)
}

impl Render for NoiseOutcome {
    fn human(&self) -> String {
        let values: Vec<String> = self
            .floor
            .values
            .iter()
            .map(|value| round(*value))
            .collect();
        let previous = self
            .previous
            .as_ref()
            .map(|floor| format!(" (was σ = {} on #{})", round(floor.sigma), floor.experiment))
            .unwrap_or_default();
        format!(
            "{} on experiment {}{previous}: mean {} over {}\nnext: `dfh status`",
            self.floor.describe(),
            self.experiment,
            round(self.floor.mean),
            values.join(", ")
        )
    }
}
