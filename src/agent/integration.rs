//! `dfh init --agent NAME`: points a coding agent at program.md, registers `dfh mcp` with it
//! and installs its hooks (`dfh brief` when a session starts or is compacted, `dfh guard`
//! before every edit), in the agent's own project files.
//!
//! A user's file is never overwritten: an instruction file gets one line appended, a JSON or
//! TOML configuration gets dfh's entries merged in beside everything already there, and an
//! entry dfh finds already present is left as it is. Every file is read and checked before
//! any is written, so a malformed one stops the wiring with nothing half done.

use std::path::Path;

use super::ordered_json::Json;
use anyhow::{Context, Result};
use serde::Serialize;

use crate::refusal::Refusal;

/// The agents dfh knows how to wire up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Agent {
    Claude,
    Codex,
    Gemini,
    Aider,
}

impl Agent {
    pub const NAMES: &'static [&'static str] = &["claude", "codex", "gemini", "aider"];

    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "claude" | "claude-code" => Some(Self::Claude),
            "codex" => Some(Self::Codex),
            "gemini" | "gemini-cli" => Some(Self::Gemini),
            "aider" => Some(Self::Aider),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Claude => "claude",
            Self::Codex => "codex",
            Self::Gemini => "gemini",
            Self::Aider => "aider",
        }
    }
}

/// The command lines the agent's configuration runs; `dfh` must be on the agent's PATH.
pub const BRIEF_COMMAND: &str = "dfh brief";
pub const GUARD_COMMAND: &str = "dfh guard";
/// Claude Code's SessionStart sources: a new session, a resumed one, /clear and compaction.
pub const SESSION_MATCHER: &str = "startup|resume|clear|compact";

/// What `dfh init --agent` did, file by file.
#[derive(Debug, Clone, Serialize)]
pub struct AgentReport {
    pub agent: Agent,
    pub created: Vec<String>,
    /// Existing files that got a line appended or dfh's entries merged in.
    pub updated: Vec<String>,
    /// Existing files that already held what dfh would add.
    pub kept: Vec<String>,
    pub notes: Vec<String>,
}

/// One planned change to one file.
enum Change {
    Create(String),
    Append(String),
    Replace(String),
    Keep,
}

struct Plan {
    changes: Vec<(String, Change)>,
    notes: Vec<String>,
}

/// Wires `agent` into the project at `root`.
pub fn wire(root: &Path, agent: Agent) -> Result<AgentReport> {
    let mut plan = Plan {
        changes: Vec::new(),
        notes: Vec::new(),
    };
    let read_note = "Research program for this repository, run through the dfh harness (start every step with `dfh status`):";
    match agent {
        Agent::Claude => {
            plan.instruction(root, "CLAUDE.md", &format!("{read_note} @program.md"))?;
            plan.json(root, ".mcp.json", agent, |settings| {
                add_server(settings, "mcpServers")
            })?;
            plan.json(root, ".claude/settings.json", agent, |settings| {
                let started = add_hook(settings, "SessionStart", SESSION_MATCHER, BRIEF_COMMAND)?;
                let guarded = add_hook(
                    settings,
                    "PreToolUse",
                    "Edit|Write|MultiEdit",
                    GUARD_COMMAND,
                )?;
                Ok(started | guarded)
            })?;
            plan.notes.push("Claude Code asks once before it starts a project MCP server from .mcp.json; approve `dfh` (or run `claude mcp list` to check it)".into());
        }
        Agent::Codex => {
            plan.instruction(
                root,
                "AGENTS.md",
                &format!("{read_note} read program.md first."),
            )?;
            plan.codex_config(root)?;
            plan.json(root, ".codex/hooks.json", agent, |settings| {
                let started = add_hook(settings, "SessionStart", SESSION_MATCHER, BRIEF_COMMAND)?;
                let guarded = add_hook(
                    settings,
                    "PreToolUse",
                    "apply_patch|Edit|Write",
                    GUARD_COMMAND,
                )?;
                Ok(started | guarded)
            })?;
            plan.notes.push("Codex reads .codex/ only in a trusted project, and runs new hooks once you have reviewed them (/hooks)".into());
        }
        Agent::Gemini => {
            plan.instruction(root, "GEMINI.md", &format!("{read_note} @program.md"))?;
            plan.json(root, ".gemini/settings.json", agent, |settings| {
                let served = add_server(settings, "mcpServers")?;
                let guarded =
                    add_hook(settings, "BeforeTool", "write_file|replace", GUARD_COMMAND)?;
                Ok(served | guarded)
            })?;
            plan.notes.push("Gemini CLI gets no SessionStart hook: it reads a hook's stdout as JSON, and GEMINI.md already loads program.md".into());
        }
        Agent::Aider => {
            plan.instruction(
                root,
                "CONVENTIONS.md",
                &format!("{read_note} read program.md first."),
            )?;
            plan.aider_config(root)?;
            plan.notes.push("Aider has no MCP client and no hooks: it reads CONVENTIONS.md; run dfh commands with /run (e.g. `/run dfh status`)".into());
        }
    }
    if !on_path("dfh") {
        plan.notes.push("`dfh` is not on PATH: the agent's hooks and MCP server run `dfh`, so install it there (e.g. `cargo install --path .` in dfh's source)".into());
    }
    plan.apply(root, agent)
}

