//! Fail fast, fail cheap: the crash advisor on real runs, one retry then revert, immune
//! memory, and pre-train checks whose messages teach.

use crate::support::{shared_dir, TestEnv};

const OOM_SCRIPT: &str = r#"import sys
DEVICE_BATCH_SIZE = 128
N_EMBD = 768
LR = 0.1

def train():
    raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.69 GiB total capacity; 21.50 GiB already allocated)")

train()
"#;

#[test]
fn a_crash_is_diagnosed_with_one_fix_naming_the_knob() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    env.plan("bigger batch");
    env.write("train.py", OOM_SCRIPT);
    let run = env.dfh_ok(&["run"]);
    assert!(run.stdout.contains("crash: oom_gpu"), "{}", run.stdout);
    assert!(run.stdout.contains("at: train.py:7:"), "{}", run.stdout);
    assert!(
        run.stdout.contains("DEVICE_BATCH_SIZE = 128 at train.py:2"),
        "{}",
        run.stdout
    );
    let crash: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "crash"]).stdout).unwrap();
    assert_eq!(crash["class"], "oom_gpu");
    assert_eq!(crash["location"]["file"], "train.py");
    assert!(crash["fix"].as_str().unwrap().contains("DEVICE_BATCH_SIZE"));
    let status = env.status();
    assert_eq!(status["next"]["action"], "retry");
}

#[test]
fn crash_then_retry_then_crash_abandons_and_restores_train_py() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    let kept = env.read("train.py");
    env.plan("bigger batch");
    env.write("train.py", OOM_SCRIPT);
    env.dfh_ok(&["run"]);
    // The failed code stays for the fix; the branch is back at the best.
    assert_eq!(env.read("train.py"), OOM_SCRIPT);
    env.write("train.py", &OOM_SCRIPT.replace("128", "64"));
    let retry = env.dfh_ok(&["run", "--retry"]);
    assert!(
        retry.stdout.starts_with("experiment 2 attempt 2 crash"),
        "{}",
        retry.stdout
    );
    assert!(retry.stdout.contains("abandoned"), "{}", retry.stdout);
    assert!(retry.stdout.contains("different idea"), "{}", retry.stdout);
    assert_eq!(
        env.read("train.py"),
        kept,
        "train.py is restored to the last kept commit"
    );
    assert!(
        env.path(".dfh/logs/2.2.log").exists(),
        "the retry has its own log"
    );
    let events = env.journal_events();
    assert!(events
        .iter()
        .any(|event| event["event"] == "abandoned" && event["experiment"] == 2));
    // Both attempts stay reachable.
    assert!(env
        .git(&["show", "refs/dfh/attempts/2.1:train.py"])
        .contains("= 128"));
    assert!(env
        .git(&["show", "refs/dfh/exp/2:train.py"])
        .contains("= 64"));
    for reference in ["refs/dfh/attempts/2.1", "refs/dfh/exp/2"] {
        assert_eq!(
            env.git(&["log", "-1", "--format=%s %P", reference]),
            format!(
                "exp 2: bigger batch {}",
                env.git(&["rev-parse", "refs/dfh/exp/1"])
            )
        );
    }
    let hypotheses = env.read("docs/hypotheses.md");
    assert!(
        hypotheses.contains("crash (second failure: abandoned)"),
        "{hypotheses}"
    );
    assert!(hypotheses.contains("Crash: oom_gpu"), "{hypotheses}");
    assert_eq!(env.status()["next"]["action"], "learn");
}

#[test]
fn a_new_plan_after_a_crash_abandons_it() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.dfh_ok(&["run"]);
    let kept = env.read("train.py");
    env.plan("bigger batch");
    env.write("train.py", OOM_SCRIPT);
    env.dfh_ok(&["run"]);
    let run = env.plan("something else");
    assert!(
        run.stdout.contains("experiment 2 is abandoned"),
        "{}",
        run.stdout
    );
    assert_eq!(env.read("train.py"), kept);
    assert!(env
        .read("docs/hypotheses.md")
        .contains("Abandoned: a new hypothesis was planned"));
    let status = env.status();
    assert_eq!(status["counts"]["abandoned"], 1);
    assert_eq!(status["next"]["action"], "run");
}

