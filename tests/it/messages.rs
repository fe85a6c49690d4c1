//! Snapshots of the messages an agent reads when dfh refuses or advises: each must say what is
//! wrong, where, and the fix. Paths, hashes and times are filtered out.

use crate::support::{TestEnv, PREPARE, TRAIN};

fn settings() -> insta::Settings {
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(r"\b[0-9a-f]{40}\b", "[commit]");
    settings.add_filter(r"\b[0-9a-f]{7}\b", "[short]");
    settings.add_filter(r"/tmp/[^\s`']+", "[path]");
    settings.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "[time]");
    settings.add_filter(r"\d+(\.\d+)? s\b", "[seconds] s");
    settings.set_snapshot_path("snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings
}

fn refusal(env: &TestEnv, args: &[&str]) -> String {
    let run = env.dfh(args);
    assert_eq!(
        run.code, 3,
        "{args:?} should be refused:\n{}\n{}",
        run.stdout, run.stderr
    );
    run.stderr
}

#[test]
fn teaching_messages() {
    let env = TestEnv::with_files(&[("train.py", TRAIN), ("prepare.py", PREPARE)]);
    env.dfh_ok(&["init"]);
    let settings = settings();
    settings.bind(|| {
        insta::assert_snapshot!("run_without_a_hypothesis", refusal(&env, &["run"]));
        insta::assert_snapshot!(
            "plan_citing_a_missing_paper",
            refusal(&env, &[
                "plan", "--title", "t", "--hypothesis", "h", "--expected", "val_bpb ~0.8",
                "--inspired-by", "docs/papers/adam.md",
            ])
        );
        env.plan("baseline");
        env.write("prepare.py", "MAX_SEQ_LEN = 4096\n");
        insta::assert_snapshot!("readonly_file_changed", refusal(&env, &["run"]));
        env.write("prepare.py", PREPARE);
        env.write("train.py", "LR = 0.1\ndef broken(:\n    pass\n");
        insta::assert_snapshot!("syntax_error", refusal(&env, &["run"]));
        env.write("train.py", TRAIN);
        env.write(
            "checks/rules.toml",
            "[[rule]]\nname = \"depth\"\nexpr = \"DEPTH <= 6\"\nmessage = \"DEPTH is {DEPTH} but at most 6 layers fit the budget. Lower DEPTH on {line:DEPTH}.\"\n\n[[rule]]\nname = \"typo\"\nexpr = \"DEPHT > 0\"\n",
        );
        insta::assert_snapshot!("rules_refuse_with_teaching_messages", refusal(&env, &["check"]));
        env.write("checks/rules.toml", "");
        env.dfh_ok(&["run"]);
        env.plan("out of memory");
        env.write(
            "train.py",
            "DEVICE_BATCH_SIZE = 128\nraise RuntimeError('CUDA out of memory. Tried to allocate 2.00 GiB')\n",
        );
        let run = env.dfh_ok(&["run"]);
        insta::assert_snapshot!("crash_diagnosis", run.stdout);
    });
}

#[test]
fn lane_messages() {
    let env = TestEnv::with_files(&[("train.py", TRAIN), ("prepare.py", PREPARE)]);
    env.dfh_ok(&["init"]);
    let config = env
        .read("dfh.toml")
        .replace("repeats = 3", "repeats = 1")
        .replace("kind = \"local\"", "kind = \"local\"\ngpus = [\"0\"]");
    env.write("dfh.toml", &config);
    let settings = settings();
    settings.bind(|| {
        let early = env.plan_in_lane(1, "too early");
        assert_eq!(early.code, 3, "{}", early.stderr);
        insta::assert_snapshot!("lane_before_a_baseline", early.stderr);
        env.plan("baseline");
        env.dfh_ok(&["run"]);
        insta::assert_snapshot!(
            "lane_without_a_worktree",
            refusal(&env, &["run", "--lane", "1"])
        );
        assert_eq!(env.plan_in_lane(2, "second lane").code, 0);
        insta::assert_snapshot!("lane_without_gpus", refusal(&env, &["run", "--lane", "2"]));
        env.write("dfh.toml", &config.replace("gpus = [\"0\"]", ""));
        assert_eq!(env.plan_in_lane(1, "first lane").code, 0);
        let twice = env.plan_in_lane(1, "second idea");
        assert_eq!(twice.code, 3, "{}", twice.stderr);
        insta::assert_snapshot!("lane_already_planned", twice.stderr);
        env.write(
            ".dfh/lanes/1/train.py",
            &TRAIN.replace("LR = 0.1", "LR = 0.3"),
        );
        // The project's own tree has an edit of its own: the lane's keep leaves it alone.
        env.write("train.py", &TRAIN.replace("LR = 0.1", "LR = 0.12"));
        let kept = env.dfh_ok(&["run", "--lane", "1"]);
        let warning: Vec<&str> = kept
            .stdout
            .lines()
            .filter(|line| line.starts_with("warning:"))
            .collect();
        insta::assert_snapshot!("lane_keep_beside_edits", warning.join("\n"));
        env.write("train.py", TRAIN);
        insta::assert_snapshot!(
            "lane_without_a_hypothesis",
            refusal(&env, &["run", "--lane", "1"])
        );
    });
}
