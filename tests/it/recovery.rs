//! dfh killed mid-run, or interrupted with Ctrl-C: nothing is lost and git is restored.

use crate::support::{alive, wait_for, TestEnv};

const SLOW_FORKING: &str = r#"import os, time
pid = os.fork()
if pid == 0:
    time.sleep(600)
    os._exit(0)
with open("pids.txt", "w") as handle:
    handle.write(f"{os.getpid()} {pid}\n")
time.sleep(600)
print("val_bpb: 0.5")
"#;

fn start_slow_run(env: &TestEnv) -> (std::process::Child, Vec<i32>) {
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.plan("slow");
    env.write("train.py", SLOW_FORKING);
    let child = env
        .command(&["run"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_for(15.0, || env.path("pids.txt").exists()
        && env.read("pids.txt").ends_with('\n')));
    let pids = env
        .read("pids.txt")
        .split_whitespace()
        .map(|pid| pid.parse().unwrap())
        .collect();
    (child, pids)
}

#[test]
fn kill_9_mid_run_is_settled_by_the_next_command() {
    let env = TestEnv::autoresearch();
    let (mut dfh, pids) = {
        let (child, pids) = start_slow_run(&env);
        (child, pids)
    };
    let best = env.git(&["rev-parse", "refs/dfh/exp/1"]);
    assert_ne!(
        env.head(),
        best,
        "the experiment commit is checked out while it runs"
    );
    dfh.kill().unwrap(); // SIGKILL
    dfh.wait().unwrap();

    let status = env.dfh_ok(&["status"]);
    assert!(
        status.stdout.contains("experiment 2 was interrupted"),
        "{}",
        status.stdout
    );
    for pid in &pids {
        assert!(wait_for(5.0, || !alive(*pid)), "process {pid} survived");
    }
    assert_eq!(
        env.head(),
        best,
        "the branch is back at the last kept commit"
    );
    let events = env.journal_events();
    assert!(events
        .iter()
        .any(|event| event["event"] == "interrupted" && event["experiment"] == 2));
    // The experiment's code is kept (working tree and ref) and it can run again.
    assert_eq!(env.read("train.py"), SLOW_FORKING);
    assert!(env
        .git(&["show", "refs/dfh/exp/2:train.py"])
        .contains("os.fork()"));
    assert_eq!(env.status()["next"]["action"], "run");
    env.write(
        "train.py",
        &crate::support::TRAIN.replace("LR = 0.1", "LR = 0.3"),
    );
    let rerun = env.dfh_ok(&["run"]);
    assert!(
        rerun.stdout.starts_with("experiment 2 keep"),
        "{}",
        rerun.stdout
    );
    assert!(env.path(".dfh/logs/2.log").exists());
}

#[test]
fn ctrl_c_stops_the_group_and_records_the_interruption() {
    let env = TestEnv::autoresearch();
    let (dfh, pids) = start_slow_run(&env);
    let best = env.git(&["rev-parse", "refs/dfh/exp/1"]);
    unsafe { libc::kill(dfh.id() as i32, libc::SIGINT) };
    let output = dfh.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
    for pid in &pids {
        assert!(wait_for(5.0, || !alive(*pid)), "process {pid} survived");
    }
    assert_eq!(env.head(), best);
    let events = env.journal_events();
    assert_eq!(events.last().unwrap()["event"], "interrupted");
}
