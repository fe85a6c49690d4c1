//! `[executor] kind = "slurm"` against a real Slurm cluster: keep, discard, timeout, Ctrl-C
//! and a job lost by the scheduler.
//!
//! These tests use the cluster that `SLURM_CONF` (or Slurm's default config) points at; they
//! do not start one, because daemons started from a test binary would outlive it. Start one
//! with `eval "$(scripts/slurm-local.sh start /tmp/dfh-slurm)"` (root, Debian packages
//! slurmctld slurmd slurm-client munge), as `.ci/run` does. Without `sbatch` or a cluster
//! that answers, they skip with a message; under `DFH_REQUIRE_SYSTEM_TESTS=1` they fail.
//! They run one at a time: they share the node, and one of them takes it down.

use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

use crate::support::{alive, wait_for, TestEnv};

static CLUSTER: Mutex<()> = Mutex::new(());

/// The cluster's node name, holding the lock that serialises these tests; None to skip.
fn cluster() -> Option<(MutexGuard<'static, ()>, String)> {
    let guard = CLUSTER
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    let problem = match slurm(&["sinfo", "-h", "-N", "-o", "%N|%T"]) {
        None => "sbatch/sinfo are not installed (apt-get install slurm-client)".to_string(),
        Some((false, output)) => format!(
            "no Slurm cluster answers ({})",
            output.lines().last().unwrap_or_default().trim()
        ),
        Some((true, output)) => {
            let nodes: Vec<(String, String)> = output
                .lines()
                .filter_map(|line| line.split_once('|'))
                .map(|(node, state)| (node.to_string(), state.to_string()))
                .collect();
            // A node left down by an interrupted run of these tests goes back into service.
            for (node, state) in &nodes {
                if state.starts_with("down") || state.starts_with("drain") {
                    slurm(&[
                        "scontrol",
                        "update",
                        &format!("NodeName={node}"),
                        "State=RESUME",
                    ]);
                }
            }
            match nodes.first() {
                Some((node, _)) if wait_for(30.0, || node_ready(node)) => {
                    return Some((guard, node.clone()))
                }
                Some((node, state)) => format!("the node {node} is {state}"),
                None => "the cluster has no node".to_string(),
            }
        }
    };
    let message = format!(
        "{problem}. Start a local cluster with `eval \"$(scripts/slurm-local.sh start /tmp/dfh-slurm)\"`"
    );
    if std::env::var(dfh::env::REQUIRE_SYSTEM_TESTS).is_ok_and(|value| value == "1") {
        panic!("Slurm test cannot run: {message} (DFH_REQUIRE_SYSTEM_TESTS=1)");
    }
    eprintln!("Slurm test skipped: {message}");
    None
}

fn node_ready(node: &str) -> bool {
    slurm(&["sinfo", "-h", "-n", node, "-N", "-o", "%T"]).is_some_and(|(ok, state)| {
        ok && ["idle", "mixed", "allocated"].contains(&state.trim().trim_end_matches('*'))
    })
}

/// Runs a Slurm client command: (success, stdout and stderr), or None when it is missing.
fn slurm(args: &[&str]) -> Option<(bool, String)> {
    let output = Command::new(args[0])
        .args(&args[1..])
        .stdin(Stdio::null())
        .output()
        .ok()?;
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    Some((output.status.success(), text))
}

/// The job's state in `squeue -t all`, and whether plain `squeue` (pending and running
/// jobs) still lists it.
fn job_state(job_id: &str) -> (String, bool) {
    let all = slurm(&["squeue", "-h", "-t", "all", "-j", job_id, "-o", "%T"]).unwrap();
    let active = slurm(&["squeue", "-h", "-j", job_id, "-o", "%T"]).unwrap();
    (all.1.trim().to_string(), !active.1.trim().is_empty())
}

/// A harnessed project whose runs go to Slurm, one run per experiment (no noise repeats or
/// confirmations: these tests are about the executor).
fn slurm_project(extra: &str) -> TestEnv {
    let env = TestEnv::autoresearch();
    let config = env
        .read("dfh.toml")
        .replace(
            "[executor]\nkind = \"local\"",
            &format!("[executor]\nkind = \"slurm\"\n{extra}"),
        )
        .replace("repeats = 3", "repeats = 1")
        .replace("confirm = true", "confirm = false");
    assert!(config.contains("kind = \"slurm\""), "{config}");
    env.write("dfh.toml", &config);
    env
}