#[test]
fn a_taught_pattern_classifies_the_same_log_afterwards() {
    let env = TestEnv::autoresearch();
    env.plan("baseline");
    env.write(
        "train.py",
        "raise SystemExit('energy head collapsed: separation 0.000')\n",
    );
    env.git(&["commit", "-qam", "odd failure"]);
    env.dfh_ok(&["run"]);
    let before: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "crash"]).stdout).unwrap();
    assert_eq!(before["class"], "unclassified");
    let status = env.dfh_ok(&["status"]);
    assert!(
        status.stdout.contains("untaught crash: #1"),
        "{}",
        status.stdout
    );

    let bad = env.dfh(&[
        "crash",
        "learn",
        "--class",
        "made_up",
        "--pattern",
        "x",
        "--fix",
        "y",
    ]);
    assert_eq!(bad.code, 3);
    assert!(
        bad.stderr.contains("nan_inf"),
        "the classes are listed: {}",
        bad.stderr
    );
    let missing = env.dfh(&[
        "crash",
        "learn",
        "--class",
        "nan_inf",
        "--pattern",
        "no such text",
        "--fix",
        "y",
        "--from",
        "1",
    ]);
    assert_eq!(missing.code, 3, "{}", missing.stderr);

    env.dfh_ok(&[
        "crash",
        "learn",
        "--class",
        "nan_inf",
        "--pattern",
        r"energy head collapsed: separation [0.]+",
        "--fix",
        "Lower ENERGY_LR by 10x; the contrastive margin collapsed.",
        "--from",
        "1",
    ]);
    assert!(env
        .read("checks/failures.toml")
        .contains("energy head collapsed"));
    let after: serde_json::Value =
        serde_json::from_str(&env.dfh_ok(&["--json", "crash"]).stdout).unwrap();
    assert_eq!(after["class"], "nan_inf");
    assert!(after["fix"].as_str().unwrap().contains("ENERGY_LR"));
    assert!(!env.dfh_ok(&["status"]).stdout.contains("untaught"));
    let duplicate = env.dfh(&[
        "crash",
        "learn",
        "--class",
        "nan_inf",
        "--pattern",
        r"energy head collapsed: separation [0.]+",
        "--fix",
        "again",
    ]);
    assert_eq!(duplicate.code, 3, "{}", duplicate.stderr);
}

