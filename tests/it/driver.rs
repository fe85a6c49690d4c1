//! `dfh loop` end to end with a scripted agent that is a real child process (a python3
//! script calling the real dfh), covering every rule break, the stop file, and resuming.

use crate::support::{wait_for, TestEnv, DFH};

/// val_bpb = 1 − LR + seed noise: a higher LR is better.
const TRAIN: &str = "import os, random\nLR = 0.1\nnoise = random.Random(int(os.environ.get('DFH_SEED', '0'))).gauss(0, 0.001)\nprint(f'val_bpb: {1.0 - LR + noise:.6f}')\n";

/// The agent: well-behaved except on the experiments where it breaks one rule.
const AGENT: &str = r###"import json, os, re, subprocess, sys, time
dfh = os.environ["DFH_BIN"]
step = os.environ["DFH_STEP"]
number = int(os.environ["DFH_EXPERIMENT"])
prompt = sys.stdin.read()
state_dir = os.environ["AGENT_STATE"]
tries_file = os.path.join(state_dir, f"{step}-{number}")
tries = int(open(tries_file).read()) if os.path.exists(tries_file) else 0
open(tries_file, "w").write(str(tries + 1))
with open(os.path.join(state_dir, "prompts.log"), "a") as log:
    log.write(f"=== {step} {number} try {tries}\n{prompt}\n")

def call(*args):
    return subprocess.run([dfh, "--json", *args], capture_output=True, text=True).stdout

def set_lr(value):
    text = open("train.py").read()
    open("train.py", "w").write(re.sub(r"^LR = .*$", f"LR = {value}", text, flags=re.M))

def plan():
    call("plan", "--title", f"lr step {number}", "--hypothesis", "a higher LR helps",
         "--expected", "val_bpb ~0.5", "--inspired-by", "docs/strategy.md", "--risk", "none",
         "--direction", "lr")

if number == 14 and step == "plan":
    open(".dfh/stop", "w").write("stop")

if step == "plan":
    first = tries == 0
    if number == 3 and first:
        plan(); set_lr(0.1 + number / 100)
        open("prepare.py", "a").write("# tampered\n")
    elif number == 5 and first:
        set_lr(0.1 + number / 100)            # no hypothesis
    elif number == 7 and first:
        plan(); set_lr(0.1 + number / 100)
        open("dfh.toml", "a").write("\n# tampered\n")
    elif number == 9 and first:
        time.sleep(30)                         # past the step timeout
    elif number == 11 and first:
        plan()                                 # changes nothing
    else:
        plan(); set_lr(0.1 + number / 100)
elif step in ("fix", "retry"):
    set_lr(0.1 + number / 100 + 0.001)
elif step == "learn":
    call("learn", str(number), f"experiment {number} taught something")
elif step == "distill":
    text = open("docs/strategy.md").read()
    text = text.replace("## Priorities\n", "## Priorities\n1. Keep raising LR: it is the only knob that pays.\n", 1)
    open("docs/strategy.md", "w").write(text)
"###;

fn project(state: &std::path::Path) -> TestEnv {
    let env = TestEnv::with_files(&[
        ("train.py", TRAIN),
        ("prepare.py", "DATA = 1\n"),
        ("agent.py", AGENT),
    ]);
    env.dfh_ok(&["init"]);
    let config = env
        .read("dfh.toml")
        .replace("[executor]", "[agent]\ntimeout = \"4s\"\n\n[executor]");
    env.write("dfh.toml", &config);
    let _ = state;
    env
}

fn loop_command(env: &TestEnv, state: &std::path::Path, extra: &[&str]) -> std::process::Command {
    let mut args = vec!["loop", "--agent", "python3 agent.py"];
    args.extend_from_slice(extra);
    let mut command = env.command(&args);
    command.env("DFH_BIN", DFH).env("AGENT_STATE", state);
    command
}

