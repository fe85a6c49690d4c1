//! The security pass (SECURITY.md): secrets never leave the training log through dfh, agent
//! text never reaches a shell, paths cannot leave the project, the report escapes everything,
//! and `dfh mcp` passes only argument vectors.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use serde_json::{json, Value};

use crate::support::{Run, TestEnv};

const HF_TOKEN: &str = "hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
const CLUSTER_PASS: &str = "correct-horse-battery-staple";
const OPENAI_KEY: &str = "sk-proj-Zyxwvutsrqponmlkjihgfedcba9876543210";
const SECRETS: [&str; 3] = [HF_TOKEN, CLUSTER_PASS, OPENAI_KEY];

/// Runs dfh with the secrets in its environment, as a user's shell would have them.
fn with_secrets(env: &TestEnv, args: &[&str]) -> Run {
    Run::from(
        env.command(args)
            .env("HF_TOKEN", HF_TOKEN)
            .env("CLUSTER_PASS", CLUSTER_PASS)
            .env("DFH_REDACT", "CLUSTER_PASS")
            .output()
            .unwrap(),
    )
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in SECRETS {
        assert!(!text.contains(secret), "{what} leaks {secret}:\n{text}");
    }
}

#[test]
fn secrets_printed_by_the_training_script_never_reach_dfh_outputs() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.plan("leaky");
    env.write(
        "train.py",
        &format!(
            "import os\nLR = 0.3\nprint('---')\nprint(f\"cluster_pass: {{os.environ['CLUSTER_PASS']}}\")\nprint(\"auth: Bearer abcdefghijklmnopqrstuvwxyz0123\")\nraise RuntimeError(f\"login failed for {{os.environ['HF_TOKEN']}} with {OPENAI_KEY}\")\n"
        ),
    );
    let run = with_secrets(&env, &["--json", "run"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_no_secret("dfh run --json", &run.stdout);
    assert_no_secret("dfh run's stderr", &run.stderr);
    let outcome: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["status"], "crash");
    assert!(
        outcome["diagnosis"].to_string().contains("[redacted]"),
        "{outcome}"
    );
    // The user's own log keeps what their script printed: dfh does not rewrite it.
    let log = env.read(".dfh/logs/2.log");
    assert!(log.contains(HF_TOKEN) && log.contains(CLUSTER_PASS));

    let crash = with_secrets(&env, &["--json", "crash"]);
    assert_eq!(crash.code, 0, "{}", crash.stderr);
    assert_no_secret("dfh crash --json", &crash.stdout);
    assert!(crash.stdout.contains("[redacted]"), "{}", crash.stdout);
    let from_file = with_secrets(&env, &["crash", ".dfh/logs/2.log"]);
    assert_no_secret("dfh crash FILE", &from_file.stdout);

    for args in [
        &["--json", "status"][..],
        &["--json", "show", "2"],
        &["brief"],
        &["--json", "brief"],
    ] {
        let shown = with_secrets(&env, args);
        assert_eq!(shown.code, 0, "{args:?}: {}", shown.stderr);
        assert_no_secret(&format!("dfh {args:?}"), &shown.stdout);
    }
    let report = with_secrets(&env, &["report"]);
    assert_eq!(report.code, 0, "{}", report.stderr);
    assert_no_secret("report/index.html", &env.read("report/index.html"));
    assert_no_secret("report/morning.md", &env.read("report/morning.md"));
    for file in [".dfh/journal.jsonl", "results.tsv", "docs/hypotheses.md"] {
        assert_no_secret(file, &env.read(file));
    }
    for entry in std::fs::read_dir(env.path("metrics")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert_no_secret("metrics/*.json", &text);
    }
}

#[test]
fn shell_metacharacters_in_agent_text_reach_git_and_the_report_literally() {
    let env = TestEnv::autoresearch();
    env.write("sentinel/keep.txt", "still here\n");
    let title = "$(touch pwned1) `touch pwned2`; touch pwned3 && rm -rf sentinel | <script>alert(1)</script>";
    env.dfh_ok(&[
        "plan",
        "--title",
        title,
        "--hypothesis",
        "It $(touch pwned4) helps; `touch pwned5` because of the LR.",
        "--expected",
        "val_bpb ~0.9 $(touch pwned6)",
        "--inspired-by",
        "docs/strategy.md",
        "--risk",
        "none; touch pwned7",
    ]);
    env.dfh_ok(&["run"]);
    env.dfh_ok(&["learn", "1", "Learned `touch pwned8` and $(touch pwned9)."]);
    env.dfh_ok(&["report"]);

    assert_eq!(
        env.git(&["log", "-1", "--format=%s"]),
        format!("exp 1: {title}")
    );
    assert_eq!(env.read("sentinel/keep.txt"), "still here\n");
    let home = env.path("../home");
    for dir in [env.root.clone(), home] {
        let names: Vec<String> = walk(&dir)
            .into_iter()
            .filter(|name| name.contains("pwned"))
            .collect();
        assert!(names.is_empty(), "a shell ran agent text: {names:?}");
    }
    let html = env.read("report/index.html");
    assert!(!html.contains("<script>alert(1)"), "unescaped title");
    assert!(html.contains("&lt;script&gt;alert(1)"), "title missing");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return names;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.file_name().is_some_and(|name| name == ".git") {
            continue;
        }
        names.push(path.display().to_string());
        if path.is_dir() && !path.is_symlink() {
            names.extend(walk(&path));
        }
    }
    names
}