fn events(env: &TestEnv, kind: &str) -> Vec<Value> {
    env.journal_events()
        .into_iter()
        .filter(|event| event["event"] == kind)
        .collect()
}

/// A train.py that records its pid in `pid_file`, then sleeps for good unless `finish_file`
/// exists, in which case it prints the metric at once.
fn sleeping_train(env: &TestEnv) -> (std::path::PathBuf, std::path::PathBuf) {
    let outside = env.root.parent().unwrap();
    let pid_file = outside.join("train.pid");
    let finish_file = outside.join("finish");
    env.write(
        "train.py",
        &format!(
            r#"import os, time
LR = 0.1
if os.path.exists({finish:?}):
    print("val_bpb: 0.9")
    raise SystemExit(0)
with open({pid:?} + ".part", "w") as handle:
    handle.write(str(os.getpid()))
os.rename({pid:?} + ".part", {pid:?})
time.sleep(600)
"#,
            finish = finish_file.display().to_string(),
            pid = pid_file.display().to_string(),
        ),
    );
    (pid_file, finish_file)
}

fn wait_for_pid(pid_file: &std::path::Path) -> i32 {
    assert!(
        wait_for(60.0, || pid_file.exists()),
        "the job never started"
    );
    let pid = std::fs::read_to_string(pid_file).unwrap().parse().unwrap();
    std::fs::remove_file(pid_file).unwrap();
    pid
}

#[test]
fn a_kept_and_a_discarded_experiment_run_through_slurm() {
    let Some((_cluster, node)) = cluster() else {
        return;
    };
    let gpus = slurm(&["sinfo", "-h", "-o", "%G"]).is_some_and(|(_, gres)| gres.contains("gpu"));
    let env = slurm_project(if gpus { "gres = \"gpu:1\"" } else { "" });
    let config = env.read("dfh.toml").replace(
        "command = \"python3 train.py\"",
        "command = \"echo job=$SLURM_JOB_ID gpus=$CUDA_VISIBLE_DEVICES experiment=$DFH_EXPERIMENT; python3 train.py\"",
    );
    env.write("dfh.toml", &config);
    let baseline_commit = env.head();

    env.plan("baseline");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with("experiment 1 keep: val_bpb 0.9"),
        "{}",
        run.stdout
    );
    let kept = env.head();
    assert_ne!(kept, baseline_commit);
    let finished = events(&env, "finished");
    let job_id = finished[0]["job_id"].as_str().unwrap().to_string();
    assert_eq!(finished[0]["exit_code"], 0);
    assert_eq!(finished[0]["node"], node.as_str());
    let launched = events(&env, "launched");
    assert!(launched
        .iter()
        .all(|event| event["job_id"] == job_id.as_str()));
    assert!(
        launched.iter().any(|event| event["node"] == node.as_str()),
        "{launched:?}"
    );
    let log = env.read(".dfh/logs/1.log");
    assert!(
        log.contains(&format!("job={job_id} ")) && log.contains("experiment=1"),
        "{log}"
    );
    if gpus {
        assert!(
            log.contains("gpus=0"),
            "gres gpu:1 sets CUDA_VISIBLE_DEVICES: {log}"
        );
    }
    assert_eq!(job_state(&job_id), ("COMPLETED".to_string(), false));

    env.plan("lower lr");
    env.set_lr("0.05");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with("experiment 2 discard: val_bpb 0.95"),
        "{}",
        run.stdout
    );
    assert_eq!(env.head(), kept, "the branch returns to the kept commit");
    assert!(env.read("train.py").contains("LR = 0.1"));
    let finished = events(&env, "finished");
    assert_ne!(finished[1]["job_id"], job_id.as_str());
    assert_eq!(finished[1]["node"], node.as_str());
    let results = env.read("results.tsv");
    assert!(
        results.contains("\tkeep\t") && results.contains("\tdiscard\t"),
        "{results}"
    );
}

#[test]
fn a_timeout_cancels_the_job() {
    let Some((_cluster, _node)) = cluster() else {
        return;
    };
    let env = slurm_project("");
    let (pid_file, _) = sleeping_train(&env);
    env.git(&["commit", "-qam", "hanging script"]);
    env.plan("baseline");
    let mut dfh = env.command(&["run", "--timeout", "2s"]).spawn().unwrap();
    let pid = wait_for_pid(&pid_file);
    assert!(alive(pid));
    let status = dfh.wait().unwrap();
    assert!(status.success());
    let finished = events(&env, "finished");
    assert_eq!(finished[0]["timed_out"], true);
    let job_id = finished[0]["job_id"].as_str().unwrap();
    let (state, active) = job_state(job_id);
    assert_eq!(state, "CANCELLED");
    assert!(!active, "job {job_id} is still in squeue");
    assert!(!alive(pid), "the training process {pid} survived scancel");
    assert_eq!(events(&env, "decided")[0]["outcome"], "timeout");
}

