//! `dfh run`: keep, discard, crash, timeout, refusals — with real git and python3.

use crate::support::{alive, wait_for, TestEnv};

#[test]
fn baseline_keeps_better_keeps_worse_discards() {
    let env = TestEnv::autoresearch();
    let initial = env.head();
    env.plan("baseline");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with("experiment 1 keep: val_bpb 0.9"),
        "{}",
        run.stdout
    );
    let baseline = env.head();
    assert_ne!(baseline, initial);
    assert_eq!(env.git(&["log", "-1", "--format=%s"]), "exp 1: baseline");
    assert_eq!(env.git(&["rev-parse", "refs/dfh/exp/1"]), baseline);

    env.plan("higher lr");
    env.set_lr("0.2");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout
            .starts_with("experiment 2 keep: val_bpb 0.8 (best before: 0.9)"),
        "{}",
        run.stdout
    );
    let kept = env.head();
    assert_eq!(env.git(&["rev-parse", "HEAD^"]), baseline);

    // A worse change is discarded: only train.py goes back; notes and untracked files stay.
    env.plan("lower lr");
    env.set_lr("0.05");
    env.write("NOTES-untracked.txt", "my notes\n");
    env.write("docs/architecture.md", "edited by the human\n");
    env.write("scratch/ignored.bin", "data");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with("experiment 3 discard: val_bpb 0.95"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("why: val_bpb 0.95 is not lower than the best 0.8"),
        "{}",
        run.stdout
    );
    assert_eq!(
        env.head(),
        kept,
        "the branch returns to the last kept commit"
    );
    assert!(
        env.read("train.py").contains("LR = 0.2"),
        "train.py is restored"
    );
    assert_eq!(env.read("NOTES-untracked.txt"), "my notes\n");
    assert_eq!(env.read("docs/architecture.md"), "edited by the human\n");
    assert_eq!(env.read("scratch/ignored.bin"), "data");
    // The discarded experiment's commit stays reachable.
    let discarded = env.git(&["rev-parse", "refs/dfh/exp/3"]);
    assert_eq!(
        env.git(&["show", &format!("{discarded}:train.py")])
            .lines()
            .nth(1),
        Some("LR = 0.05")
    );
    let diff = env.dfh_ok(&["show", "3", "--diff"]).stdout;
    assert!(
        diff.contains("-LR = 0.2") && diff.contains("+LR = 0.05"),
        "{diff}"
    );

    let results = env.read("results.tsv");
    let rows: Vec<Vec<&str>> = results
        .lines()
        .skip(1)
        .map(|line| line.split('\t').collect())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0][1..4], ["0.900000", "2.0", "keep"]);
    assert_eq!(rows[1][3], "keep");
    assert_eq!(rows[2][3], "discard");
    assert_eq!(rows[2][4], "lower lr");
    assert_eq!(rows[2][5], "3");

    let status = env.status();
    assert_eq!(status["best"]["experiment"], 2);
    assert_eq!(status["counts"]["keep"], 2);
    assert_eq!(status["counts"]["discard"], 1);
    assert_eq!(status["next"]["action"], "learn");
}

#[test]
fn an_exception_is_a_crash_and_the_branch_stays_at_the_best() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    let best = env.head();
    env.plan("broken");
    env.write(
        "train.py",
        "import sys\nprint('step 1')\nraise RuntimeError('mat1 and mat2 shapes cannot be multiplied (4x8 and 16x4)')\n",
    );
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with("experiment 2 crash: val_bpb none"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("exited with code 1"), "{}", run.stdout);
    assert!(run.stdout.contains("dfh run --retry"), "{}", run.stdout);
    assert_eq!(env.head(), best);
    assert!(env.read(".dfh/logs/2.log").contains("RuntimeError"));
    assert!(env
        .read("results.tsv")
        .lines()
        .last()
        .unwrap()
        .contains("\tcrash\t"));
    // A plain run is refused until the agent retries or plans something else.
    let refused = env.dfh(&["run"]);
    assert_eq!(refused.code, 3, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("dfh run --retry"),
        "{}",
        refused.stderr
    );
}

#[test]
fn a_metric_printed_by_a_failing_process_is_a_crash() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    env.plan("diverges");
    env.write(
        "train.py",
        "import sys\nprint('val_bpb: 0.1')\nprint('FAIL')\nsys.exit(1)\n",
    );
    let run = env.dfh_ok(&["run"]);
    assert!(run.stdout.contains("experiment 2 crash"), "{}", run.stdout);
    assert!(
        run.stdout.contains("which does not count"),
        "{}",
        run.stdout
    );
}

