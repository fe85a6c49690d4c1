//! The command-line surface: one file per verb, one dispatch `match`, one error policy.

mod brief;
mod check;
mod crash;
mod demo;
mod diag;
mod distill;
mod drive;
mod guard;
mod init;
mod learn;
mod mcp;
mod noise;
mod plan;
mod report;
mod run;
mod show;
mod status;
mod synth;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::printer::Printer;
use crate::refusal::Refusal;

/// dfh — the Dark Factory Harness: autonomous ML research, one grounded experiment at a time.
#[derive(Debug, Parser)]
#[command(name = "dfh", version, about, max_term_width = 100)]
pub struct Cli {
    /// Output machine-readable JSON on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Print only results and errors.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Run as if dfh was started in DIR.
    #[arg(short = 'C', long = "directory", global = true, value_name = "DIR")]
    directory: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(init::InitArgs),
    Plan(plan::PlanArgs),
    Run(run::RunArgs),
    Learn(learn::LearnArgs),
    Check(check::CheckArgs),
    Crash(crash::CrashArgs),
    Diag(diag::DiagArgs),
    Noise(noise::NoiseArgs),
    Status(status::StatusArgs),
    Show(show::ShowArgs),
    Mcp(mcp::McpArgs),
    Guard(guard::GuardArgs),
    Distill(distill::DistillArgs),
    Brief(brief::BriefArgs),
    Report(report::ReportArgs),
    Loop(drive::LoopArgs),
    Demo(demo::DemoArgs),
    #[command(hide = true, name = "demo-agent")]
    DemoAgent(demo::DemoAgentArgs),
    #[command(hide = true)]
    Synth(synth::SynthArgs),
}

/// What every command receives.
pub struct Context {
    pub printer: Printer,
    pub dir: PathBuf,
}

impl Context {
    pub fn project(&self) -> anyhow::Result<crate::project::Project> {
        Ok(crate::project::Project::open(&self.dir)?)
    }

    /// The project, working in `lane` when one is given (else as found: a lane worktree or
    /// `DFH_LANE` picks one).
    pub fn project_in(&self, lane: Option<u32>) -> anyhow::Result<crate::project::Project> {
        let project = self.project()?;
        Ok(match lane {
            Some(lane) => project.in_lane(Some(lane)),
            None => project,
        })
    }
}

pub fn main(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(error) => {
            let code = error.exit_code();
            let _ = error.print();
            return ExitCode::from(code.clamp(0, 255) as u8);
        }
    };
    let printer = Printer::new(cli.json, cli.quiet);
    let dir = match cli.directory.clone() {
        Some(dir) => dir,
        None => match std::env::current_dir() {
            Ok(dir) => dir,
            Err(error) => {
                printer.error(&format!(
                    "error: cannot read the current directory: {error}"
                ));
                return ExitCode::from(1);
            }
        },
    };
    let context = Context { printer, dir };
    let result = match cli.command {
        Command::Init(args) => init::run(&context, args),
        Command::Plan(args) => plan::run(&context, args),
        Command::Run(args) => run::run(&context, args),
        Command::Learn(args) => learn::run(&context, args),
        Command::Check(args) => check::run(&context, args),
        Command::Crash(args) => crash::run(&context, args),
        Command::Diag(args) => diag::run(&context, args),
        Command::Noise(args) => noise::run(&context, args),
        Command::Status(args) => status::run(&context, args),
        Command::Show(args) => show::run(&context, args),
        Command::Mcp(args) => mcp::run(&context, args),
        Command::Guard(args) => guard::run(&context, args),
        Command::Distill(args) => distill::run(&context, args),
        Command::Brief(args) => brief::run(&context, args),
        Command::Report(args) => report::run(&context, args),
        Command::Loop(args) => drive::run(&context, args),
        Command::Demo(args) => demo::run(&context, args),
        Command::DemoAgent(args) => demo::run_agent(&context, args),
        Command::Synth(args) => synth::run(&context, args),
    };
    match result {
        Ok(code) => code,
        Err(error) => report_error(&printer, &error),
    }
}

/// Prints an error and maps it to its exit code: 3 for a refusal, 1 otherwise.
fn report_error(printer: &Printer, error: &anyhow::Error) -> ExitCode {
    let refused = error
        .chain()
        .any(|cause| cause.downcast_ref::<Refusal>().is_some());
    let interrupted = error
        .downcast_ref::<crate::pipeline::Interrupted>()
        .is_some();
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    let code = if refused {
        3
    } else if interrupted {
        130
    } else {
        1
    };
    if printer.json {
        printer.json_line(&serde_json::json!({
            "error": message,
            "refused": refused,
            "exit_code": code,
        }));
    }
    let label = if refused { "refused" } else { "error" };
    printer.error(&format!("{label}: {message}"));
    ExitCode::from(code)
}
