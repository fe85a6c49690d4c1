//! `dfh init --agent NAME`: the files each agent reads, merged and never overwritten, and the
//! hooks they install run for real.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value};

use crate::guard::claude_payload;
use crate::support::{Run, TestEnv, DFH, PREPARE, TRAIN};

fn project() -> TestEnv {
    TestEnv::with_files(&[("train.py", TRAIN), ("prepare.py", PREPARE)])
}

fn json_file(env: &TestEnv, relative: &str) -> Value {
    serde_json::from_str(&env.read(relative))
        .unwrap_or_else(|error| panic!("{relative} is not JSON: {error}"))
}

/// The commands of `event`'s hooks whose matcher is `matcher`.
fn hook_commands(settings: &Value, event: &str, matcher: &str) -> Vec<String> {
    settings["hooks"][event]
        .as_array()
        .unwrap_or_else(|| panic!("no hooks.{event} in {settings}"))
        .iter()
        .filter(|group| group["matcher"] == matcher)
        .flat_map(|group| group["hooks"].as_array().unwrap().clone())
        .inspect(|handler| assert_eq!(handler["type"], "command", "{handler}"))
        .map(|handler| handler["command"].as_str().unwrap().to_string())
        .collect()
}

/// Runs a hook's command line the way an agent does: through a shell, in the project, with
/// the payload on stdin and dfh on PATH.
fn run_hook(env: &TestEnv, command_line: &str, payload: &str) -> Run {
    let bin = Path::new(DFH).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut child = Command::new("sh")
        .arg("-c")
        .arg(command_line)
        .current_dir(&env.root)
        .env("PATH", path)
        .env("DFH_NOW", "2026-01-01T00:00:00Z")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().unwrap())
}

#[test]
fn claude_gets_instructions_mcp_and_hooks_that_really_guard() {
    let env = project();
    let run = env.dfh_ok(&["--json", "init", "--agent", "claude"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(report["agent"]["agent"], "claude");
    assert_eq!(
        report["agent"]["created"],
        json!(["CLAUDE.md", ".mcp.json", ".claude/settings.json"])
    );
    assert!(report["created"]
        .as_array()
        .unwrap()
        .contains(&json!("program.md")));

    assert!(env.read("CLAUDE.md").contains("@program.md"));
    let mcp = json_file(&env, ".mcp.json");
    assert_eq!(
        mcp["mcpServers"]["dfh"],
        json!({"command": "dfh", "args": ["mcp"]})
    );

    let settings = json_file(&env, ".claude/settings.json");
    assert_eq!(
        hook_commands(&settings, "SessionStart", "startup|resume|clear|compact"),
        ["dfh brief"]
    );
    let guards = hook_commands(&settings, "PreToolUse", "Edit|Write|MultiEdit");
    assert_eq!(guards, ["dfh guard"]);

    // The installed hook, run as Claude Code runs it, blocks a harness file and allows train.py.
    let blocked = run_hook(
        &env,
        &guards[0],
        &claude_payload(&env, "Write", &env.path("dfh.toml").display().to_string()),
    );
    assert_eq!(blocked.code, 2, "{}", blocked.stderr);
    assert!(
        blocked
            .stderr
            .contains("dfh.toml is the harness configuration"),
        "{}",
        blocked.stderr
    );
    let allowed = run_hook(
        &env,
        &guards[0],
        &claude_payload(&env, "Edit", &env.path("train.py").display().to_string()),
    );
    assert_eq!(allowed.code, 0, "{}", allowed.stderr);

    // program.md says how to register the MCP server by hand, and stays short.
    let program = env.read("program.md");
    assert!(
        program.contains("claude mcp add --scope project dfh -- dfh mcp"),
        "{program}"
    );
    assert!(program.contains("[mcp_servers.dfh]"), "{program}");
    assert!(program.lines().count() <= 100);
}

#[test]
fn claude_wiring_merges_into_existing_files_and_never_duplicates() {
    let env = project();
    env.write("CLAUDE.md", "# My project\nUse tabs.");
    let existing = r#"{
  "permissions": {"allow": ["Bash(ls:*)"], "deny": ["Read(./.env)"]},
  "hooks": {
    "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo checked"}]}]
  },
  "env": {"FOO": "1"}
}"#;
    env.write(".claude/settings.json", existing);
    env.write(
        ".mcp.json",
        r#"{"mcpServers": {"other": {"command": "other-server"}}}"#,
    );
    let run = env.dfh_ok(&["init", "--agent", "claude"]);
    assert!(
        run.stdout.contains(
            "updated (merged, nothing removed): CLAUDE.md, .mcp.json, .claude/settings.json"
        ),
        "{}",
        run.stdout
    );

    let claude = env.read("CLAUDE.md");
    assert!(
        claude.starts_with("# My project\nUse tabs.\n\n"),
        "{claude}"
    );
    assert_eq!(claude.matches("@program.md").count(), 1);

    let settings = json_file(&env, ".claude/settings.json");
    assert_eq!(settings["permissions"]["allow"], json!(["Bash(ls:*)"]));
    assert_eq!(settings["env"]["FOO"], "1");
    assert_eq!(
        hook_commands(&settings, "PreToolUse", "Bash"),
        ["echo checked"]
    );
    assert_eq!(
        hook_commands(&settings, "PreToolUse", "Edit|Write|MultiEdit"),
        ["dfh guard"]
    );
    // The user's keys keep their order.
    let text = env.read(".claude/settings.json");
    let position = |key: &str| text.find(key).unwrap();
    assert!(position("\"permissions\"") < position("\"hooks\""));
    assert!(position("\"hooks\"") < position("\"env\""));
    assert!(position("echo checked") < position("dfh guard"));
    let mcp = json_file(&env, ".mcp.json");
    assert_eq!(mcp["mcpServers"]["other"]["command"], "other-server");
    assert_eq!(mcp["mcpServers"]["dfh"]["args"], json!(["mcp"]));

    // A second run changes nothing.
    let before: Vec<String> = ["CLAUDE.md", ".mcp.json", ".claude/settings.json"]
        .iter()
        .map(|file| env.read(file))
        .collect();
    let run = env.dfh_ok(&["init", "--agent", "claude"]);
    assert!(
        run.stdout
            .contains("kept (already wired): CLAUDE.md, .mcp.json, .claude/settings.json"),
        "{}",
        run.stdout
    );
    let after: Vec<String> = ["CLAUDE.md", ".mcp.json", ".claude/settings.json"]
        .iter()
        .map(|file| env.read(file))
        .collect();
    assert_eq!(before, after);
}