#[test]
fn ctrl_c_cancels_the_job_and_records_an_interruption() {
    let Some((_cluster, _node)) = cluster() else {
        return;
    };
    let env = slurm_project("");
    let (pid_file, _) = sleeping_train(&env);
    env.git(&["commit", "-qam", "hanging script"]);
    let before = env.head();
    env.plan("baseline");
    let mut dfh = env
        .command(&["run"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = wait_for_pid(&pid_file);
    // SAFETY: sends SIGINT to the dfh we started.
    unsafe { libc::kill(dfh.id() as i32, libc::SIGINT) };
    let status = dfh.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    assert!(!alive(pid), "the training process {pid} survived Ctrl-C");
    let launched = events(&env, "launched");
    let job_id = launched[0]["job_id"].as_str().unwrap();
    let (state, active) = job_state(job_id);
    assert_eq!(state, "CANCELLED");
    assert!(!active);
    assert_eq!(events(&env, "interrupted").len(), 1);
    assert_eq!(env.head(), before);
}

#[test]
fn a_lost_job_is_requeued_once_then_recorded_as_lost() {
    let Some((_cluster, node)) = cluster() else {
        return;
    };
    let env = slurm_project("");
    let (pid_file, finish_file) = sleeping_train(&env);
    env.git(&["commit", "-qam", "script that waits"]);
    let take_node_down = || {
        let (ok, output) = slurm(&[
            "scontrol",
            "update",
            &format!("NodeName={node}"),
            "State=DOWN",
            "Reason=dfh-test",
        ])
        .unwrap();
        assert!(ok, "{output}");
        // The node comes back by itself (ReturnToService=2); RESUME makes sure.
        wait_for(30.0, || {
            slurm(&[
                "scontrol",
                "update",
                &format!("NodeName={node}"),
                "State=RESUME",
            ]);
            node_ready(&node)
        });
    };

    // Lost once: the second job runs and the experiment is decided as usual.
    env.plan("baseline");
    let dfh = env
        .command(&["run"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let first = wait_for_pid(&pid_file);
    std::fs::write(&finish_file, "").unwrap();
    take_node_down();
    let output = dfh.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("experiment 1 keep"), "{stdout}");
    assert!(wait_for(10.0, || !alive(first)), "the lost job's process");
    let finished = events(&env, "finished");
    let requeued = finished[0]["requeued"].as_str().unwrap();
    assert!(
        requeued.contains("lost by the scheduler: NODE_FAIL"),
        "{requeued}"
    );
    let job_ids: Vec<String> = events(&env, "launched")
        .iter()
        .filter_map(|event| event["job_id"].as_str().map(str::to_string))
        .collect();
    assert!(job_ids.len() >= 2 && job_ids.first() != job_ids.last());
    assert_eq!(finished[0]["job_id"], job_ids.last().unwrap().as_str());

    // Lost twice: no result; recorded as interrupted, the branch goes back.
    std::fs::remove_file(&finish_file).unwrap();
    let kept = env.head();
    env.plan("lost twice");
    env.set_lr("0.2");
    let dfh = env
        .command(&["run"])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_pid(&pid_file);
    take_node_down();
    if !wait_for(60.0, || pid_file.exists()) {
        let _ = Command::new("kill").arg(dfh.id().to_string()).status();
        let output = dfh.wait_with_output().unwrap();
        panic!("no second job: {}", String::from_utf8_lossy(&output.stderr));
    }
    wait_for_pid(&pid_file);
    take_node_down();
    let output = dfh.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("requeued once, then job") && stderr.contains("sinfo -R"),
        "{stderr}"
    );
    let interrupted = events(&env, "interrupted");
    assert!(
        interrupted[0]["reason"]
            .as_str()
            .unwrap()
            .contains("lost by the scheduler"),
        "{interrupted:?}"
    );
    assert_eq!(env.head(), kept);
    assert_eq!(events(&env, "decided").len(), 1);
}

#[test]
fn a_job_left_by_a_killed_dfh_is_cancelled_by_the_next_command() {
    let Some((_cluster, _node)) = cluster() else {
        return;
    };
    let env = slurm_project("");
    let (pid_file, _) = sleeping_train(&env);
    env.git(&["commit", "-qam", "hanging script"]);
    let before = env.head();
    env.plan("baseline");
    let mut dfh = env.command(&["run"]).spawn().unwrap();
    let pid = wait_for_pid(&pid_file);
    dfh.kill().unwrap(); // SIGKILL: no chance to scancel
    dfh.wait().unwrap();
    let job_id = events(&env, "launched")[0]["job_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(job_state(&job_id), ("RUNNING".to_string(), true));

    let status = env.dfh_ok(&["status"]);
    assert!(
        status.stdout.contains("experiment 1 was interrupted"),
        "{}",
        status.stdout
    );
    assert!(
        wait_for(30.0, || job_state(&job_id)
            == ("CANCELLED".to_string(), false)),
        "{:?}",
        job_state(&job_id)
    );
    assert!(wait_for(5.0, || !alive(pid)), "process {pid} survived");
    assert_eq!(env.head(), before);
}

#[test]
fn two_lanes_run_through_slurm_at_once() {
    let Some((_cluster, _node)) = cluster() else {
        return;
    };
    let env = slurm_project("");
    let outside = env.root.parent().unwrap().to_path_buf();
    // Each job appends its start and end times (and its job id) to a file outside the project.
    env.write(
        "train.py",
        &format!(
            r#"import os, time
LR = 0.1
SLEEP = 0
start = time.time()
time.sleep(SLEEP)
with open({times:?}, "a") as handle:
    handle.write(f"{{os.environ.get('SLURM_JOB_ID')}} {{os.environ.get('DFH_LANE')}} {{start}} {{time.time()}}\n")
print(f"val_bpb: {{1.0 - LR:.6f}}")
"#,
            times = outside.join("times").display().to_string()
        ),
    );
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    // Lane 1 trains for 4 s and lane 2 for 7 s, so lane 1 decides first whatever the load.
    for (lane, lr, sleep) in [(1, "0.2", "4"), (2, "0.15", "7")] {
        let planned = env.plan_in_lane(lane, &format!("lane {lane}"));
        assert_eq!(planned.code, 0, "{}{}", planned.stdout, planned.stderr);
        let path = format!(".dfh/lanes/{lane}/train.py");
        let text = env
            .read(&path)
            .replace("LR = 0.1", &format!("LR = {lr}"))
            .replace("SLEEP = 0", &format!("SLEEP = {sleep}"));
        env.write(&path, &text);
    }
    let spawn = |lane: &str| {
        env.command(&["--json", "run", "--lane", lane])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (one, two) = (spawn("1"), spawn("2"));
    let mut statuses = Vec::new();
    for child in [one, two] {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let value: Value = serde_json::from_str(&stdout).unwrap();
        statuses.push(value["status"].as_str().unwrap_or_default().to_string());
    }
    assert_eq!(
        statuses,
        ["keep", "discard"],
        "lane 2 is superseded by lane 1's 0.8"
    );

    // Two jobs, one per lane, whose trainings overlapped in time.
    let times = std::fs::read_to_string(outside.join("times")).unwrap();
    let jobs: Vec<(String, String, f64, f64)> = times
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(' ').collect();
            (
                cells[0].to_string(),
                cells[1].to_string(),
                cells[2].parse().unwrap(),
                cells[3].parse().unwrap(),
            )
        })
        .collect();
    assert_eq!(jobs.len(), 2, "{times}");
    assert_ne!(jobs[0].0, jobs[1].0, "one job per lane: {times}");
    let mut lanes: Vec<&str> = jobs.iter().map(|job| job.1.as_str()).collect();
    lanes.sort();
    assert_eq!(lanes, ["1", "2"], "{times}");
    let overlap = jobs[0].3.min(jobs[1].3) - jobs[0].2.max(jobs[1].2);
    let cpus: u32 = slurm(&["sinfo", "-h", "-N", "-o", "%c"])
        .and_then(|(_, text)| text.trim().lines().next()?.trim().parse().ok())
        .unwrap_or(0);
    if cpus >= 2 {
        assert!(
            overlap > 2.0,
            "the two lanes' jobs did not run at once: {times}"
        );
    } else {
        // One core per job (CR_Core): a one-core node runs them one after the other.
        eprintln!("the node has {cpus} CPU: the two jobs could not overlap ({times})");
    }
    let finished = events(&env, "finished");
    assert!(finished
        .iter()
        .filter(|event| event["experiment"] != 1)
        .all(|event| event["job_id"].is_string()));
}
