//! Fault injection around the run: the training process killed, a full disk, a corrupt
//! journal, a broken dfh.toml, git left locked or detached, files changed under dfh's feet, a
//! 2 GB log that is not UTF-8, and a clock that goes backwards. Each gets a clear message, a
//! consistent state and nothing lost; the next command works.

use crate::support::{Kept, TestEnv, TRAIN};

const USER_FILES: &[&str] = &["prepare.py", "notes.txt", "dfh.toml"];

/// A project with a kept baseline, a user note and experiment 2 planned.
fn after_baseline() -> TestEnv {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.write("notes.txt", "my own notes\n");
    env.plan("second");
    env
}

/// The next experiment runs and is recorded: the state is consistent again.
/// A train.py better than the baseline (LR 0.3) that also runs `code` while it trains.
fn better_train_that(env: &TestEnv, code: &str) {
    env.write(
        "train.py",
        &TRAIN.replace("LR = 0.1", &format!("LR = 0.3\n{code}")),
    );
}

fn next_run_works(env: &TestEnv, kept: &Kept, number: u32) {
    env.write("train.py", &TRAIN.replace("LR = 0.1", "LR = 0.3"));
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with(&format!("experiment {number} keep")),
        "{}",
        run.stdout
    );
    kept.assert_kept(env);
}

#[test]
fn the_training_process_killed_by_sigkill_is_a_crash_with_one_retry() {
    let env = after_baseline();
    let kept = env.keep(USER_FILES);
    env.write(
        "train.py",
        "import os, signal\nLR = 0.3\nprint('step 1', flush=True)\nos.kill(os.getpid(), signal.SIGKILL)\n",
    );
    let run = env.dfh_ok(&["--json", "run"]);
    let outcome: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(outcome["status"], "crash", "{outcome}");
    // SIGKILL is what the kernel's OOM killer sends: the advisor says so, with one fix.
    assert!(
        outcome["reason"].as_str().unwrap().contains("137"),
        "{outcome}"
    );
    assert!(outcome["diagnosis"]["fix"].as_str().is_some(), "{outcome}");
    kept.assert_kept(&env);
    let kept = env.keep(USER_FILES);
    env.write("train.py", &TRAIN.replace("LR = 0.1", "LR = 0.3"));
    let retry = env.dfh_ok(&["run", "--retry"]);
    assert!(
        retry.stdout.starts_with("experiment 2 attempt 2 keep"),
        "{}",
        retry.stdout
    );
    kept.assert_kept(&env);
}

#[test]
fn a_full_disk_while_writing_results_tsv_is_completed_by_the_next_command() {
    let env = after_baseline();
    env.set_lr("0.3");
    let kept = env.keep(USER_FILES);
    let failed = crate::support::Run::from(
        env.command(&["run"])
            .env("DFH_FAIL_WRITE", "results.tsv")
            .output()
            .unwrap(),
    );
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("cannot append to results.tsv")
            && failed.stderr.contains("No space left on device"),
        "{}",
        failed.stderr
    );
    // No half row: the partial write was cut off.
    assert!(env.read("results.tsv").ends_with('\n'));
    assert_eq!(env.read("results.tsv").lines().count(), 2);
    kept.assert_kept(&env);

    let status = env.dfh_ok(&["status"]);
    assert!(
        status.stdout.contains("experiment 2 was decided"),
        "{}",
        status.stdout
    );
    assert_eq!(env.read("results.tsv").lines().count(), 3);
    assert!(env
        .read("docs/hypotheses.md")
        .split("## Experiment 2")
        .nth(1)
        .unwrap()
        .contains("### Result"));
    kept.assert_kept(&env);
}

#[test]
fn a_full_disk_while_writing_the_journal_leaves_it_whole() {
    let env = after_baseline();
    env.dfh_ok(&["learn", "1", "The baseline."]);
    let journal = std::fs::read(env.path(".dfh/journal.jsonl")).unwrap();
    let kept = env.keep(USER_FILES);
    env.set_lr("0.3");
    let failed = crate::support::Run::from(
        env.command(&["run"])
            .env("DFH_FAIL_WRITE", "journal.jsonl")
            .output()
            .unwrap(),
    );
    assert_eq!(failed.code, 1, "{}", failed.stderr);
    assert!(
        failed.stderr.contains("cannot append to the journal")
            && failed.stderr.contains("No space left on device")
            && failed.stderr.contains("free disk space"),
        "{}",
        failed.stderr
    );
    assert_eq!(
        std::fs::read(env.path(".dfh/journal.jsonl")).unwrap(),
        journal,
        "the half-written event was cut off"
    );
    kept.assert_kept(&env);
    next_run_works(&env, &kept, 2);
}