impl Plan {
    /// The agent's instruction file points at program.md: created, or one line appended.
    fn instruction(&mut self, root: &Path, file: &str, line: &str) -> Result<()> {
        let change = match read_optional(root, file)? {
            None => Change::Create(format!("{line}\n")),
            Some(text) if text.contains("program.md") => Change::Keep,
            Some(text) => {
                let separator = match text.as_str() {
                    "" => "",
                    text if text.ends_with("\n\n") => "",
                    text if text.ends_with('\n') => "\n",
                    _ => "\n\n",
                };
                Change::Append(format!("{separator}{line}\n"))
            }
        };
        self.changes.push((file.into(), change));
        Ok(())
    }

    /// Merges dfh's entries into a JSON settings file, which must hold an object.
    fn json(
        &mut self,
        root: &Path,
        file: &str,
        agent: Agent,
        merge: impl FnOnce(&mut Json) -> Result<bool, String>,
    ) -> Result<()> {
        let existing = read_optional(root, file)?;
        let mut settings = match &existing {
            None => Json::object(),
            Some(text) => match serde_json::from_str::<Json>(text) {
                Ok(settings @ Json::Object(_)) => settings,
                Ok(_) => return Err(refuse(file, 1, "holds JSON that is not an object", agent)),
                Err(error) => {
                    let what = format!("is not valid JSON ({error})");
                    return Err(refuse(file, error.line(), &what, agent));
                }
            },
        };
        let changed = merge(&mut settings).map_err(|what| refuse(file, 1, &what, agent))?;
        let text = format!("{}\n", serde_json::to_string_pretty(&settings)?);
        let change = match (existing, changed) {
            (None, _) => Change::Create(text),
            (Some(_), true) => Change::Replace(text),
            (Some(_), false) => Change::Keep,
        };
        self.changes.push((file.into(), change));
        Ok(())
    }

    /// Codex's project configuration gets a `[mcp_servers.dfh]` table appended.
    fn codex_config(&mut self, root: &Path) -> Result<()> {
        let file = ".codex/config.toml";
        let table = "[mcp_servers.dfh]\ncommand = \"dfh\"\nargs = [\"mcp\"]\n";
        let change = match read_optional(root, file)? {
            None => Change::Create(table.into()),
            Some(text) => {
                let parsed: toml::Table = toml::from_str(&text).map_err(|error| {
                    let line = error
                        .span()
                        .map(|span| text[..span.start.min(text.len())].lines().count().max(1))
                        .unwrap_or(1);
                    refuse(
                        file,
                        line,
                        &format!("is not valid TOML ({})", error.message()),
                        Agent::Codex,
                    )
                })?;
                let present = parsed
                    .get("mcp_servers")
                    .and_then(|servers| servers.get("dfh"))
                    .is_some();
                if present {
                    Change::Keep
                } else {
                    let separator = if text.is_empty() || text.ends_with('\n') {
                        "\n"
                    } else {
                        "\n\n"
                    };
                    let addition = format!("{separator}{table}");
                    if toml::from_str::<toml::Table>(&format!("{text}{addition}")).is_err() {
                        return Err(refuse(file, 1, "defines mcp_servers in a form a new [mcp_servers.dfh] table cannot join; add the server by hand (command = \"dfh\", args = [\"mcp\"])", Agent::Codex));
                    }
                    Change::Append(addition)
                }
            }
        };
        self.changes.push((file.into(), change));
        Ok(())
    }

    /// Aider reads CONVENTIONS.md only when told to: `read:` in .aider.conf.yml.
    fn aider_config(&mut self, root: &Path) -> Result<()> {
        let file = ".aider.conf.yml";
        let line = "read: [CONVENTIONS.md]\n";
        let change = match read_optional(root, file)? {
            None => Change::Create(line.into()),
            Some(text) if text.contains("CONVENTIONS.md") => Change::Keep,
            Some(text) if !text.lines().any(|line| line.starts_with("read:")) => {
                let separator = if text.is_empty() || text.ends_with('\n') {
                    ""
                } else {
                    "\n"
                };
                Change::Append(format!("{separator}{line}"))
            }
            Some(_) => {
                self.notes.push(".aider.conf.yml already has a `read:` list: add CONVENTIONS.md to it (dfh does not edit a list it did not write)".into());
                Change::Keep
            }
        };
        self.changes.push((file.into(), change));
        Ok(())
    }

