//! Fault injection: dfh SIGKILLed at every stage of the pipeline (`DFH_PAUSE_AT`). Each time
//! nothing is lost — journal, results.tsv, docs/hypotheses.md, user files, refs/dfh — the next
//! command settles or completes what was cut, and the experiment can go on.

use crate::support::{wait_for, Kept, TestEnv};

const USER_FILES: &[&str] = &["prepare.py", "notes.txt", "dfh.toml", "train.py"];

/// A project with a kept baseline and experiment 2 (a better LR) planned and edited.
fn second_experiment() -> TestEnv {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.plan("higher LR");
    env.set_lr("0.3");
    env.write("notes.txt", "my own notes\n");
    env
}

/// Starts `dfh run` paused at `stage`, SIGKILLs it there and returns what had to survive.
fn kill_at(env: &TestEnv, stage: &str) -> Kept {
    let kept = env.keep(USER_FILES);
    let stderr = env.path(".dfh/paused.txt");
    let mut dfh = env
        .command(&["run"])
        .env("DFH_PAUSE_AT", stage)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let paused = format!("paused at {stage}");
    let reached = wait_for(60.0, || {
        std::fs::read_to_string(&stderr).is_ok_and(|text| text.contains(&paused))
    });
    dfh.kill().unwrap();
    dfh.wait().unwrap();
    assert!(
        reached,
        "dfh never paused at {stage}: {}",
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    kept
}

/// Killed before the decision is journaled: the next command settles the run as
/// interrupted, the branch is back at the baseline, and `dfh run` runs it again.
fn killed_before_the_decision(stage: &str) {
    let env = second_experiment();
    let best = env.git(&["rev-parse", "refs/dfh/exp/1"]);
    let kept = kill_at(&env, stage);
    kept.assert_kept(&env);

    let status = env.dfh_ok(&["--json", "status"]);
    kept.assert_kept(&env);
    let status: serde_json::Value = serde_json::from_str(&status.stdout).unwrap();
    assert_eq!(status["next"]["action"], "run", "{status}");
    assert_eq!(
        env.head(),
        best,
        "the branch is back at the last kept commit"
    );
    let rerun = env.dfh_ok(&["run"]);
    assert!(
        rerun.stdout.starts_with("experiment 2 keep"),
        "{stage}: {}",
        rerun.stdout
    );
    kept.assert_kept(&env);
    assert_eq!(env.read("train.py"), kept_train(&env));
    assert_eq!(result_rows(&env, 2), 1, "{}", env.read("results.tsv"));
    assert!(env.git(&["log", "-1", "--format=%s"]) == "exp 2: higher LR");
}

fn kept_train(env: &TestEnv) -> String {
    env.git(&["show", "refs/dfh/exp/2:train.py"]) + "\n"
}

/// Rows of results.tsv for experiment `number`.
fn result_rows(env: &TestEnv, number: u32) -> usize {
    env.read("results.tsv")
        .lines()
        .filter(|line| line.split('\t').nth(5) == Some(number.to_string().as_str()))
        .count()
}

#[test]
fn killed_at_checks() {
    killed_before_the_decision("checks");
}

#[test]
fn killed_at_commit() {
    killed_before_the_decision("commit");
}

#[test]
fn killed_at_execute() {
    killed_before_the_decision("execute");
}

#[test]
fn killed_between_started_and_the_branch_move() {
    killed_before_the_decision("started");
}

#[test]
fn killed_after_the_branch_move_before_the_launch() {
    killed_before_the_decision("launch");
}

#[test]
fn killed_at_collect() {
    killed_before_the_decision("collect");
}

#[test]
fn killed_at_decide() {
    killed_before_the_decision("decide");
}

#[test]
fn killed_at_record() {
    killed_before_the_decision("record");
}

/// Killed after the decision is journaled: the next command writes the missing results.tsv
/// row and Result block, once, and says so.
fn killed_after_the_decision(stage: &str) {
    let env = second_experiment();
    let kept = kill_at(&env, stage);
    kept.assert_kept(&env);
    let status = env.dfh_ok(&["status"]);
    assert!(
        status
            .stdout
            .contains("experiment 2 was decided but an earlier dfh stopped"),
        "{stage}: {}",
        status.stdout
    );
    kept.assert_kept(&env);
    assert_eq!(result_rows(&env, 2), 1, "{}", env.read("results.tsv"));
    let hypotheses = env.read("docs/hypotheses.md");
    let entry = hypotheses.split("## Experiment 2").nth(1).unwrap();
    assert_eq!(entry.matches("### Result").count(), 1, "{hypotheses}");
    assert!(entry.contains("· keep ·"), "{hypotheses}");
    assert!(!env.path(".dfh/recording.json").exists());
    assert_eq!(env.read("train.py"), kept_train(&env));
    assert_eq!(env.head(), env.git(&["rev-parse", "refs/dfh/exp/2"]));

    // Completed once: a second command changes nothing, and the loop goes on.
    let again = env.dfh_ok(&["status"]);
    assert!(!again.stdout.contains("was decided"), "{}", again.stdout);
    assert_eq!(result_rows(&env, 2), 1);
    env.dfh_ok(&["learn", "2", "A higher LR helps."]);
    env.plan("depth");
    env.set_lr("0.35");
    env.dfh_ok(&["run"]);
    assert_eq!(result_rows(&env, 3), 1);
}

#[test]
fn killed_after_the_decision_before_results_tsv() {
    killed_after_the_decision("results");
}

#[test]
fn killed_after_results_tsv_before_hypotheses_md() {
    killed_after_the_decision("hypotheses");
}

#[test]
fn the_next_run_completes_the_record_before_it_starts() {
    let env = second_experiment();
    let kept = kill_at(&env, "results");
    kept.assert_kept(&env);
    let kept = env.keep(&["prepare.py", "notes.txt"]);
    env.dfh_ok(&["learn", "2", "A higher LR helps."]);
    env.plan("depth");
    env.set_lr("0.35");
    env.dfh_ok(&["run"]);
    kept.assert_kept(&env);
    assert_eq!(env.result_experiments(), ["1", "2", "3"]);
}
