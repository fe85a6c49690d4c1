//! The hermetic test environment: a temp project in its own git repository, a fixed
//! identity and clock, and helpers to run the real `dfh` binary in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const DFH: &str = env!("CARGO_BIN_EXE_dfh");

pub struct TestEnv {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    home: PathBuf,
}

/// A train.py shaped like autoresearch's: constants, a summary block, the metric from LR.
pub const TRAIN: &str = r#"import os, sys
LR = 0.1
DEPTH = 8
print("step 00001 | loss: 2.5")
print("---")
print(f"val_bpb:          {1.0 - LR:.6f}")
print(f"training_seconds: 0.1")
print(f"peak_vram_mb:     2048.0")
"#;

pub const PREPARE: &str = "MAX_SEQ_LEN = 2048\nTIME_BUDGET = 300\n";

impl TestEnv {
    /// An empty git repository with one commit of `files`.
    pub fn with_files(files: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("project");
        let home = dir.path().join("home");
        std::fs::create_dir_all(&root).expect("project dir");
        std::fs::create_dir_all(&home).expect("home dir");
        let env = Self {
            _dir: dir,
            root,
            home,
        };
        env.git(&["init", "-q", "-b", "main"]);
        for (path, text) in files {
            env.write(path, text);
        }
        env.git(&["add", "-A"]);
        env.git(&["commit", "-q", "-m", "initial"]);
        env
    }

    /// An autoresearch-shaped project, harnessed with `dfh init`.
    pub fn autoresearch() -> Self {
        let env = Self::with_files(&[("train.py", TRAIN), ("prepare.py", PREPARE)]);
        env.dfh_ok(&["init"]);
        env
    }

    /// A harnessed project with a synthetic history of `experiments` decided experiments
    /// (journal and hypotheses.md), from the journal generator behind `dfh synth`.
    pub fn synthetic(experiments: u32) -> Self {
        let env = Self::autoresearch();
        env.dfh_ok(&["synth", "--experiments", &experiments.to_string()]);
        env
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    pub fn write(&self, relative: &str, text: &str) {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("parent dir");
        }
        std::fs::write(path, text).expect("write file");
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|error| panic!("read {relative}: {error}"))
    }

    fn apply_env(&self, command: &mut Command) {
        command
            .current_dir(&self.root)
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test Researcher")
            .env("GIT_AUTHOR_EMAIL", "researcher@example.com")
            .env("GIT_COMMITTER_NAME", "Test Researcher")
            .env("GIT_COMMITTER_EMAIL", "researcher@example.com")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("DFH_NOW", "2026-01-01T00:00:00Z")
            .env_remove("DFH_PAUSE_AT")
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE");
    }

    pub fn git(&self, args: &[&str]) -> String {
        let mut command = Command::new("git");
        self.apply_env(&mut command);
        let output = command.args(args).output().expect("run git");
        assert!(
            output.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_string()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(DFH);
        self.apply_env(&mut command);
        command.args(args).stdin(Stdio::null());
        command
    }

    pub fn dfh(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run dfh"))
    }

    /// Runs dfh and asserts exit code 0.
    pub fn dfh_ok(&self, args: &[&str]) -> Run {
        let run = self.dfh(args);
        assert_eq!(
            run.code, 0,
            "dfh {args:?} failed:\n{}\n{}",
            run.stdout, run.stderr
        );
        run
    }

    /// `dfh status --json` as a value.
    pub fn status(&self) -> serde_json::Value {
        let run = self.dfh_ok(&["--json", "status"]);
        serde_json::from_str(&run.stdout).expect("status JSON")
    }

    /// Plans `title`, sets `LR` to `lr` when one is given, and runs the experiment (exit 0).
    pub fn experiment(&self, title: &str, lr: Option<&str>) -> Run {
        self.plan(title);
        if let Some(lr) = lr {
            self.set_lr(lr);
        }
        self.dfh_ok(&["run"])
    }

    /// Plans an experiment with a citation that always resolves.
    pub fn plan(&self, title: &str) -> Run {
        self.dfh_ok(&plan_args(title))
    }

    /// Plans lane `lane`'s experiment as `plan` does; the caller checks the outcome.
    pub fn plan_in_lane(&self, lane: u32, title: &str) -> Run {
        let lane = lane.to_string();
        let mut args = plan_args(title);
        args.extend(["--lane", lane.as_str()]);
        self.dfh(&args)
    }

    /// The `exp` column of results.tsv, row by row.
    pub fn result_experiments(&self) -> Vec<String> {
        self.read("results.tsv")
            .lines()
            .skip(1)
            .map(|line| line.split('\t').nth(5).unwrap_or_default().to_string())
            .collect()
    }

    /// Sets LR in train.py (the metric is 1 - LR).
    pub fn set_lr(&self, lr: &str) {
        let text = self.read("train.py");
        let line = text
            .lines()
            .find(|line| line.starts_with("LR = "))
            .expect("LR line")
            .to_string();
        self.write("train.py", &text.replace(&line, &format!("LR = {lr}")));
    }

    pub fn journal_events(&self) -> Vec<serde_json::Value> {
        self.read(".dfh/journal.jsonl")
            .lines()
            .filter_map(|line| serde_json::from_str(line).ok())
            .collect()
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }
}