    fn apply(self, root: &Path, agent: Agent) -> Result<AgentReport> {
        let mut report = AgentReport {
            agent,
            created: Vec::new(),
            updated: Vec::new(),
            kept: Vec::new(),
            notes: self.notes,
        };
        for (file, change) in self.changes {
            let path = root.join(&file);
            match change {
                Change::Create(text) => {
                    if let Some(parent) = path.parent() {
                        std::fs::create_dir_all(parent)?;
                    }
                    let mut handle = std::fs::OpenOptions::new()
                        .write(true)
                        .create_new(true)
                        .open(&path)
                        .with_context(|| format!("cannot create {file}"))?;
                    std::io::Write::write_all(&mut handle, text.as_bytes())?;
                    report.created.push(file);
                }
                Change::Append(text) => {
                    let mut handle = std::fs::OpenOptions::new()
                        .append(true)
                        .open(&path)
                        .with_context(|| format!("cannot append to {file}"))?;
                    std::io::Write::write_all(&mut handle, text.as_bytes())?;
                    report.updated.push(file);
                }
                Change::Replace(text) => {
                    // Written beside the file and renamed over it: never a half-written file.
                    let temporary = path.with_extension("dfh-new");
                    std::fs::write(&temporary, text)
                        .with_context(|| format!("cannot write {}", temporary.display()))?;
                    std::fs::rename(&temporary, &path)
                        .with_context(|| format!("cannot replace {file}"))?;
                    report.updated.push(file);
                }
                Change::Keep => report.kept.push(file),
            }
        }
        Ok(report)
    }
}

/// Adds `dfh mcp` under `key` (`mcpServers`) unless a server named dfh is already there.
fn add_server(settings: &mut Json, key: &str) -> Result<bool, String> {
    let servers = settings
        .entry(key, Json::object)
        .filter(|servers| matches!(servers, Json::Object(_)))
        .ok_or_else(|| format!("has a `{key}` that is not an object"))?;
    if servers.get("dfh").is_some() {
        return Ok(false);
    }
    servers.entry("dfh", || {
        Json::Object(vec![
            ("command".into(), Json::text("dfh")),
            ("args".into(), Json::Array(vec![Json::text("mcp")])),
        ])
    });
    Ok(true)
}

/// Adds a command hook for `event` unless one running `command` is already there. The shape
/// is Claude Code's, which Codex and Gemini CLI share: event -> [{matcher, hooks: [...]}].
fn add_hook(
    settings: &mut Json,
    event: &str,
    matcher: &str,
    command: &str,
) -> Result<bool, String> {
    let hooks = settings
        .entry("hooks", Json::object)
        .filter(|hooks| matches!(hooks, Json::Object(_)))
        .ok_or("has a `hooks` that is not an object")?;
    let Some(Json::Array(groups)) = hooks.entry(event, || Json::Array(Vec::new())) else {
        return Err(format!("has a `hooks.{event}` that is not an array"));
    };
    let present = groups.iter().any(|group| match group.get("hooks") {
        Some(Json::Array(handlers)) => handlers
            .iter()
            .any(|handler| handler.get("command").and_then(Json::as_str) == Some(command)),
        _ => false,
    });
    if present {
        return Ok(false);
    }
    let handler = Json::Object(vec![
        ("type".into(), Json::text("command")),
        ("command".into(), Json::text(command)),
    ]);
    groups.push(Json::Object(vec![
        ("matcher".into(), Json::text(matcher)),
        ("hooks".into(), Json::Array(vec![handler])),
    ]));
    Ok(true)
}

fn refuse(file: &str, line: usize, what: &str, agent: Agent) -> anyhow::Error {
    Refusal::new(format!(
        "{file}:{line}: {file} {what}. dfh merges its entries into this file and never overwrites it: fix the file (or move it aside), then run `dfh init --agent {}` again",
        agent.name()
    ))
    .into()
}

fn read_optional(root: &Path, file: &str) -> Result<Option<String>> {
    match std::fs::read_to_string(root.join(file)) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(error) => Err(error).with_context(|| format!("cannot read {file}")),
    }
}

/// True when an executable named `program` is on PATH.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
        })
    })
}
