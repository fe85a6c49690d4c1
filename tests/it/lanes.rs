//! Lanes: experiments running at once in their own worktrees (`dfh plan --lane k`, `dfh run
//! --lane k`), one journal, global numbers, and a fair comparison when the best moves.

use std::process::{Child, Stdio};

use crate::support::{alive, wait_for, TestEnv};

/// The metric is 1 - LR; the script sleeps SLEEP seconds and reports its GPUs and lane.
const TRAIN: &str = r#"import os, time
LR = 0.1
SLEEP = 0
time.sleep(SLEEP)
print("---")
print(f"val_bpb:          {1.0 - LR:.6f}")
print("gpus: " + os.environ.get("CUDA_VISIBLE_DEVICES", "none"))
print("lane: " + os.environ.get("DFH_LANE", "none"))
"#;

/// A harnessed project with a kept baseline (#1, val_bpb 0.9), one run per experiment.
fn with_baseline(extra_config: &str) -> TestEnv {
    let env = TestEnv::with_files(&[("train.py", TRAIN), ("prepare.py", "SEQ = 8\n")]);
    env.dfh_ok(&["init"]);
    let config = env
        .read("dfh.toml")
        .replace("repeats = 3 ", "repeats = 1 ")
        .replace("confirm = true ", "confirm = false");
    env.write("dfh.toml", &format!("{config}{extra_config}"));
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env
}