/// A real full disk: .dfh on a 4 MB tmpfs that the training log fills. Needs `mount`
/// (root); skipped without it unless DFH_REQUIRE_SYSTEM_TESTS=1.
#[test]
fn a_real_full_disk_during_training_is_recovered_once_space_is_freed() {
    let env = after_baseline();
    let Some(_mount) = Tmpfs::over(&env, ".dfh", "4m") else {
        return;
    };
    let kept = env.keep(USER_FILES);
    env.write(
        "train.py",
        "import sys\nLR = 0.3\nfor _ in range(200):\n    sys.stdout.write('x' * 65536 + '\\n')\n",
    );
    let failed = env.dfh(&["run"]);
    assert_ne!(failed.code, 0, "{}", failed.stdout);
    assert!(
        failed.stderr.contains("No space left on device"),
        "{}",
        failed.stderr
    );
    kept.assert_kept(&env);
    // Space is freed: the run is settled and the experiment runs again.
    std::fs::remove_file(env.path(".dfh/logs/2.log")).unwrap();
    let status = env.dfh_ok(&["status"]);
    assert!(
        status.stdout.contains("experiment 2 was interrupted"),
        "{}",
        status.stdout
    );
    kept.assert_kept(&env);
    next_run_works(&env, &kept, 2);
}

/// A tmpfs mounted over a folder of the project (its files copied in), unmounted on drop.
struct Tmpfs {
    path: std::path::PathBuf,
}