/// `dfh plan` with a valid hypothesis titled `title`.
fn plan_args(title: &str) -> Vec<&str> {
    vec![
        "plan",
        "--title",
        title,
        "--hypothesis",
        "A change that tests one idea.",
        "--expected",
        "val_bpb ~0.85",
        "--inspired-by",
        "docs/strategy.md",
        "--risk",
        "none",
    ]
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Self {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// The shared fixtures folder (`../shared` beside the repository, or `DFH_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("DFH_SHARED_DIR")
        .map(Into::into)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// True when a process with this pid exists and is not a zombie.
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(text) => text
            .rsplit(')')
            .next()
            .is_some_and(|rest| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Waits up to `seconds` for `condition`.
pub fn wait_for(seconds: f64, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs_f64(seconds);
    while std::time::Instant::now() < deadline {
        if condition() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    condition()
}

/// Everything a fault must not lose: the journal's bytes (it only grows), the results.tsv
/// rows, the lines of docs/hypotheses.md (in order), the named user files and the refs under
/// refs/dfh.
pub struct Kept {
    journal: Vec<u8>,
    results: Vec<String>,
    hypotheses: Vec<String>,
    files: Vec<(String, Option<String>)>,
    refs: Vec<String>,
}

impl TestEnv {
    /// Records what must survive a fault; `files` are user files that must stay byte-equal.
    pub fn keep(&self, files: &[&str]) -> Kept {
        Kept {
            journal: std::fs::read(self.path(".dfh/journal.jsonl")).unwrap_or_default(),
            results: self.lines("results.tsv"),
            hypotheses: self.lines("docs/hypotheses.md"),
            files: files
                .iter()
                .map(|file| {
                    (
                        file.to_string(),
                        std::fs::read_to_string(self.path(file)).ok(),
                    )
                })
                .collect(),
            refs: self.dfh_refs(),
        }
    }

    fn lines(&self, relative: &str) -> Vec<String> {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// `git for-each-ref refs/dfh`, one `hash ref` a line.
    pub fn dfh_refs(&self) -> Vec<String> {
        self.git(&[
            "for-each-ref",
            "--format=%(objectname) %(refname)",
            "refs/dfh",
        ])
        .lines()
        .map(str::to_string)
        .collect()
    }
}

impl Kept {
    /// Asserts that everything recorded is still there (new content may have been added).
    pub fn assert_kept(&self, env: &TestEnv) {
        let journal = std::fs::read(env.path(".dfh/journal.jsonl")).unwrap_or_default();
        assert!(
            journal.starts_with(&self.journal),
            "the journal lost or rewrote bytes:\nbefore:\n{}\nnow:\n{}",
            String::from_utf8_lossy(&self.journal),
            String::from_utf8_lossy(&journal)
        );
        let results = env.lines("results.tsv");
        assert!(
            results.starts_with(&self.results),
            "results.tsv lost rows:\nbefore: {:#?}\nnow: {results:#?}",
            self.results
        );
        let hypotheses = env.lines("docs/hypotheses.md");
        let mut remaining = hypotheses.iter();
        for line in &self.hypotheses {
            assert!(
                remaining.any(|now| now == line),
                "docs/hypotheses.md lost the line {line:?}:\n{}",
                hypotheses.join("\n")
            );
        }
        for (file, text) in &self.files {
            let now = std::fs::read_to_string(env.path(file)).ok();
            assert_eq!(&now, text, "{file} changed");
        }
        // Every ref stays, and every commit stays reachable under refs/dfh (a retry moves
        // refs/dfh/exp/N and keeps the earlier attempt under refs/dfh/attempts/N.k).
        let refs = env.dfh_refs();
        for reference in &self.refs {
            let (commit, name) = reference.split_once(' ').unwrap();
            assert!(
                refs.iter().any(|now| now.ends_with(&format!(" {name}"))),
                "{name} is gone: {refs:#?}"
            );
            assert!(
                refs.iter()
                    .any(|now| now.starts_with(&format!("{commit} "))),
                "{commit} ({name}) is no longer under refs/dfh: {refs:#?}"
            );
        }
    }
}
