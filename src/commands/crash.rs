//! `dfh crash` and `dfh crash learn`.

use std::io::Read;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::Context;
use crate::crash::{self, Diagnosis, ExitInfo};
use crate::journal::Event;
use crate::logscan;
use crate::printer::Render;
use crate::project::{paths, Project};
use crate::refusal::Refusal;

/// Classify a traceback and give ONE fix: from FILE, from stdin with `-`, or from the last
/// run's log when no argument is given.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct CrashArgs {
    /// A log or traceback file, or `-` for stdin.
    file: Option<String>,
    #[command(subcommand)]
    command: Option<CrashCommand>,
}

#[derive(Debug, Subcommand)]
enum CrashCommand {
    Learn(LearnArgs),
}

/// Teach the advisor a failure pattern: appended to checks/failures.toml, tried before the
/// built-in patterns from then on.
#[derive(Debug, Args)]
struct LearnArgs {
    /// The failure class (one of the advisor's classes, e.g. oom_gpu, shape_mismatch).
    #[arg(long)]
    class: String,
    /// A regex on the error message that captures what the error means.
    #[arg(long)]
    pattern: String,
    /// The one fix to suggest when it matches.
    #[arg(long)]
    fix: String,
    /// An experiment whose log the pattern must match.
    #[arg(long, value_name = "N")]
    from: Option<u32>,
}

pub fn run(context: &Context, args: CrashArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    if let Some(CrashCommand::Learn(learn)) = args.command {
        return learn_pattern(context, &project, learn);
    }
    let (text, exit, source) = match args.file.as_deref() {
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read stdin")?;
            (text, ExitInfo::default(), "stdin".to_string())
        }
        Some(file) => {
            let path = context.dir.join(file);
            let text = logscan::tail(&path).with_context(|| format!("cannot read {file}"))?;
            (text, ExitInfo::default(), file.to_string())
        }
        None => last_log(&project)?,
    };
    let db = crash::project::pattern_db(&project)?;
    let diagnosis = crash::project::diagnose_for(&project, &db, &text, &exit);
    context.printer.render(&CrashView { source, diagnosis });
    Ok(ExitCode::SUCCESS)
}

/// The newest run log in the journal with the way its process ended.
fn last_log(project: &Project) -> anyhow::Result<(String, ExitInfo, String)> {
    let (_, loaded) = project.load_events()?;
    let finished = loaded.events.iter().rev().find_map(|event| match event {
        Event::Finished(finished) => Some(finished.clone()),
        _ => None,
    });
    let Some(finished) = finished else {
        return Err(Refusal::new(
            "no run has finished yet; give a log file (`dfh crash train.log`) or pipe a traceback (`dfh crash -`)",
        )
        .into());
    };
    let text = logscan::tail(&project.path(&finished.log))
        .with_context(|| format!("cannot read {}", finished.log))?;
    let exit = ExitInfo {
        code: finished.exit_code,
        signal: finished.signal,
        timed_out: finished.timed_out,
    };
    Ok((
        text,
        exit,
        format!("{} (experiment {})", finished.log, finished.experiment),
    ))
}

fn learn_pattern(
    context: &Context,
    project: &Project,
    args: LearnArgs,
) -> anyhow::Result<ExitCode> {
    let sample = match args.from {
        Some(number) => {
            let (state, _) = project.load()?;
            let log = state
                .experiments
                .get(&number)
                .and_then(|experiment| experiment.logs.last().cloned())
                .ok_or_else(|| {
                    Refusal::new(format!(
                        "experiment {number} has no log; pick one that ran (`dfh status`)"
                    ))
                })?;
            Some(logscan::tail(&project.path(&log)).with_context(|| format!("cannot read {log}"))?)
        }
        None => None,
    };
    let path = project.path(paths::FAILURES);
    let existing = std::fs::read_to_string(&path).unwrap_or_default();
    let updated = crash::learn(
        &existing,
        &args.class,
        &args.pattern,
        &args.fix,
        sample.as_deref(),
    )
    .map_err(|error| Refusal::new(error.to_string()))?;
    std::fs::write(&path, updated).with_context(|| format!("cannot write {}", path.display()))?;
    let view = LearnedView {
        class: args.class,
        pattern: args.pattern,
        file: paths::FAILURES.into(),
        from: args.from,
    };
    context.printer.render(&view);
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, Serialize)]
pub struct CrashView {
    pub source: String,
    #[serde(flatten)]
    pub diagnosis: Diagnosis,
}

impl Render for CrashView {
    fn human(&self) -> String {
        let diagnosis = &self.diagnosis;
        let mut lines = vec![format!("{}: {}", diagnosis.class, diagnosis.cause)];
        if let Some(location) = &diagnosis.location {
            lines.push(format!(
                "at: {}:{}: {}",
                location.file,
                location.line,
                location.source.trim()
            ));
        }
        lines.push(format!("fix: {}", diagnosis.fix));
        lines.join("\n")
    }
}

#[derive(Debug, Serialize)]
pub struct LearnedView {
    pub class: String,
    pub pattern: String,
    pub file: String,
    pub from: Option<u32>,
}

impl Render for LearnedView {
    fn human(&self) -> String {
        let checked = self
            .from
            .map(|number| format!("; it matches the log of experiment {number}"))
            .unwrap_or_default();
        format!("learned a {} pattern in {}{checked}", self.class, self.file)
    }
}