#[test]
fn report_out_cannot_leave_the_project() {
    let env = TestEnv::autoresearch();
    let outside = env.path("../outside");
    std::fs::create_dir_all(&outside).unwrap();
    for out in ["../outside", "/tmp/dfh-report-escape", "docs/../../outside"] {
        let refused = env.dfh(&["report", "--out", out]);
        assert_eq!(refused.code, 3, "{out}: {}", refused.stderr);
        assert!(
            refused.stderr.contains("leaves the project"),
            "{}",
            refused.stderr
        );
    }
    assert!(!std::path::Path::new("/tmp/dfh-report-escape").exists());
    // A default folder replaced by a link to elsewhere, or a report file that is a link.
    std::os::unix::fs::symlink(&outside, env.path("report")).unwrap();
    let refused = env.dfh(&["report"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    std::fs::remove_file(env.path("report")).unwrap();
    std::fs::create_dir(env.path("report")).unwrap();
    let target = outside.join("bashrc");
    std::fs::write(&target, "user file\n").unwrap();
    std::os::unix::fs::symlink(&target, env.path("report/index.html")).unwrap();
    let refused = env.dfh(&["report"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("symbolic link"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "user file\n");
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
    std::fs::remove_file(env.path("report/index.html")).unwrap();
    env.dfh_ok(&["report", "--out", "docs/../report"]);
}

#[test]
fn citations_cannot_leave_the_project() {
    let env = TestEnv::autoresearch();
    let secret = env.path("../secret.md");
    std::fs::write(&secret, "# Private\nnot for agents\n").unwrap();
    std::os::unix::fs::symlink(&secret, env.path("docs/papers/linked.md")).unwrap();
    let journal = env.read(".dfh/journal.jsonl");
    for citation in [
        "../secret.md",
        "docs/../../secret.md",
        "/etc/passwd",
        "~/.ssh/id_rsa",
        "docs/papers/linked.md",
    ] {
        let refused = env.dfh(&[
            "plan",
            "--title",
            "escape",
            "--hypothesis",
            "A change that tests one idea.",
            "--expected",
            "val_bpb ~0.85",
            "--inspired-by",
            citation,
        ]);
        assert_eq!(refused.code, 3, "{citation}: {}", refused.stderr);
        assert!(!refused.stderr.contains("not for agents"));
    }
    assert_eq!(env.read(".dfh/journal.jsonl"), journal, "nothing planned");
}

#[test]
fn mcp_passes_agent_text_as_arguments_and_takes_no_command() {
    let env = TestEnv::autoresearch();
    let mut server = env
        .command(&["mcp"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = server.stdin.take().unwrap();
    let (sender, lines) = std::sync::mpsc::channel();
    let stdout = server.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = sender.send(line);
        }
    });
    let title = "$(touch pwned) `touch pwned`; touch pwned";
    let calls = [
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "dfh_plan", "arguments": {"title": title, "hypothesis": "--help; touch pwned", "expected": "val_bpb ~0.85", "inspired_by": ["docs/strategy.md"]}}}),
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "dfh_run", "arguments": {"command": "touch pwned"}}}),
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "dfh_learn", "arguments": {"experiment": 1, "text": "--title=x; touch pwned"}}}),
    ];
    for call in &calls {
        writeln!(stdin, "{call}").unwrap();
    }
    stdin.flush().unwrap();
    let mut answers = std::collections::BTreeMap::new();
    while answers.len() < 4 {
        let line = lines
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("an answer from dfh mcp");
        let message: Value = serde_json::from_str(&line).unwrap();
        if let Some(id) = message["id"].as_u64() {
            answers.insert(id, message);
        }
    }
    drop(stdin);
    let _ = server.wait();
    assert_eq!(answers[&2]["result"]["isError"], false, "{}", answers[&2]);
    let refused = answers[&3].to_string();
    assert!(refused.contains("unknown argument `command`"), "{refused}");
    assert!(!env.path("pwned").exists(), "a shell ran agent text");
    let planned = env.read("docs/hypotheses.md");
    assert!(planned.contains(title), "{planned}");
    assert!(
        planned.contains("Hypothesis: --help; touch pwned"),
        "{planned}"
    );
}
