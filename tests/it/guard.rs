//! `dfh guard` with the payloads agents' pre-tool hooks really send.

use std::io::Write;
use std::process::Stdio;

use serde_json::{json, Value};

use crate::support::{Run, TestEnv};

/// Runs `dfh guard` with `payload` on stdin, as a hook does.
pub fn guard(env: &TestEnv, payload: &str) -> Run {
    let mut child = env
        .command(&["guard"])
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

/// Claude Code's PreToolUse payload for an edit tool.
pub fn claude_payload(env: &TestEnv, tool: &str, file_path: &str) -> String {
    let tool_input = match tool {
        "Write" => json!({"file_path": file_path, "content": "x = 1\n"}),
        "MultiEdit" => {
            json!({"file_path": file_path, "edits": [{"old_string": "a", "new_string": "b"}]})
        }
        _ => json!({"file_path": file_path, "old_string": "LR = 0.1", "new_string": "LR = 0.2"}),
    };
    json!({
        "session_id": "abc123",
        "transcript_path": env.path(".claude-transcript.jsonl"),
        "cwd": env.root,
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": tool_input,
    })
    .to_string()
}

fn absolute(env: &TestEnv, relative: &str) -> String {
    env.path(relative).display().to_string()
}

#[test]
fn guard_allows_the_editable_files_and_the_notes() {
    let env = TestEnv::autoresearch();
    for (tool, path) in [
        ("Edit", absolute(&env, "train.py")),
        ("MultiEdit", "train.py".to_string()),
        ("Write", absolute(&env, "docs/hypotheses.md")),
        ("Edit", absolute(&env, "docs/strategy.md")),
        ("Write", absolute(&env, "docs/papers/energy_transformer.md")),
        ("Write", absolute(&env, "NOTES.md")),
    ] {
        let run = guard(&env, &claude_payload(&env, tool, &path));
        assert_eq!(run.code, 0, "{tool} {path} was blocked: {}", run.stderr);
        assert_eq!(run.stdout, "", "a hook's stdout must stay empty");
    }
}

#[test]
fn guard_blocks_read_only_and_harness_files_with_the_reason() {
    let env = TestEnv::autoresearch();
    for (path, why) in [
        ("prepare.py", "read-only"),
        ("dfh.toml", "harness configuration"),
        ("checks/rules.toml", "pre-train checks"),
        ("checks/pre_train_check.py", "pre-train checks"),
        (".dfh/journal.jsonl", "written by dfh"),
        ("results.tsv", "written by dfh"),
        ("metrics/abc1234.json", "written by dfh"),
        ("dfh_diag.py", "diagnostics helper"),
        ("program.md", "research program"),
        (".claude/settings.json", "agent's configuration"),
        ("model.py", "outside the editable files"),
        ("docs/../dfh.toml", "harness configuration"),
    ] {
        let run = guard(&env, &claude_payload(&env, "Write", &absolute(&env, path)));
        assert_eq!(run.code, 2, "{path} was not blocked: {}", run.stderr);
        assert!(run.stderr.contains(why), "{path}: {}", run.stderr);
        assert!(
            run.stderr
                .contains("You may edit train.py (the experiment) and docs/"),
            "{path}: {}",
            run.stderr
        );
    }
    // The reason names the file as the agent gave it.
    let run = guard(&env, &claude_payload(&env, "Edit", "prepare.py"));
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .starts_with("dfh guard blocked this edit: prepare.py is read-only"),
        "{}",
        run.stderr
    );
}

#[test]
fn guard_blocks_paths_outside_the_project() {
    let env = TestEnv::autoresearch();
    for path in [
        "/etc/hosts".to_string(),
        "../elsewhere/train.py".to_string(),
    ] {
        let run = guard(&env, &claude_payload(&env, "Write", &path));
        assert_eq!(run.code, 2, "{path}: {}", run.stderr);
        assert!(run.stderr.contains("outside the project"), "{}", run.stderr);
    }
}

#[test]
fn guard_reads_codex_patches_and_gemini_tool_calls() {
    let env = TestEnv::autoresearch();
    let patch = "*** Begin Patch\n*** Update File: train.py\n@@\n-LR = 0.1\n+LR = 0.2\n*** Update File: prepare.py\n@@\n-TIME_BUDGET = 300\n+TIME_BUDGET = 900\n*** End Patch\n";
    let codex = json!({
        "session_id": "s",
        "turn_id": "t",
        "cwd": env.root,
        "hook_event_name": "PreToolUse",
        "model": "gpt-5-codex",
        "tool_name": "apply_patch",
        "tool_input": {"command": patch},
    });
    let run = guard(&env, &codex.to_string());
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("prepare.py is read-only"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("train.py is"), "{}", run.stderr);

    let only_train = json!({"tool_name": "apply_patch", "cwd": env.root, "tool_input": {"command": "*** Begin Patch\n*** Update File: train.py\n*** End Patch"}});
    assert_eq!(guard(&env, &only_train.to_string()).code, 0);

    let gemini = |path: &str| {
        json!({
            "session_id": "g",
            "cwd": env.root,
            "hook_event_name": "BeforeTool",
            "timestamp": "2026-01-01T00:00:00Z",
            "tool_name": "write_file",
            "tool_input": {"file_path": path, "content": "x"},
        })
        .to_string()
    };
    assert_eq!(guard(&env, &gemini("train.py")).code, 0);
    assert_eq!(guard(&env, &gemini("dfh.toml")).code, 2);
}

#[test]
fn guard_lets_a_malformed_payload_through_with_a_warning() {
    let env = TestEnv::autoresearch();
    for payload in ["", "not json", "[1, 2]"] {
        let run = guard(&env, payload);
        assert_eq!(run.code, 1, "{payload:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("the edit was let through"),
            "{}",
            run.stderr
        );
    }
    // A tool call without files (a Read, a shell command) has nothing to judge.
    let bash = json!({"tool_name": "Bash", "cwd": env.root, "tool_input": {"command": "ls"}});
    assert_eq!(guard(&env, &bash.to_string()).code, 0);
}

#[test]
fn guard_json_names_each_blocked_file() {
    let env = TestEnv::autoresearch();
    let mut command = env.command(&["--json", "guard"]);
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let payload = claude_payload(&env, "Write", &absolute(&env, "dfh.toml"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    let run = Run::from(child.wait_with_output().unwrap());
    assert_eq!(run.code, 2);
    let view: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(view["allowed"], false);
    assert_eq!(view["tool"], "Write");
    assert_eq!(view["blocked"][0]["path"], absolute(&env, "dfh.toml"));
}

#[test]
fn guard_does_nothing_outside_a_harnessed_project() {
    let env = TestEnv::with_files(&[("train.py", "x = 1\n")]);
    let run = guard(
        &env,
        &claude_payload(&env, "Write", &absolute(&env, "dfh.toml")),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
}
