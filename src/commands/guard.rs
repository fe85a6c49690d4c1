//! `dfh guard`.

use std::io::Read;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::Context;
use crate::agent::guard::{self, Blocked};
use crate::config::{self, Config};
use crate::printer::Render;
use crate::vcs::Git;

/// An agent hook: read the tool call on stdin (Claude Code PreToolUse, Codex PreToolUse,
/// Gemini CLI BeforeTool) and block edits of read-only and harness files with exit 2 and
/// the reason on stderr. A payload that is not a hook's JSON lets the edit through with a
/// warning (exit 1, which no agent treats as a block).
#[derive(Debug, Args)]
pub struct GuardArgs {}

#[derive(Debug, Serialize)]
pub struct GuardView {
    pub tool: String,
    pub allowed: bool,
    pub blocked: Vec<Blocked>,
}

pub fn run(context: &Context, _args: GuardArgs) -> anyhow::Result<ExitCode> {
    let mut text = String::new();
    let call = match std::io::stdin()
        .read_to_string(&mut text)
        .map_err(|error| error.to_string())
        .and_then(|_| guard::parse_payload(&text))
    {
        Ok(call) => call,
        Err(why) => {
            // Fail open, loudly: a payload we cannot read means the hook is wired wrong, and
            // blocking every edit would stall the night. Agents show this as a hook error.
            context.printer.error(&format!(
                "dfh guard: the hook payload on stdin is {why}; the edit was let through. Run `dfh guard` only as an edit tool's pre-tool hook (see `dfh init --agent`)"
            ));
            return Ok(ExitCode::from(1));
        }
    };
    let Some(root) = Git::discover(&context.dir) else {
        return Ok(ExitCode::SUCCESS);
    };
    let config_path = root.join(config::FILE_NAME);
    if !config_path.exists() {
        // Not a harnessed project: nothing to guard.
        return Ok(ExitCode::SUCCESS);
    }
    let config = Config::load(&config_path).ok();
    let blocked = guard::judge(
        &root,
        config.as_ref().map(|config| &config.run),
        &call,
        &context.dir,
    );
    let view = GuardView {
        tool: call.tool,
        allowed: blocked.is_empty(),
        blocked,
    };
    // Hooks read stdout as JSON (Gemini CLI insists), so it stays empty without --json.
    if context.printer.json {
        context.printer.render(&view);
    }
    if view.allowed {
        return Ok(ExitCode::SUCCESS);
    }
    context.printer.error(&view.human());
    Ok(ExitCode::from(2))
}

impl Render for GuardView {
    fn human(&self) -> String {
        self.blocked
            .iter()
            .map(|blocked| format!("dfh guard blocked this edit: {}", blocked.reason))
            .collect::<Vec<_>>()
            .join("\n")
    }
}
