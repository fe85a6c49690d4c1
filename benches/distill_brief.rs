//! Benchmark of `dfh brief` and `dfh distill` on synthetic histories, and the token table
//! that compares the brief with what a plain loop makes the agent read (results.tsv and
//! `git log --oneline`). Run: `cargo bench --bench distill_brief`.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops at the first broken step"
)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use dfh::brief::{self, tokens, Input};
use dfh::config::Config;
use dfh::journal::{Journal, Phase, State};

const DFH: &str = env!("CARGO_BIN_EXE_dfh");

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "Bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "Bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .expect("spawn");
    assert!(
        output
            .status
            .code()
            .is_some_and(|code| code == 0 || code == 3),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn project(dir: &Path, experiments: u32) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("train.py"), "LR = 0.1\nprint('val_bpb: 0.9')\n").unwrap();
    std::fs::write(dir.join("prepare.py"), "X = 1\n").unwrap();
    run(dir, "git", &["init", "-q", "-b", "main"]);
    run(dir, "git", &["add", "-A"]);
    run(dir, "git", &["commit", "-q", "-m", "initial"]);
    run(dir, DFH, &["init"]);
    run(
        dir,
        DFH,
        &["synth", "--experiments", &experiments.to_string()],
    );
}

/// Median wall time of `times` runs of `dfh args`.
fn median(dir: &Path, args: &[&str], times: usize) -> Duration {
    let mut samples: Vec<Duration> = (0..times)
        .map(|_| {
            let start = Instant::now();
            run(dir, DFH, args);
            start.elapsed()
        })
        .collect();
    samples.sort();
    samples[times / 2]
}

/// What a plain loop reads: results.tsv and `git log --oneline` of the kept commits.
fn plain_loop_text(state: &State) -> String {
    let mut text = dfh::results::header("val_bpb");
    let mut log = Vec::new();
    for experiment in state.finished() {
        let commit = experiment.commit.clone().unwrap_or_default();
        let status = experiment.phase.label();
        text.push_str(&dfh::results::render(&dfh::results::Row {
            commit: &commit,
            value: experiment.value,
            memory_gb: experiment.memory_gb,
            status,
            description: &experiment.title,
            experiment: experiment.number,
            direction: experiment.direction().unwrap_or_default(),
            seconds: experiment.seconds,
        }));
        if experiment.phase == Phase::Done(dfh::journal::Outcome::Keep) {
            log.push(format!(
                "{} exp {}: {}",
                &commit[..7],
                experiment.number,
                experiment.title
            ));
        }
    }
    log.push("0000000 initial".into());
    log.reverse();
    text.push_str(&log.join("\n"));
    text
}

fn milliseconds(duration: Duration) -> String {
    format!("{:.1} ms", duration.as_secs_f64() * 1000.0)
}

fn main() {
    let scratch = tempfile::tempdir().unwrap();
    let start = Instant::now();
    tokens::load().unwrap();
    let load = start.elapsed();
    println!(
        "tokenizer load (o200k_base, in process): {}",
        milliseconds(load)
    );
    println!();
    println!("| experiments | brief tokens | results.tsv + git log --oneline tokens | `dfh brief` | `dfh distill` |");
    println!("|---:|---:|---:|---:|---:|");
    for experiments in [10u32, 100, 1_000, 10_000] {
        let dir = scratch.path().join(experiments.to_string());
        project(&dir, experiments);
        let brief: serde_json::Value =
            serde_json::from_str(&run(&dir, DFH, &["--json", "brief"])).unwrap();
        let loaded = Journal::new(dir.join(".dfh/journal.jsonl")).load().unwrap();
        let state = State::fold(&loaded.events);
        let plain = tokens::count(&plain_loop_text(&state)).unwrap();
        let brief_time = median(&dir, &["brief"], 9);
        let distill_time = median(&dir, &["distill"], 5);
        println!(
            "| {experiments} | {} | {plain} | {} | {} |",
            brief["tokens"],
            milliseconds(brief_time),
            milliseconds(distill_time)
        );
        if experiments == 10_000 {
            let config = Config::load(&dir.join("dfh.toml")).unwrap();
            let strategy = std::fs::read_to_string(dir.join("docs/strategy.md")).ok();
            let mut read = Vec::new();
            let mut build = Vec::new();
            for _ in 0..9 {
                let start = Instant::now();
                let loaded = Journal::new(dir.join(".dfh/journal.jsonl")).load().unwrap();
                let state = State::fold(&loaded.events);
                read.push(start.elapsed());
                let start = Instant::now();
                let input = Input {
                    state: &state,
                    config: &config,
                    strategy: strategy.as_deref(),
                    noise_sigma: None,
                };
                let made = brief::build(&input, config.brief.tokens).unwrap();
                build.push(start.elapsed());
                assert!(made.tokens <= config.brief.tokens);
            }
            read.sort();
            build.sort();
            eprintln!(
                "10000 experiments, in process, tokenizer loaded: journal read + fold {}, brief sections + stats + budget {}",
                milliseconds(read[4]),
                milliseconds(build[4])
            );
        }
    }
}