/// Sets LR and SLEEP in lane `lane`'s train.py.
fn edit_lane(env: &TestEnv, lane: u32, lr: &str, sleep: &str) {
    let path = format!(".dfh/lanes/{lane}/train.py");
    let text = env
        .read(&path)
        .lines()
        .map(|line| {
            if line.starts_with("LR = ") {
                format!("LR = {lr}")
            } else if line.starts_with("SLEEP = ") {
                format!("SLEEP = {sleep}")
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    env.write(&path, &format!("{text}\n"));
}

fn spawn_run(env: &TestEnv, lane: u32) -> Child {
    env.command(&["--json", "run", "--lane", &lane.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn dfh run --lane")
}

fn finish(child: Child) -> serde_json::Value {
    let output = child.wait_with_output().expect("wait for dfh");
    assert_eq!(
        output.status.code(),
        Some(0),
        "dfh run --lane failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("run JSON")
}

/// Plans lanes 1 and 2, sets each one's (LR, SLEEP), runs both at once and returns their
/// `dfh run --json` outcomes.
fn race(
    env: &TestEnv,
    one: (&str, &str, &str),
    two: (&str, &str, &str),
) -> (serde_json::Value, serde_json::Value) {
    for (lane, (title, lr, sleep)) in [(1, one), (2, two)] {
        let planned = env.plan_in_lane(lane, title);
        assert_eq!(planned.code, 0, "{}{}", planned.stdout, planned.stderr);
        // The plan names the worktree the change goes into.
        let worktree = format!(".dfh/lanes/{lane}");
        assert!(planned.stdout.contains(&worktree), "{}", planned.stdout);
        edit_lane(env, lane, lr, sleep);
    }
    let (lane1, lane2) = (spawn_run(env, 1), spawn_run(env, 2));
    (finish(lane1), finish(lane2))
}

/// The reason a user reads, kept as a snapshot beside the other messages.
fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

fn events_of(env: &TestEnv, kind: &str) -> Vec<serde_json::Value> {
    env.journal_events()
        .into_iter()
        .filter(|event| event["event"] == kind || event["type"] == kind)
        .collect()
}

fn line_of(env: &TestEnv, path: &str, prefix: &str) -> String {
    env.read(path)
        .lines()
        .find(|line| line.starts_with(prefix))
        .unwrap_or_default()
        .to_string()
}

#[test]
fn two_lanes_run_at_once_and_the_later_winner_is_judged_fairly() {
    let env = with_baseline("");
    // Lane 1 finishes first with the larger gain; lane 2, started from the same best,
    // finishes later with a smaller one.
    let (one, two) = race(
        &env,
        ("Higher LR", "0.2", "1"),
        ("Slightly higher LR", "0.15", "3"),
    );

    // Numbers are global and given at plan time; both ran at once.
    assert_eq!(
        (one["experiment"].as_u64(), two["experiment"].as_u64()),
        (Some(2), Some(3))
    );
    let journal = env.journal_events();
    let position = |kind: &str, experiment: u64| {
        journal
            .iter()
            .position(|event| {
                event["event"] == kind && event["experiment"].as_u64() == Some(experiment)
            })
            .unwrap_or_else(|| panic!("no {kind} for #{experiment}"))
    };
    assert!(
        position("started", 3) < position("decided", 2),
        "lane 2 started only after lane 1 decided: they did not run at once"
    );
    assert_eq!(journal[position("started", 2)]["lane"], 1);
    assert_eq!(journal[position("started", 3)]["lane"], 2);

    // Lane 1 beat the best it started from and became the best: the project's branch and
    // its train.py follow.
    assert_eq!(one["status"], "keep");
    let kept = env.git(&["rev-parse", "refs/dfh/exp/2"]);
    assert_eq!(env.git(&["rev-parse", "main"]), kept);
    assert_eq!(line_of(&env, "train.py", "LR = "), "LR = 0.2");
    assert!(env
        .git(&["status", "--porcelain", "--", "train.py"])
        .is_empty());

    // Lane 2 beat the best it started from (0.9), not the one found meanwhile (0.8).
    assert_eq!(two["status"], "discard");
    let reason = two["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("superseded"), "{reason}");
    assert!(reason.contains("#2 reached 0.8"), "{reason}");
    snapshot("lane_superseded", reason);
    assert_eq!(two["best_before"].as_f64(), Some(0.9));
    assert_eq!(line_of(&env, ".dfh/lanes/2/train.py", "LR = "), "LR = 0.1");

    // One results.tsv and one hypotheses.md, in experiment order.
    assert_eq!(env.result_experiments(), ["1", "2", "3"]);
    let hypotheses = env.read("docs/hypotheses.md");
    assert_eq!(
        hypotheses.matches("### Result\nval_bpb: ").count(),
        3,
        "{hypotheses}"
    );

    // The next plan in lane 2 moves its worktree to the new best.
    assert_eq!(env.plan_in_lane(2, "Another idea").code, 0);
    assert_eq!(line_of(&env, ".dfh/lanes/2/train.py", "LR = "), "LR = 0.2");
    assert_eq!(
        env.git(&["-C", ".dfh/lanes/2", "rev-parse", "HEAD"]),
        kept,
        "lane 2 is not on the best"
    );
}

#[test]
fn a_later_winner_that_beats_the_new_best_too_becomes_the_best() {
    let env = with_baseline("");
    let (one, two) = race(&env, ("Small step", "0.15", "1"), ("Big step", "0.3", "3"));
    assert_eq!(one["status"], "keep");
    assert_eq!(two["status"], "keep");
    let reason = two["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("also better than #2"), "{reason}");
    snapshot("lane_also_better_than_the_new_best", reason);
    assert_eq!(env.status()["best"]["experiment"], 3);
    assert_eq!(
        env.git(&["rev-parse", "main"]),
        env.git(&["rev-parse", "refs/dfh/exp/3"])
    );
    assert_eq!(line_of(&env, "train.py", "LR = "), "LR = 0.3");
}

#[test]
fn another_command_leaves_a_running_lane_alone_and_a_killed_one_is_settled() {
    let env = with_baseline("");
    assert_eq!(env.plan_in_lane(1, "Slow run").code, 0);
    edit_lane(&env, 1, "0.2", "30");
    let mut lane1 = spawn_run(&env, 1);
    let child_pid = || {
        events_of(&env, "launched")
            .into_iter()
            .filter(|event| event["experiment"] == 2)
            .find_map(|event| event["child_pid"].as_i64())
    };
    assert!(
        wait_for(20.0, || child_pid().is_some()),
        "lane 1 never launched"
    );
    let pid = child_pid().unwrap_or_default() as i32;

    // Status, and a plan in another lane, run while lane 1 trains, and leave it running.
    let status = env.status();
    assert_eq!(status["lanes"][0]["lane"], 1, "{status}");
    assert_eq!(status["lanes"][0]["experiment"], 2, "{status}");
    assert_eq!(env.plan_in_lane(2, "Meanwhile").code, 0);
    assert!(
        alive(pid),
        "the training of lane 1 was stopped by another command"
    );
    assert!(events_of(&env, "interrupted").is_empty());

    // dfh itself is killed; the next command stops the training, records the interruption
    // and puts lane 1's branch back where it was.
    lane1.kill().expect("kill dfh");
    let _ = lane1.wait();
    env.dfh_ok(&["status"]);
    assert!(
        wait_for(10.0, || !alive(pid)),
        "the orphaned training still runs"
    );
    let interrupted = events_of(&env, "interrupted");
    assert_eq!(interrupted.len(), 1);
    assert_eq!(interrupted[0]["experiment"], 2);
    assert_eq!(
        env.git(&["rev-parse", "dfh/lane-1"]),
        env.git(&["rev-parse", "refs/dfh/exp/1"])
    );
    // The edit stays in the lane's worktree, so the experiment simply runs again.
    assert_eq!(line_of(&env, ".dfh/lanes/1/train.py", "LR = "), "LR = 0.2");
    edit_lane(&env, 1, "0.2", "0");
    let again = finish(spawn_run(&env, 1));
    assert_eq!(again["experiment"], 2);
    assert_eq!(again["status"], "keep");
}

#[test]
fn each_lane_gets_its_gpus_and_a_lane_without_gpus_is_refused() {
    let env = with_baseline("");
    let config = env.read("dfh.toml").replace(
        "kind = \"local\"",
        "kind = \"local\"\ngpus = [\"3\", \"5,6\"]",
    );
    env.write("dfh.toml", &config);
    assert_eq!(env.plan_in_lane(2, "On two GPUs").code, 0);
    edit_lane(&env, 2, "0.2", "0");
    let run = finish(spawn_run(&env, 2));
    let log = env.read(run["log"].as_str().unwrap_or_default());
    assert!(log.contains("gpus: 5,6"), "{log}");
    assert!(log.contains("lane: 2"), "{log}");

    assert_eq!(env.plan_in_lane(3, "No GPU left").code, 0);
    let refused = env.dfh(&["run", "--lane", "3"]);
    assert_eq!(refused.code, 3, "{}{}", refused.stdout, refused.stderr);
    assert!(
        refused.stderr.contains("lane 3 has no GPUs") && refused.stderr.contains("gpus = ["),
        "{}",
        refused.stderr
    );
}

#[test]
fn lanes_start_from_a_baseline_and_a_lane_needs_its_plan() {
    let env = TestEnv::with_files(&[("train.py", TRAIN), ("prepare.py", "SEQ = 8\n")]);
    env.dfh_ok(&["init"]);
    let refused = env.plan_in_lane(1, "Too early");
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("run the baseline first"),
        "{}",
        refused.stderr
    );

    let env = with_baseline("");
    let refused = env.dfh(&["run", "--lane", "1"]);
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("dfh plan --lane 1"),
        "{}",
        refused.stderr
    );
    // From inside a lane's worktree, dfh knows its lane.
    assert_eq!(env.plan_in_lane(1, "Inside").code, 0);
    edit_lane(&env, 1, "0.2", "0");
    let mut command = env.command(&["--json", "run"]);
    command.current_dir(env.path(".dfh/lanes/1"));
    let output = command.output().expect("run in the lane");
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let events = events_of(&env, "started");
    assert_eq!(
        events.last().map(|event| event["lane"].clone()),
        Some(1.into())
    );
}

/// A well-behaved agent for lanes: plans with `dfh plan` (its lane comes from the worktree it
/// runs in), raises LR by a step of its own, and records a learning.
const LANE_AGENT: &str = r###"import os, re, subprocess, sys
dfh = os.environ["DFH_BIN"]
step = os.environ["DFH_STEP"]
number = int(os.environ["DFH_EXPERIMENT"])
lane = int(os.environ["DFH_LANE"])
prompt = sys.stdin.read()
with open(os.path.join(os.environ["AGENT_STATE"], f"lane{lane}.log"), "a") as log:
    log.write(f"=== {step} {number} in {os.getcwd()}\n{prompt}\n")

def call(*args):
    return subprocess.run([dfh, "--json", *args], capture_output=True, text=True).stdout

if step in ("plan", "fix") and lane == int(os.environ.get("BROKEN_LANE", "0")):
    pass  # this lane's agent breaks the rules: it changes nothing
elif step == "plan":
    call("plan", "--title", f"lane {lane} step {number}", "--hypothesis", "a higher LR helps",
         "--expected", "val_bpb ~0.5", "--inspired-by", "docs/strategy.md", "--risk", "none",
         "--direction", f"lr-{lane}")
    text = open("train.py").read()
    lr = 0.1 + number / 100 + lane / 1000
    open("train.py", "w").write(re.sub(r"^LR = .*$", f"LR = {lr}", text, flags=re.M))
elif step == "learn":
    call("learn", str(number), f"lane {lane} learned from {number}")
"###;

/// A project for `dfh loop --lanes` with the lane agent; one run per experiment.
fn loop_project(sleep: &str) -> TestEnv {
    let env = TestEnv::with_files(&[
        (
            "train.py",
            &TRAIN.replace("SLEEP = 0", &format!("SLEEP = {sleep}")),
        ),
        ("prepare.py", "SEQ = 8\n"),
        ("agent.py", LANE_AGENT),
    ]);
    env.dfh_ok(&["init"]);
    let config = env
        .read("dfh.toml")
        .replace("repeats = 3 ", "repeats = 1 ")
        .replace("confirm = true ", "confirm = false")
        .replace("[executor]", "[agent]\ntimeout = \"20s\"\n\n[executor]");
    env.write("dfh.toml", &config);
    env
}

/// `dfh loop --lanes 2` with the lane agent (its log in `state`), `extra` flags, and the
/// agent of lane `broken` breaking the rules.
fn lanes_loop(
    env: &TestEnv,
    state: &std::path::Path,
    extra: &[&str],
    broken: Option<u32>,
) -> std::process::Output {
    let mut args = vec!["loop", "--lanes", "2", "--agent", "python3 agent.py"];
    args.extend_from_slice(extra);
    env.command(&args)
        .env("DFH_BIN", crate::support::DFH)
        .env("AGENT_STATE", state)
        .env("BROKEN_LANE", broken.unwrap_or(0).to_string())
        .output()
        .expect("run dfh loop --lanes 2")
}

#[test]
fn a_lane_that_fails_stops_the_others() {
    let state = tempfile::tempdir().expect("agent state dir");
    let env = loop_project("0");
    let output = lanes_loop(&env, state.path(), &["--max-experiments", "200"], Some(2));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("lane 2 (exit 1) stopped with an error"),
        "{stderr}"
    );
    assert!(
        stdout.contains("lane 2") && stdout.contains("rejected plan step"),
        "{stdout}"
    );
    // Lane 1 stopped after its current step instead of running its 100 experiments.
    let rows = env.read("results.tsv").lines().count() - 1;
    assert!(rows < 50, "lane 1 went on: {rows} rows");
    assert!(
        !env.path(".dfh/stop").exists(),
        "the stop file was left behind"
    );
}

#[test]
fn the_loop_runs_two_lanes_with_their_own_agents() {
    let state = tempfile::tempdir().expect("agent state dir");
    let env = loop_project("1");
    let output = lanes_loop(
        &env,
        state.path(),
        &["--json", "--max-experiments", "7"],
        None,
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The baseline alone, then three experiments per lane, every line tagged with its lane.
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let experiments: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|line| line["type"] == "experiment")
        .collect();
    assert_eq!(experiments.len(), 7, "{stdout}");
    let in_lane = |lane: u64| {
        experiments
            .iter()
            .filter(|line| line["lane"].as_u64() == Some(lane))
            .count()
    };
    assert_eq!((in_lane(0), in_lane(1), in_lane(2)), (1, 3, 3), "{stdout}");
    let rows = env.read("results.tsv").lines().count() - 1;
    assert_eq!(rows, 7);

    // The lanes ran at once: one started while the other's experiment was running.
    let journal = env.journal_events();
    let mut running: std::collections::BTreeSet<u64> = Default::default();
    let mut overlapped = false;
    for event in &journal {
        let lane = event["lane"].as_u64();
        match event["event"].as_str() {
            Some("started") if lane.is_some() => {
                overlapped |= !running.is_empty() && !running.contains(&lane.unwrap_or(0));
                running.insert(lane.unwrap_or(0));
            }
            Some("decided") | Some("interrupted") => {
                let experiment = event["experiment"].as_u64();
                let started_lane = journal.iter().rev().find_map(|other| {
                    (other["event"] == "started" && other["experiment"].as_u64() == experiment)
                        .then(|| other["lane"].as_u64())
                        .flatten()
                });
                if let Some(lane) = started_lane {
                    running.remove(&lane);
                }
            }
            _ => {}
        }
    }
    assert!(overlapped, "the two lanes never trained at the same time");

    // Each agent worked in its own worktree and was told what the other lane was trying.
    let log2 = std::fs::read_to_string(state.path().join("lane2.log")).expect("lane 2 log");
    assert!(
        log2.contains(".dfh/lanes/2"),
        "lane 2's agent ran elsewhere"
    );
    assert!(log2.contains("you work in lane 2"), "{log2}");
    let log1 = std::fs::read_to_string(state.path().join("lane1.log")).expect("lane 1 log");
    let told = log1.contains("lane 2, #") || log2.contains("lane 1, #");
    assert!(
        told,
        "no brief named the other lane's experiment:\n{log1}\n{log2}"
    );
    // The project's branch holds the best, wherever it was found.
    let best = env.status()["best"]["experiment"].as_u64().unwrap_or(0);
    assert_eq!(
        env.git(&["rev-parse", "main"]),
        env.git(&["rev-parse", &format!("refs/dfh/exp/{best}")])
    );
}

#[test]
fn results_stay_in_experiment_order_when_a_later_experiment_finishes_first() {
    let env = with_baseline("");
    assert_eq!(env.plan_in_lane(1, "Slow").code, 0);
    assert_eq!(env.plan_in_lane(2, "Fast").code, 0);
    edit_lane(&env, 1, "0.12", "3");
    edit_lane(&env, 2, "0.11", "0");
    let slow = spawn_run(&env, 1);
    assert!(wait_for(20.0, || !events_of(&env, "launched")
        .iter()
        .all(|event| event["experiment"] == 1)));
    let fast = finish(spawn_run(&env, 2));
    let slow = finish(slow);
    assert_eq!(
        (slow["experiment"].as_u64(), fast["experiment"].as_u64()),
        (Some(2), Some(3))
    );
    let journal = env.journal_events();
    let decided: Vec<u64> = journal
        .iter()
        .filter(|event| event["event"] == "decided")
        .filter_map(|event| event["experiment"].as_u64())
        .collect();
    assert_eq!(decided, [1, 3, 2], "#3 did not finish first");
    assert_eq!(env.result_experiments(), ["1", "2", "3"]);
}