#[test]
fn stderr_output_alone_is_not_a_failure() {
    let env = TestEnv::autoresearch();
    env.write(
        "train.py",
        "import sys\nprint('warning: something', file=sys.stderr)\nprint('val_bpb: 1.0', file=sys.stderr)\n",
    );
    env.git(&["commit", "-qam", "stderr script"]);
    env.plan("baseline");
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with("experiment 1 keep: val_bpb 1"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_timeout_kills_the_whole_process_group() {
    let env = TestEnv::autoresearch();
    env.write(
        "train.py",
        r#"import os, time
pid = os.fork()
if pid == 0:
    time.sleep(600)
    os._exit(0)
with open("pids.txt", "w") as handle:
    handle.write(f"{os.getpid()} {pid}\n")
time.sleep(600)
"#,
    );
    env.git(&["commit", "-qam", "hanging script"]);
    env.plan("baseline");
    let run = env.dfh_ok(&["run", "--timeout", "2s"]);
    assert!(
        run.stdout.starts_with("experiment 1 timeout"),
        "{}",
        run.stdout
    );
    let pids: Vec<i32> = env
        .read("pids.txt")
        .split_whitespace()
        .map(|pid| pid.parse().unwrap())
        .collect();
    assert_eq!(pids.len(), 2);
    for pid in pids {
        assert!(
            wait_for(2.0, || !alive(pid)),
            "process {pid} survived the timeout"
        );
    }
}

#[test]
fn a_second_dfh_is_refused_with_the_holders_pid() {
    let env = TestEnv::autoresearch();
    env.write(
        "train.py",
        "import time\ntime.sleep(30)\nprint('val_bpb: 1.0')\n",
    );
    env.git(&["commit", "-qam", "slow script"]);
    env.plan("baseline");
    let mut first = env.command(&["run"]).spawn().unwrap();
    assert!(wait_for(10.0, || env
        .read(".dfh/journal.jsonl")
        .contains("\"launched\"")));
    let second = env.dfh(&["run"]);
    first.kill().unwrap();
    let _ = first.wait();
    assert_eq!(second.code, 1, "{}", second.stderr);
    assert!(
        second
            .stderr
            .contains(&format!("another dfh (pid {}", first.id())),
        "{}",
        second.stderr
    );
}

#[test]
fn editing_a_readonly_file_is_refused() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.write("prepare.py", "MAX_SEQ_LEN = 4096\n");
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("prepare.py changed since"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("git checkout -- prepare.py"),
        "{}",
        run.stderr
    );
    assert!(
        !env.path(".dfh/logs/1.log").exists(),
        "no training may start"
    );
    assert!(env.read(".dfh/journal.jsonl").contains("\"rejected\""));
}

#[test]
fn a_changed_source_file_outside_the_editable_set_is_refused_by_name() {
    let env = TestEnv::with_files(&[
        ("train.py", crate::support::TRAIN),
        ("model.py", "WIDTH = 1\n"),
    ]);
    env.dfh_ok(&["init"]);
    env.plan("baseline");
    env.write("model.py", "WIDTH = 2\n");
    env.write("helper.py", "X = 1\n");
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("model.py (modified)"), "{}", run.stderr);
    assert!(run.stderr.contains("helper.py (new)"), "{}", run.stderr);
}

#[test]
fn run_without_a_hypothesis_is_refused() {
    let env = TestEnv::autoresearch();
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("no pending hypothesis"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("dfh plan"), "{}", run.stderr);
}

#[test]
fn a_detached_head_is_refused_with_the_fix() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    let head = env.head();
    env.git(&["checkout", "-q", "--detach", &head]);
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("HEAD is detached"), "{}", run.stderr);
    assert!(run.stderr.contains("git switch main"), "{}", run.stderr);
}

/// `dfh run` with no git identity in its environment.
fn run_without_identity(env: &TestEnv) -> std::process::Output {
    env.command(&["run"])
        .env_remove("GIT_AUTHOR_NAME")
        .env_remove("GIT_AUTHOR_EMAIL")
        .env_remove("GIT_COMMITTER_NAME")
        .env_remove("GIT_COMMITTER_EMAIL")
        .output()
        .unwrap()
}

#[test]
fn works_without_a_git_identity() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    let output = run_without_identity(&env);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        env.git(&["log", "-1", "--format=%an <%ae>"]),
        "dfh <dfh@localhost>"
    );
    // The repository's own identity is used when it has one, a missing half from dfh.
    for (config, expected) in [
        (vec![("user.name", "Ada")], "Ada <dfh@localhost>"),
        (
            vec![("user.name", "Ada"), ("user.email", "ada@example.com")],
            "Ada <ada@example.com>",
        ),
    ] {
        for (key, value) in &config {
            env.git(&["config", key, value]);
        }
        env.plan("higher lr");
        env.set_lr(if config.len() == 1 { "0.2" } else { "0.3" });
        let output = run_without_identity(&env);
        assert_eq!(output.status.code(), Some(0));
        let number = config.len() + 1;
        let commit = format!("refs/dfh/exp/{number}");
        assert_eq!(
            env.git(&["log", "-1", "--format=%an <%ae> / %cn <%ce>", &commit]),
            format!("{expected} / {expected}")
        );
    }
}

