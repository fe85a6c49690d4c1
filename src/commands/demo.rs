//! `dfh demo` and the hidden `dfh demo-agent`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::Context;
use crate::decide::round;

/// A complete night on a built-in CPU project in about a minute: a baseline, grounded
/// hypotheses, keeps and discards, a crash diagnosed and retried, a configuration error caught
/// before training, a rule break undone, a distillation — then the morning report.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to create the project (new or empty); default: a new temp directory.
    dir: Option<PathBuf>,
    /// How many experiments the night runs.
    #[arg(long, default_value_t = 13)]
    experiments: u32,
}

/// One step of the demo's scripted agent (run by `dfh loop`, not by people).
#[derive(Debug, Args)]
pub struct DemoAgentArgs {}

pub fn run(context: &Context, args: DemoArgs) -> anyhow::Result<ExitCode> {
    let dir = match args.dir {
        Some(dir) => context.dir.join(dir),
        None => crate::demo::fresh_dir()?,
    };
    let printer = context.printer;
    printer.talk(&format!("demo project: {}", dir.display()));
    let outcome = crate::demo::run(&dir, args.experiments, &mut |event| {
        super::drive::show_event(printer, "val_loss", &event)
    })?;
    if printer.json {
        printer.json_line(&serde_json::json!({
            "type": "demo",
            "dir": outcome.dir,
            "report": outcome.report,
            "experiments": outcome.summary.experiments,
            "best": outcome.summary.best,
        }));
    } else {
        printer.data(&format!(
            "{} experiments, best val_loss {}\nreport: {}\nproject: {} (try `dfh status`, `dfh brief`, `dfh show 2 --diff` there)",
            outcome.summary.experiments,
            outcome.summary.best.map(round).unwrap_or_else(|| "none".into()),
            outcome.report.display(),
            outcome.dir.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn run_agent(context: &Context, _args: DemoAgentArgs) -> anyhow::Result<ExitCode> {
    crate::demo::agent::step(&context.dir)?;
    Ok(ExitCode::SUCCESS)
}