#[test]
fn dfh_crash_reads_a_file_or_stdin() {
    let env = TestEnv::autoresearch();
    let corpus = std::fs::read_to_string(shared_dir().join("crash-corpus/public.jsonl")).unwrap();
    let entry: serde_json::Value = corpus
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .find(|entry| entry["class"] == "shape_mismatch")
        .unwrap();
    env.write("traceback.txt", entry["traceback"].as_str().unwrap());
    let run = env.dfh_ok(&["--json", "crash", "traceback.txt"]);
    let diagnosis: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(diagnosis["class"], "shape_mismatch");
    let mut child = env
        .command(&["crash", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"Traceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n    import flash_attn\nModuleNotFoundError: No module named 'flash_attn'\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("import_error:"), "{text}");
    assert!(text.contains("flash_attn"), "{text}");
}

/// A train.py with ROTARY_DIM on line 47, as in the seed's example.
fn rotary_script(rotary_dim: u32) -> String {
    let mut lines: Vec<String> = (1..=46).map(|line| format!("# line {line}")).collect();
    lines[0] = "SEQ_LEN = 256".into();
    lines[1] = "NUM_HEADS = 16".into();
    lines.push(format!("ROTARY_DIM = {rotary_dim}"));
    lines.push("print('val_bpb: 1.0')".into());
    lines.join("\n") + "\n"
}

#[test]
fn the_rotary_rule_teaches_exactly_as_the_seed_says() {
    let env = TestEnv::with_files(&[("train.py", &rotary_script(16))]);
    env.dfh_ok(&["init"]);
    let rules = env.read("checks/rules.toml");
    let uncommented: String = rules
        .lines()
        .skip_while(|line| !line.starts_with("# [[rule]]"))
        .take(4)
        .map(|line| line.trim_start_matches("# ").to_string() + "\n")
        .collect();
    env.write("checks/rules.toml", &uncommented);
    env.dfh_ok(&["check"]);
    env.write("train.py", &rotary_script(64));
    let run = env.dfh(&["check"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("ROTARY_DIM is 64 but should be SEQ_LEN // NUM_HEADS = 16. Update ROTARY_DIM on line 47 of train.py."),
        "{}",
        run.stderr
    );
    env.plan("baseline");
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3);
    assert!(
        !env.path(".dfh/logs/1.log").exists(),
        "no training may start"
    );
    assert!(env
        .read(".dfh/journal.jsonl")
        .contains("\"stage\":\"checks\""));
}

#[test]
fn a_memory_estimate_over_the_limit_is_refused() {
    let env = TestEnv::autoresearch();
    env.write(
        "checks/rules.toml",
        "[memory]\nestimate_gb = \"DEPTH * 2\"\nlimit_gb = 24\n",
    );
    env.dfh_ok(&["check"]);
    env.write(
        "train.py",
        &crate::support::TRAIN.replace("DEPTH = 8", "DEPTH = 4"),
    );
    env.dfh_ok(&["check"]);
    env.write(
        "train.py",
        &crate::support::TRAIN.replace("DEPTH = 8", "DEPTH = 16"),
    );
    let run = env.dfh(&["check"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("estimated memory 32.0 GB"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("exceeds 24.0 GB"), "{}", run.stderr);
    assert!(
        run.stderr.contains("DEPTH = 16 (line 3 of train.py)"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_rule_naming_an_unknown_constant_is_a_clear_config_error() {
    let env = TestEnv::autoresearch();
    env.write(
        "checks/rules.toml",
        "[[rule]]\nname = \"depth\"\nexpr = \"DEPHT <= 16\"\nmessage = \"too deep\"\n",
    );
    let run = env.dfh(&["check"]);
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("DEPHT"), "{}", run.stderr);
    assert!(
        run.stderr.contains("DEPTH"),
        "a close name is suggested: {}",
        run.stderr
    );
}

#[test]
fn the_user_check_script_and_the_smoke_run_refuse_before_training() {
    let env = TestEnv::autoresearch();
    env.write(
        "checks/pre_train_check.py",
        "import sys\nsys.exit('LR must stay below 0.5; lower LR on line 2 of train.py')\n",
    );
    let run = env.dfh(&["check"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("LR must stay below 0.5"),
        "{}",
        run.stderr
    );
    std::fs::remove_file(env.path("checks/pre_train_check.py")).unwrap();

    let config = env.read("dfh.toml") + "\n[checks]\nsmoke = true\nsmoke_timeout = \"20s\"\n";
    env.write("dfh.toml", &config);
    env.write(
        "train.py",
        "import dfh_diag\nrun = dfh_diag.Run()\nrun.log(0, loss=1.0)\nx = [1, 2][5]\n",
    );
    env.git(&["add", "train.py"]);
    env.git(&["commit", "-qm", "script with a bug after step 0"]);
    env.plan("baseline");
    // dfh_diag stops the smoke run after the first logged step: the bug is not reached.
    env.dfh_ok(&["run"]);
    env.plan("bug before the first step");
    env.write(
        "train.py",
        "import dfh_diag\nrun = dfh_diag.Run()\nx = [1, 2][5]\nrun.log(0, loss=1.0)\n",
    );
    let run = env.dfh(&["run"]);
    assert_eq!(run.code, 3, "{}", run.stderr);
    assert!(run.stderr.contains("the smoke run"), "{}", run.stderr);
    assert!(run.stderr.contains("index_out_of_range"), "{}", run.stderr);
    assert!(
        !env.path(".dfh/logs/2.log").exists(),
        "no training may start"
    );
}