#[test]
fn a_syntax_error_is_refused_before_any_process_starts() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.write("train.py", "LR = 0.1\ndef broken(:\n    pass\n");
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("train.py:2:"), "{}", run.stderr);
    assert!(run.stderr.contains("def broken(:"), "{}", run.stderr);
    assert!(!env.path(".dfh/logs/1.log").exists());
}

#[test]
fn a_huge_log_without_a_metric_is_scanned_in_bounded_memory() {
    let env = TestEnv::autoresearch();
    // 1 GiB of progress output, then no metric at all.
    env.write(
        "train.py",
        "import sys\nline = b'step 000123 | loss: 2.345678 | lr 0.001 | tok/s 123456 | mfu 38.5%' + b' ' * 27 + b'\\n'\nblock = line * 10000\nfor _ in range(1100):\n    sys.stdout.buffer.write(block)\n",
    );
    env.git(&["commit", "-qam", "chatty script"]);
    env.plan("baseline");
    // wait4 gives the peak RSS of this dfh process (and what it waited for) alone.
    #[expect(clippy::zombie_processes, reason = "reaped by wait4 below")]
    let child = env
        .command(&["run"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(pid, child.id() as i32);
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.unwrap(), &mut stdout).unwrap();
    assert!(stdout.contains("experiment 1 crash"), "{stdout}");
    assert!(
        stdout.contains("val_bpb is missing from the log"),
        "{stdout}"
    );
    let size = std::fs::metadata(env.path(".dfh/logs/1.log"))
        .unwrap()
        .len();
    assert!(size > 1_000_000_000, "log is {size} bytes");
    let peak_mb = usage.ru_maxrss as f64 / 1024.0;
    assert!(peak_mb < 100.0, "dfh peaked at {peak_mb:.0} MB");
    std::fs::remove_file(env.path(".dfh/logs/1.log")).unwrap();
}

/// The tree of an experiment is its parent's with the editable files of the working tree,
/// whatever dfh built before: a commit of the user's own between experiments, and a change
/// of the editable set, both reach the next experiment's commit.
#[test]
fn each_experiment_commit_holds_its_parent_tree_and_the_editable_files() {
    let env = TestEnv::autoresearch();
    env.experiment("baseline", None);
    env.experiment("worse", Some("0.05"));
    // The user commits a file of their own on the branch.
    env.write("data/extra.csv", "a,b\n1,2\n");
    env.git(&["add", "data/extra.csv"]);
    env.git(&["commit", "-q", "-m", "more data"]);
    env.experiment("better", Some("0.2"));
    let files = env.git(&["ls-tree", "-r", "--name-only", "refs/dfh/exp/3"]);
    assert!(files.contains("data/extra.csv"), "{files}");
    assert!(env
        .git(&["show", "refs/dfh/exp/3:train.py"])
        .contains("LR = 0.2"));
    // A second editable file, then back to one: the new file is committed only while it is
    // editable, and its content is the working tree's at each run.
    env.write("model.py", "WIDTH = 64\n");
    env.git(&["add", "model.py"]);
    env.git(&["commit", "-q", "-m", "model"]);
    let config = env.read("dfh.toml");
    let line = config
        .lines()
        .find(|line| line.starts_with("editable = "))
        .expect("editable line")
        .to_string();
    env.write(
        "dfh.toml",
        &config.replace(&line, r#"editable = ["train.py", "model.py"]"#),
    );
    env.plan("wider");
    env.write("model.py", "WIDTH = 128\n");
    env.set_lr("0.15");
    let run = env.dfh_ok(&["run"]);
    assert!(run.stdout.contains("discard"), "{}", run.stdout);
    assert_eq!(
        env.git(&["show", "refs/dfh/exp/4:model.py"]).trim(),
        "WIDTH = 128"
    );
    let restored = "WIDTH = 64\n";
    assert_eq!(env.read("model.py"), restored);
    env.write(
        "dfh.toml",
        &env.read("dfh.toml")
            .replace(r#"editable = ["train.py", "model.py"]"#, &line),
    );
    env.experiment("narrower lr", Some("0.3"));
    assert_eq!(
        env.git(&["show", "refs/dfh/exp/5:model.py"]).trim(),
        restored.trim()
    );
    assert!(env
        .git(&["show", "refs/dfh/exp/5:train.py"])
        .contains("LR = 0.3"));
}