#[test]
fn a_malformed_settings_file_is_refused_and_nothing_is_written() {
    let env = project();
    env.write(".claude/settings.json", "{\n  \"hooks\": {,\n}\n");
    let run = env.dfh(&["init", "--agent", "claude"]);
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains(".claude/settings.json:2: .claude/settings.json is not valid JSON"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("run `dfh init --agent claude` again"),
        "{}",
        run.stderr
    );
    assert_eq!(env.read(".claude/settings.json"), "{\n  \"hooks\": {,\n}\n");
    assert!(!env.path("CLAUDE.md").exists());
    assert!(!env.path(".mcp.json").exists());
}

#[test]
fn codex_gets_agents_md_a_project_mcp_server_and_hooks() {
    let env = project();
    env.write("AGENTS.md", "Run tests with pytest.\n");
    env.write(".codex/config.toml", "# mine\nmodel = \"gpt-5-codex\"\n");
    env.dfh_ok(&["init", "--agent", "codex"]);
    let agents = env.read("AGENTS.md");
    assert!(agents.starts_with("Run tests with pytest.\n\n"), "{agents}");
    assert!(agents.contains("program.md"), "{agents}");

    let config_text = env.read(".codex/config.toml");
    assert!(
        config_text.starts_with("# mine\nmodel = \"gpt-5-codex\"\n"),
        "{config_text}"
    );
    let config: toml::Table = toml::from_str(&config_text).unwrap();
    assert_eq!(config["model"].as_str(), Some("gpt-5-codex"));
    assert_eq!(
        config["mcp_servers"]["dfh"]["command"].as_str(),
        Some("dfh")
    );
    assert_eq!(
        config["mcp_servers"]["dfh"]["args"].as_array().unwrap()[0].as_str(),
        Some("mcp")
    );

    let hooks = json_file(&env, ".codex/hooks.json");
    let guards = hook_commands(&hooks, "PreToolUse", "apply_patch|Edit|Write");
    assert_eq!(guards, ["dfh guard"]);
    assert_eq!(
        hook_commands(&hooks, "SessionStart", "startup|resume|clear|compact"),
        ["dfh brief"]
    );
    let patch = json!({
        "hook_event_name": "PreToolUse",
        "cwd": env.root,
        "tool_name": "apply_patch",
        "tool_input": {"command": "*** Begin Patch\n*** Update File: checks/rules.toml\n*** End Patch\n"},
    });
    let run = run_hook(&env, &guards[0], &patch.to_string());
    assert_eq!(run.code, 2, "{}", run.stderr);

    // Twice: the table is not appended again.
    env.dfh_ok(&["init", "--agent", "codex"]);
    assert_eq!(
        env.read(".codex/config.toml")
            .matches("[mcp_servers.dfh]")
            .count(),
        1
    );
}

#[test]
fn gemini_and_aider_get_their_own_files() {
    let env = project();
    env.write(
        ".gemini/settings.json",
        r#"{"theme": "GitHub", "mcpServers": {"dfh": {"command": "/opt/dfh", "args": ["mcp"]}}}"#,
    );
    env.dfh_ok(&["init", "--agent", "gemini"]);
    assert!(env.read("GEMINI.md").contains("@program.md"));
    let settings = json_file(&env, ".gemini/settings.json");
    assert_eq!(settings["theme"], "GitHub");
    // A server the user already registered under the name dfh is left as it is.
    assert_eq!(settings["mcpServers"]["dfh"]["command"], "/opt/dfh");
    assert_eq!(
        hook_commands(&settings, "BeforeTool", "write_file|replace"),
        ["dfh guard"]
    );

    let run = env.dfh_ok(&["--json", "init", "--agent", "aider"]);
    let report: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["agent"]["created"],
        json!(["CONVENTIONS.md", ".aider.conf.yml"])
    );
    assert!(env.read("CONVENTIONS.md").contains("program.md"));
    assert_eq!(env.read(".aider.conf.yml"), "read: [CONVENTIONS.md]\n");
    let notes = report["agent"]["notes"].to_string();
    assert!(notes.contains("no MCP client"), "{notes}");
}

#[test]
fn an_unknown_agent_is_a_usage_error() {
    let env = project();
    let run = env.dfh(&["init", "--agent", "cursor"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("use one of claude, codex, gemini, aider"),
        "{}",
        run.stderr
    );
    assert!(!env.path("dfh.toml").exists());
}