impl Tmpfs {
    fn over(env: &TestEnv, folder: &str, size: &str) -> Option<Self> {
        let path = env.path(folder);
        let saved = env.path(&format!("{folder}.saved"));
        std::fs::rename(&path, &saved).unwrap();
        std::fs::create_dir(&path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .output()
            .is_ok_and(|output| output.status.success());
        if !mounted {
            std::fs::remove_dir(&path).unwrap();
            std::fs::rename(&saved, &path).unwrap();
            let message = "skipped: cannot mount a tmpfs here (needs root); the full disk is covered by DFH_FAIL_WRITE tests";
            assert!(
                std::env::var("DFH_REQUIRE_SYSTEM_TESTS").as_deref() != Ok("1"),
                "{message}"
            );
            eprintln!("{message}");
            return None;
        }
        let copied = std::process::Command::new("cp")
            .arg("-a")
            .arg(format!("{}/.", saved.display()))
            .arg(&path)
            .status()
            .unwrap();
        assert!(copied.success());
        Some(Self { path })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

#[test]
fn a_corrupt_line_in_the_middle_of_the_journal_is_skipped_never_rewritten() {
    let env = after_baseline();
    let journal = env.read(".dfh/journal.jsonl");
    let lines: Vec<&str> = journal.lines().collect();
    let middle = lines.len() / 2;
    let mut corrupted = lines[..middle].join("\n").into_bytes();
    corrupted.extend_from_slice(b"\n{\"event\":\"finished\",\"at\":\"2026\xff garbage\n");
    corrupted.extend_from_slice(lines[middle..].join("\n").as_bytes());
    corrupted.push(b'\n');
    std::fs::write(env.path(".dfh/journal.jsonl"), &corrupted).unwrap();
    let kept = env.keep(USER_FILES);
    let status = env.dfh_ok(&["status"]);
    assert!(
        status.stdout.contains(&format!(
            "journal line {} skipped: not a journal event",
            middle + 1
        )),
        "{}",
        status.stdout
    );
    next_run_works(&env, &kept, 2);
    assert!(std::fs::read(env.path(".dfh/journal.jsonl"))
        .unwrap()
        .starts_with(&corrupted));
}

#[test]
fn a_broken_dfh_toml_is_named_by_key_and_line_and_nothing_moves() {
    let env = after_baseline();
    env.set_lr("0.3");
    let good = env.read("dfh.toml");
    let cases = [
        (
            "budget = \"5m\"",
            "budgett = \"5m\"",
            "unknown key `budgett`",
        ),
        ("budget = \"5m\"", "budget = 5", "budget"),
        ("goal = \"minimize\"", "goal = \"minimise\"", "minimise"),
        (
            "[distill]",
            "[distill]\nevery_n = 3",
            "unknown key `every_n`",
        ),
    ];
    for (from, to, named) in cases {
        let broken = good.replacen(from, to, 1);
        env.write("dfh.toml", &broken);
        let line = broken
            .lines()
            .position(|line| line.starts_with(to.lines().last().unwrap()))
            .unwrap()
            + 1;
        let kept = env.keep(&["prepare.py", "notes.txt", "dfh.toml", "train.py"]);
        let head = env.head();
        let run = env.dfh(&["run"]);
        assert_ne!(run.code, 0, "{to}");
        assert!(
            run.stderr.contains(&format!("dfh.toml:{line}")) && run.stderr.contains(named),
            "{to}: {}",
            run.stderr
        );
        assert_eq!(env.head(), head);
        kept.assert_kept(&env);
    }
    env.write("dfh.toml", &good);
    let kept = env.keep(USER_FILES);
    next_run_works(&env, &kept, 2);
}

#[test]
fn a_left_behind_index_lock_is_refused_with_the_fix() {
    let env = after_baseline();
    env.set_lr("0.3");
    let lock = env.path(".git/index.lock");
    std::fs::write(&lock, "").unwrap();
    let kept = env.keep(&["prepare.py", "notes.txt", "dfh.toml", "train.py"]);
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(
        run.stderr.contains("index.lock exists") && run.stderr.contains("rm "),
        "{}",
        run.stderr
    );
    kept.assert_kept(&env);
    assert!(!env.path(".dfh/logs/2.log").exists());
    std::fs::remove_file(&lock).unwrap();
    next_run_works(&env, &env.keep(USER_FILES), 2);
}

#[test]
fn a_detached_head_is_refused_and_switching_back_resumes() {
    let env = after_baseline();
    env.set_lr("0.3");
    let head = env.head();
    env.git(&["checkout", "-q", "--detach", &head]);
    let kept = env.keep(&["prepare.py", "notes.txt", "dfh.toml", "train.py"]);
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("git switch main"), "{}", run.stderr);
    kept.assert_kept(&env);
    env.git(&["switch", "-q", "main"]);
    next_run_works(&env, &env.keep(USER_FILES), 2);
}

#[test]
fn a_read_only_file_edited_by_the_agent_is_refused_and_left_as_edited() {
    let env = after_baseline();
    env.set_lr("0.3");
    env.write("prepare.py", "MAX_SEQ_LEN = 4096\nTIME_BUDGET = 300\n");
    let kept = env.keep(&["prepare.py", "notes.txt", "dfh.toml", "train.py"]);
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("git checkout -- prepare.py"),
        "{}",
        run.stderr
    );
    // dfh never reverts a user's file by itself; the fix is the user's (or agent's) to apply.
    kept.assert_kept(&env);
    env.git(&["checkout", "--", "prepare.py"]);
    next_run_works(&env, &env.keep(USER_FILES), 2);
}

#[test]
fn hypotheses_md_edited_by_the_agent_during_the_run_keeps_the_edit() {
    let env = after_baseline();
    let kept = env.keep(USER_FILES);
    better_train_that(
        &env,
        "note = 'Agent note during the run: try warmup next.'\nif note not in open('docs/hypotheses.md').read():\n    with open('docs/hypotheses.md', 'a') as notes:\n        notes.write('\\n' + note + '\\n')",
    );
    env.dfh_ok(&["run"]);
    kept.assert_kept(&env);
    let hypotheses = env.read("docs/hypotheses.md");
    assert_eq!(
        hypotheses
            .matches("Agent note during the run: try warmup next.")
            .count(),
        1,
        "{hypotheses}"
    );
    let entry = hypotheses.split("## Experiment 2").nth(1).unwrap();
    assert!(entry.contains("### Result"), "{hypotheses}");
}

#[test]
fn a_2_gb_log_that_is_not_utf8_is_scanned_and_diagnosed() {
    let env = after_baseline();
    // One run of 2 GiB is enough: no confirmation run with a second one.
    env.write(
        "dfh.toml",
        &env.read("dfh.toml")
            .replace("confirm = true", "confirm = false"),
    );
    let kept = env.keep(USER_FILES);
    // A sparse 2 GiB log (no disk used), invalid UTF-8 at both ends, the metric last.
    env.write(
        "train.py",
        "import os\nLR = 0.3\nos.write(1, b'\\xff\\xfe start \\x80\\x81\\n')\nos.ftruncate(1, 2 * 1024**3 + 64)\nos.lseek(1, 0, os.SEEK_END)\nos.write(1, b'\\xc3\\x28 end \\xa0\\xa1\\n---\\nval_bpb: 0.7\\n')\n",
    );
    let run = env.dfh_ok(&["run"]);
    assert!(
        run.stdout.starts_with("experiment 2 keep: val_bpb 0.7"),
        "{}",
        run.stdout
    );
    let log = env.path(".dfh/logs/2.log");
    assert!(std::fs::metadata(&log).unwrap().len() > 2 * 1024 * 1024 * 1024);
    let crash = env.dfh_ok(&["--json", "crash", ".dfh/logs/2.log"]);
    serde_json::from_str::<serde_json::Value>(&crash.stdout).unwrap();
    env.dfh_ok(&["show", "2"]);
    kept.assert_kept(&env);
    std::fs::remove_file(&log).unwrap();
}

#[test]
fn metrics_deleted_mid_run_is_recreated() {
    let env = after_baseline();
    let kept = env.keep(USER_FILES);
    better_train_that(
        &env,
        "import shutil\nshutil.rmtree('metrics', ignore_errors=True)",
    );
    env.dfh_ok(&["run"]);
    kept.assert_kept(&env);
    let commit = env.git(&["rev-parse", "refs/dfh/exp/2"]);
    assert!(env.path(&format!("metrics/{commit}.json")).exists());
    env.dfh_ok(&["status"]);
    env.dfh_ok(&["diag", "2"]);
    env.dfh_ok(&["report"]);
}

#[test]
fn a_clock_that_goes_backwards_does_not_reorder_anything() {
    let env = TestEnv::autoresearch();
    let at = |now: &str, args: &[&str]| {
        let run =
            crate::support::Run::from(env.command(args).env("DFH_NOW", now).output().unwrap());
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
        run
    };
    let later = "2026-03-01T12:00:00Z";
    let earlier = "2025-06-01T08:00:00Z";
    env.plan("baseline");
    at(later, &["run"]);
    at(earlier, &["learn", "1", "The baseline."]);
    at(
        earlier,
        &[
            "plan",
            "--title",
            "after the clock jumped back",
            "--hypothesis",
            "A higher LR helps.",
            "--expected",
            "val_bpb ~0.7",
            "--inspired-by",
            "Experiment 1",
        ],
    );
    env.set_lr("0.3");
    let run = at(earlier, &["run"]);
    assert!(
        run.stdout.starts_with("experiment 2 keep"),
        "{}",
        run.stdout
    );
    let status: serde_json::Value =
        serde_json::from_str(&at(later, &["--json", "status"]).stdout).unwrap();
    assert_eq!(status["best"]["experiment"], 2, "{status}");
    let rows: Vec<String> = env
        .read("results.tsv")
        .lines()
        .skip(1)
        .map(|line| line.split('\t').nth(5).unwrap().to_string())
        .collect();
    assert_eq!(rows, ["1", "2"]);
    at(earlier, &["report"]);
    assert!(env
        .read("report/morning.md")
        .contains("after the clock jumped back"));
    // The journal's order is the file's order, whatever its timestamps say.
    let decided: Vec<(u64, String)> = env
        .journal_events()
        .into_iter()
        .filter(|event| event["event"] == "decided")
        .map(|event| {
            let at = event["at"].as_str().unwrap().to_string();
            (event["experiment"].as_u64().unwrap(), at)
        })
        .collect();
    assert_eq!(decided, [(1, later.to_string()), (2, earlier.to_string())]);
    at(later, &["learn", "2", "Higher LR helped."]);
    at(
        earlier,
        &[
            "plan",
            "--title",
            "next",
            "--hypothesis",
            "h",
            "--expected",
            "val_bpb ~0.6",
            "--inspired-by",
            "Experiment 2",
        ],
    );
}
