//! `dfh init`.

use std::process::ExitCode;

use clap::Args;

use serde::Serialize;

use super::Context;
use crate::agent::integration::{self, Agent, AgentReport};
use crate::config::Goal;
use crate::printer::Render;
use crate::scaffold::{self, InitOptions, InitReport};

/// Harness the current repository: write program.md, docs/, checks/ and dfh.toml (never
/// overwriting a file), detect the run command and metric, import an existing results.tsv.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The training command, e.g. "python3 train.py --config small.yaml".
    #[arg(long)]
    command: Option<String>,
    /// The metric's name as the script prints it, e.g. val_bpb.
    #[arg(long)]
    metric: Option<String>,
    /// A regex with one capture group that reads the metric from the log.
    #[arg(long)]
    pattern: Option<String>,
    /// Whether lower or higher is better.
    #[arg(long, value_parser = parse_goal)]
    goal: Option<Goal>,
    /// A file experiments may change (repeatable).
    #[arg(long, value_name = "FILE")]
    editable: Vec<String>,
    /// A file that must not change (repeatable).
    #[arg(long, value_name = "FILE")]
    readonly: Vec<String>,
    /// Wire up a coding agent: claude, codex, gemini or aider. Points its instruction file
    /// at program.md (one line appended), registers `dfh mcp` and installs its hooks.
    #[arg(long, value_name = "NAME", value_parser = parse_agent)]
    agent: Option<Agent>,
}

fn parse_agent(text: &str) -> Result<Agent, String> {
    Agent::from_name(text).ok_or_else(|| {
        format!(
            "`{text}` is not an agent dfh can wire up; use one of {}",
            Agent::NAMES.join(", ")
        )
    })
}

/// `dfh init`'s output: the scaffold, and the agent wiring when `--agent` was given.
#[derive(Debug, Serialize)]
pub struct InitView {
    #[serde(flatten)]
    pub init: InitReport,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<AgentReport>,
}

fn parse_goal(text: &str) -> Result<Goal, String> {
    match text {
        "minimize" | "min" => Ok(Goal::Minimize),
        "maximize" | "max" => Ok(Goal::Maximize),
        _ => Err(format!("`{text}` is not a goal; use minimize or maximize")),
    }
}

pub fn run(context: &Context, args: InitArgs) -> anyhow::Result<ExitCode> {
    let options = InitOptions {
        command: args.command,
        metric: args.metric,
        pattern: args.pattern,
        goal: args.goal,
        editable: args.editable,
        readonly: args.readonly,
    };
    let report = scaffold::init(&context.dir, &options)?;
    for warning in &report.warnings {
        context.printer.talk(&format!("warning: {warning}"));
    }
    let agent = match args.agent {
        Some(agent) => Some(integration::wire(&report.root, agent)?),
        None => None,
    };
    context.printer.render(&InitView {
        init: report,
        agent,
    });
    Ok(ExitCode::SUCCESS)
}

impl Render for InitView {
    fn human(&self) -> String {
        let mut text = self.init.human();
        if let Some(agent) = &self.agent {
            text.push('\n');
            text.push_str(&agent.human());
        }
        text
    }
}

impl Render for AgentReport {
    fn human(&self) -> String {
        let mut lines = vec![format!(
            "agent {}: instructions point at program.md; `dfh mcp` registered where the agent supports it",
            self.agent.name()
        )];
        for (label, files) in [
            ("created", &self.created),
            ("updated (merged, nothing removed)", &self.updated),
            ("kept (already wired)", &self.kept),
        ] {
            if !files.is_empty() {
                lines.push(format!("  {label}: {}", files.join(", ")));
            }
        }
        for note in &self.notes {
            lines.push(format!("  note: {note}"));
        }
        lines.join("\n")
    }
}

impl Render for InitReport {
    fn human(&self) -> String {
        let mut lines = vec![format!(
            "harnessed {}: `{}`, {} {} ({}), editable {}, read-only {}",
            self.root.display(),
            self.command,
            self.goal.as_str(),
            self.metric,
            if self.goal == Goal::Minimize {
                "lower is better"
            } else {
                "higher is better"
            },
            self.editable.join(", "),
            if self.readonly.is_empty() {
                "none".into()
            } else {
                self.readonly.join(", ")
            },
        )];
        if !self.created.is_empty() {
            lines.push(format!("created: {}", self.created.join(", ")));
        }
        if !self.kept.is_empty() {
            lines.push(format!(
                "kept (already there, not touched): {}",
                self.kept.join(", ")
            ));
        }
        if let Some(imported) = &self.imported {
            lines.push(format!(
                "imported {} experiments from results.tsv (metric column `{}`); the original is kept at {}",
                imported.rows, imported.metric_column, imported.original
            ));
            for skipped in &imported.skipped {
                lines.push(format!(
                    "  results.tsv:{}: not imported: {}",
                    skipped.line, skipped.reason
                ));
            }
            if !imported.duplicates.is_empty() {
                let lines_text: Vec<String> = imported
                    .duplicates
                    .iter()
                    .map(ToString::to_string)
                    .collect();
                lines.push(format!(
                    "  results.tsv lines {} repeat an earlier line and were imported once",
                    lines_text.join(", ")
                ));
            }
        }
        if !self.accepted.is_empty() {
            lines.push(format!(
                "accepted the new content of {}",
                self.accepted.join(", ")
            ));
        }
        lines.push("next: fill in docs/architecture.md, then point your agent at program.md (or plan the baseline: `dfh plan --title baseline ...`)".into());
        lines.join("\n")
    }
}