#[test]
fn the_loop_runs_a_night_and_rejects_every_rule_break() {
    let state = tempfile::tempdir().unwrap();
    let env = project(state.path());
    let output = loop_command(&env, state.path(), &["--max-experiments", "20"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(".dfh/stop was found"),
        "the stop file ends the loop:\n{stdout}"
    );

    let events = env.journal_events();
    let steps: Vec<&serde_json::Value> = events
        .iter()
        .filter(|event| event["event"] == "agent_step")
        .collect();
    let rejected = |number: u64, needle: &str| {
        steps.iter().any(|event| {
            event["experiment"] == number
                && event["outcome"] == "rejected"
                && event["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(needle)
        })
    };
    assert!(rejected(3, "prepare.py"), "read-only edit: {steps:#?}");
    assert!(rejected(5, "no hypothesis"), "no hypothesis: {steps:#?}");
    assert!(rejected(7, "dfh.toml"), "harness file: {steps:#?}");
    assert!(
        rejected(9, "did not finish within 4 s"),
        "timeout: {steps:#?}"
    );
    assert!(
        rejected(11, "changed nothing"),
        "changed nothing: {steps:#?}"
    );
    // Every rejected change outside the editable set was undone.
    assert_eq!(env.read("prepare.py"), "DATA = 1\n");
    assert!(!env.read("dfh.toml").contains("tampered"));
    // The reason reaches the next prompt.
    let prompts = std::fs::read_to_string(state.path().join("prompts.log")).unwrap();
    assert!(
        prompts.contains("prepare.py outside the editable files"),
        "reason in the next prompt"
    );

    let status = env.status();
    let decided = events
        .iter()
        .filter(|event| event["event"] == "decided")
        .count();
    assert!(decided >= 12, "at least 12 experiments ran, got {decided}");
    assert!(status["counts"]["keep"].as_u64().unwrap() >= 5, "{status}");
    assert!(
        events.iter().any(|event| event["event"] == "distilled"),
        "a distillation at 10"
    );
    assert!(env.read("docs/strategy.md").contains("Keep raising LR"));
    assert!(events.iter().any(|event| event["event"] == "learned"));
    assert!(env.path(".dfh/agent/2.plan.log").exists());
    assert!(!env.path(".dfh/stop").exists(), "the stop file is consumed");
}

#[test]
fn three_rejected_steps_in_a_row_stop_the_loop() {
    let env = TestEnv::with_files(&[("train.py", TRAIN)]);
    env.dfh_ok(&["init"]);
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.dfh_ok(&["learn", "1", "baseline"]);
    let run = env.dfh(&["loop", "--agent", "true"]);
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .contains("three agent steps in a row broke the rules"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("wrote no hypothesis") || run.stderr.contains("changed nothing"),
        "{}",
        run.stderr
    );
}

#[test]
fn ctrl_c_ends_the_loop_and_the_same_command_resumes_it() {
    let state = tempfile::tempdir().unwrap();
    let env = project(state.path());
    // A slower script, so the interrupt lands in a training run.
    env.write(
        "train.py",
        &TRAIN.replace(
            "import os, random",
            "import os, random, time\ntime.sleep(0.5)",
        ),
    );
    env.git(&["commit", "-qam", "slower"]);
    let child = loop_command(&env, state.path(), &["--max-experiments", "4"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(60.0, || env
        .read(".dfh/journal.jsonl")
        .matches("\"decided\"")
        .count()
        >= 2));
    assert!(wait_for(30.0, || env
        .read(".dfh/journal.jsonl")
        .lines()
        .last()
        .unwrap_or_default()
        .contains("\"launched\"")));
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let output = child.wait_with_output().unwrap();
    assert_ne!(
        output.status.code(),
        Some(0),
        "interrupted: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let before = env.journal_events().len();
    let resumed = loop_command(&env, state.path(), &["--max-experiments", "2"])
        .output()
        .unwrap();
    assert_eq!(
        resumed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&resumed.stderr)
    );
    let events = env.journal_events();
    assert!(events.len() > before);
    assert!(events.iter().any(|event| event["event"] == "interrupted"));
    let mut numbers: Vec<u64> = events
        .iter()
        .filter(|event| event["event"] == "decided" && event["attempt"] == 1)
        .map(|event| event["experiment"].as_u64().unwrap())
        .collect();
    let count = numbers.len();
    numbers.dedup();
    assert_eq!(numbers.len(), count, "no experiment was decided twice");
    assert!(count >= 4, "{count}");
}

#[test]
fn the_demo_runs_a_whole_night_and_writes_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("night");
    let output = std::process::Command::new(DFH)
        .args(["demo"])
        .arg(&target)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for needle in [
        "keep",
        "discard",
        "crash",
        "refused",
        "rejected",
        "distilled",
        "report: ",
    ] {
        assert!(
            stdout.contains(needle),
            "`{needle}` missing from the demo's night:\n{stdout}"
        );
    }
    let html = std::fs::read_to_string(target.join("report/index.html")).unwrap();
    assert!(html.contains("<svg"));
    let journal = std::fs::read_to_string(target.join(".dfh/journal.jsonl")).unwrap();
    assert!(journal.matches("\"decided\"").count() >= 12);
}
