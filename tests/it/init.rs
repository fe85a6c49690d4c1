//! `dfh init` on real repositories.

use crate::support::{TestEnv, PREPARE, TRAIN};

#[test]
fn init_detects_an_autoresearch_repository() {
    let env = TestEnv::with_files(&[("train.py", TRAIN), ("prepare.py", PREPARE)]);
    let run = env.dfh_ok(&["init"]);
    assert!(
        run.stdout.contains("`python3 train.py`, minimize val_bpb"),
        "{}",
        run.stdout
    );
    let config = env.read("dfh.toml");
    assert!(
        config.contains("command = \"python3 train.py\""),
        "{config}"
    );
    assert!(config.contains("editable = [\"train.py\"]"), "{config}");
    assert!(config.contains("readonly = [\"prepare.py\"]"), "{config}");
    assert!(config.contains("name = \"val_bpb\""), "{config}");
    for file in [
        "program.md",
        "docs/architecture.md",
        "docs/constraints.md",
        "docs/strategy.md",
        "docs/hypotheses.md",
        "docs/papers/README.md",
        "checks/rules.toml",
        "checks/failures.toml",
        "results.tsv",
    ] {
        assert!(env.path(file).exists(), "{file} was not created");
    }
    assert!(env.read("program.md").lines().count() <= 100);
    assert!(env
        .read("results.tsv")
        .starts_with("commit\tval_bpb\tmemory_gb\tstatus\tdescription"));
    let exclude = env.read(".git/info/exclude");
    for entry in ["/results.tsv", "/metrics/", "/.dfh/"] {
        assert!(
            exclude.lines().any(|line| line == entry),
            "{entry} not excluded:\n{exclude}"
        );
    }
    // Ignored by git: the working tree shows only the notes dfh wrote.
    let status = env.git(&["status", "--porcelain", "--ignored"]);
    assert!(status.contains("!! results.tsv"), "{status}");
}

#[test]
fn init_detects_uv_and_never_overwrites() {
    let env = TestEnv::with_files(&[
        ("train.py", TRAIN),
        ("pyproject.toml", "[project]\nname = \"x\"\n"),
        ("uv.lock", ""),
        ("program.md", "my own program\n"),
    ]);
    let run = env.dfh_ok(&["init"]);
    assert!(env
        .read("dfh.toml")
        .contains("command = \"uv run train.py\""));
    assert_eq!(env.read("program.md"), "my own program\n");
    assert!(
        run.stdout
            .contains("kept (already there, not touched): program.md"),
        "{}",
        run.stdout
    );
    // A second init keeps everything.
    env.write("docs/strategy.md", "mine\n");
    let again = env.dfh_ok(&["init"]);
    assert_eq!(env.read("docs/strategy.md"), "mine\n");
    assert!(again.stdout.contains("dfh.toml"), "{}", again.stdout);
    assert!(!again.stdout.contains("created:"), "{}", again.stdout);
}

#[test]
fn init_flags_replace_detection() {
    let env = TestEnv::with_files(&[(
        "makemore.py",
        "import argparse\nprint(f'step 1 train loss: 2.0 test loss: 2.1')\n",
    )]);
    env.dfh_ok(&[
        "init",
        "--command",
        "python3 makemore.py -i names.txt --max-steps 100",
        "--metric",
        "test_loss",
        "--pattern",
        r"test loss:\s*([0-9.]+)",
        "--editable",
        "makemore.py",
    ]);
    let config = env.read("dfh.toml");
    assert!(config.contains("command = \"python3 makemore.py -i names.txt --max-steps 100\""));
    assert!(config.contains("editable = [\"makemore.py\"]"), "{config}");
    assert!(config.contains("readonly = []"), "{config}");
    assert!(
        config.contains(r#"pattern = 'test loss:\s*([0-9.]+)'"#),
        "{config}"
    );
}

#[test]
fn init_outside_git_refuses_and_says_git_init() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(crate::support::DFH)
        .arg("init")
        .current_dir(dir.path())
        .env("GIT_CEILING_DIRECTORIES", dir.path().parent().unwrap())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("git init"), "{stderr}");
    assert!(!dir.path().join("dfh.toml").exists());
}

#[test]
fn a_bad_config_is_named_by_key_and_line() {
    let env = TestEnv::autoresearch();
    let config = env
        .read("dfh.toml")
        .replace("budget = \"5m\"", "budgett = \"5m\"");
    env.write("dfh.toml", &config);
    let run = env.dfh(&["status"]);
    assert_eq!(run.code, 1);
    let line = config
        .lines()
        .position(|line| line.starts_with("budgett"))
        .unwrap()
        + 1;
    assert!(
        run.stderr
            .contains(&format!("dfh.toml:{line}: unknown key `budgett`")),
        "{}",
        run.stderr
    );
}
