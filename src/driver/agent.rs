//! Starting the agent for one step: a preset's non-interactive invocation with the prompt as an
//! argument, or the user's own command with the prompt on stdin. Either way it runs in its own
//! process group, with a timeout, its output in `.dfh/agent/N.STEP.log`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::executor::local::{self, Launch};
use crate::executor::{RunReport, RunSpec};
use crate::project::Project;

/// The coding agents dfh knows how to drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Preset {
    Claude,
    Codex,
    Gemini,
    Aider,
}

impl Preset {
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "claude" => Some(Self::Claude),
            "codex" => Some(Self::Codex),
            "gemini" => Some(Self::Gemini),
            "aider" => Some(Self::Aider),
            _ => None,
        }
    }

    /// The argument vector of one non-interactive step with `prompt`.
    pub fn argv(self, prompt: &str, editable: &[String]) -> Vec<String> {
        let owned = |items: &[&str]| {
            items
                .iter()
                .map(|item| item.to_string())
                .collect::<Vec<_>>()
        };
        match self {
            // Headless Claude Code: file edits accepted, shell limited to dfh commands.
            Self::Claude => {
                let mut argv = owned(&["claude", "-p", prompt]);
                argv.extend(owned(&[
                    "--permission-mode",
                    "acceptEdits",
                    "--allowedTools",
                    "Bash(dfh:*),Read,Edit,Write,MultiEdit,Glob,Grep",
                ]));
                argv
            }
            // Codex CLI: workspace-write sandbox, no approval prompts.
            Self::Codex => owned(&["codex", "exec", "--full-auto", prompt]),
            // Gemini CLI: non-interactive, every tool call approved (it must run dfh commands).
            Self::Gemini => owned(&["gemini", "--yolo", "-p", prompt]),
            // Aider edits the files it is given; it writes the hypothesis entry by hand.
            Self::Aider => {
                let mut argv =
                    owned(&["aider", "--yes-always", "--no-auto-commits", "--no-stream"]);
                argv.extend(owned(&["--message", prompt]));
                argv.extend(editable.iter().cloned());
                argv.push(crate::project::paths::HYPOTHESES.into());
                argv
            }
        }
    }
}

/// Who the agent is: a preset, or a command line of the user's (prompt on stdin).
#[derive(Debug, Clone)]
pub enum AgentCommand {
    Preset(Preset),
    Shell(String),
}

impl AgentCommand {
    pub fn describe(&self) -> String {
        match self {
            Self::Preset(preset) => format!("{preset:?}").to_lowercase(),
            Self::Shell(command) => command.clone(),
        }
    }
}

/// One finished agent step.
pub struct StepRun {
    pub report: RunReport,
    pub log: String,
}

/// Runs one agent step with `prompt` in the project directory.
pub fn run_step(
    project: &Project,
    agent: &AgentCommand,
    step: &str,
    experiment: u32,
    prompt: &str,
    timeout: Duration,
) -> Result<StepRun> {
    let dir = project.path(".dfh/agent");
    std::fs::create_dir_all(&dir).context("cannot create .dfh/agent")?;
    // Lanes plan at once: each lane's step files carry its number.
    let lane = project
        .lane
        .map(|lane| format!(".lane{lane}"))
        .unwrap_or_default();
    let prompt_path: PathBuf = dir.join(format!("{experiment}.{step}{lane}.prompt.md"));
    std::fs::write(&prompt_path, prompt)
        .with_context(|| format!("cannot write {}", prompt_path.display()))?;
    let log = format!(".dfh/agent/{experiment}.{step}{lane}.log");
    let (launch, command) = match agent {
        AgentCommand::Preset(preset) => (
            Launch {
                argv: preset.argv(prompt, &project.config.run.editable),
                stdin: None,
            },
            preset_name(*preset),
        ),
        AgentCommand::Shell(command) => (
            Launch {
                argv: Vec::new(),
                stdin: Some(prompt_path.clone()),
            },
            command.clone(),
        ),
    };
    let spec = RunSpec {
        command,
        dir: project.work.clone(),
        env: vec![
            (crate::env::STEP.into(), step.into()),
            (crate::env::EXPERIMENT.into(), experiment.to_string()),
            (crate::env::PROMPT_FILE.into(), display(&prompt_path)),
        ]
        .into_iter()
        .chain(crate::lanes::run_env(project))
        .collect(),
        log: project.path(&log),
        timeout,
        grace: Duration::from_secs(5),
    };
    let report = local::run_with(&spec, &launch, &mut |_| {})?;
    Ok(StepRun { report, log })
}

fn preset_name(preset: Preset) -> String {
    format!("{preset:?}").to_lowercase()
}

fn display(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_pass_the_prompt_as_one_argument() {
        let prompt = "plan; $(touch pwned) `x`";
        for preset in [Preset::Claude, Preset::Codex, Preset::Gemini, Preset::Aider] {
            let argv = preset.argv(prompt, &["train.py".into()]);
            assert_eq!(
                argv.iter()
                    .filter(|argument| argument.as_str() == prompt)
                    .count(),
                1
            );
        }
        assert_eq!(Preset::parse("Claude"), Some(Preset::Claude));
        assert_eq!(Preset::parse("vim"), None);
    }
}
