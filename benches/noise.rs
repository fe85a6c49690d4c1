//! The rigor benchmark: on a noisy toy, 50 candidate changes of which 10 are real gains, how
//! many false keeps and missed gains does dfh make with `confirm` on or off and `noise_k` 0
//! or 2? Every candidate goes through the real binary: `dfh plan`, an edit, `dfh run`.
//!
//! Run: `cargo bench --bench noise` (about a minute in release).
#![expect(
    clippy::expect_used,
    reason = "a benchmark stops at the first broken step"
)]

use std::path::Path;
use std::process::Command;

const CANDIDATES: usize = 50;
const REAL: usize = 10;
/// A real gain is 2.5 times the noise σ of one run.
const SIGMA: f64 = 0.002;
const GAIN: f64 = 0.005;

fn run(dir: &Path, program: &str, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .output()
        .expect("run a command");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Which candidates are real gains: a fixed pseudo-random choice.
fn real_set() -> Vec<bool> {
    let mut state = 7u64;
    let mut real = vec![false; CANDIDATES];
    let mut chosen = 0;
    while chosen < REAL {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let index = (state >> 33) as usize % CANDIDATES;
        if !real[index] {
            real[index] = true;
            chosen += 1;
        }
    }
    real
}

fn train_script(real: &[bool]) -> String {
    let effects: Vec<String> = real
        .iter()
        .map(|&is_real| {
            if is_real {
                GAIN.to_string()
            } else {
                "0.0".into()
            }
        })
        .collect();
    let knobs: String = (0..CANDIDATES)
        .map(|index| format!("C{index} = 0\n"))
        .collect();
    format!(
        "import os, random\n{knobs}EFFECTS = [{}]\nknobs = [{}]\n\
         # The random stream depends on the seed and on the code, as in real training.\n\
         rng = random.Random(hash((int(os.environ.get('DFH_SEED', '1')), tuple(knobs))) & 0xffffffff)\n\
         value = 1.0 - sum(e * k for e, k in zip(EFFECTS, knobs)) + rng.gauss(0, {SIGMA})\n\
         print(f'val_bpb: {{value:.6f}}')\n",
        effects.join(", "),
        (0..CANDIDATES).map(|index| format!("C{index}")).collect::<Vec<_>>().join(", ")
    )
}

struct Tally {
    false_keeps: usize,
    missed: usize,
    kept_real: usize,
    runs: usize,
}

fn night(confirm: bool, noise_k: f64, real: &[bool]) -> Tally {
    let dfh = env!("CARGO_BIN_EXE_dfh");
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::write(root.join("train.py"), train_script(real)).expect("write train.py");
    run(root, "git", &["init", "-q", "-b", "main"]);
    run(root, "git", &["add", "-A"]);
    run(root, "git", &["commit", "-q", "-m", "toy"]);
    run(root, dfh, &["init"]);
    let config = std::fs::read_to_string(root.join("dfh.toml"))
        .expect("dfh.toml")
        .replace("noise_k = 2.0", &format!("noise_k = {noise_k}"))
        .replace("confirm = true", &format!("confirm = {confirm}"))
        .replace("every = 10", "every = 1000");
    std::fs::write(root.join("dfh.toml"), config).expect("write dfh.toml");
    let plan = |title: &str| {
        run(
            root,
            dfh,
            &[
                "plan",
                "--title",
                title,
                "--hypothesis",
                "h",
                "--expected",
                "val_bpb ~0.99",
                "--inspired-by",
                "docs/strategy.md",
                "--risk",
                "r",
                "--again",
                "bench",
            ],
        );
    };
    plan("baseline");
    run(root, dfh, &["run"]);
    let mut tally = Tally {
        false_keeps: 0,
        missed: 0,
        kept_real: 0,
        runs: 0,
    };
    for (index, &is_real) in real.iter().enumerate() {
        plan(&format!("candidate {index}"));
        let text = std::fs::read_to_string(root.join("train.py")).expect("train.py");
        std::fs::write(
            root.join("train.py"),
            text.replace(&format!("C{index} = 0\n"), &format!("C{index} = 1\n")),
        )
        .expect("edit train.py");
        let output = run(root, dfh, &["--json", "run"]);
        let outcome: serde_json::Value = serde_json::from_str(&output).unwrap_or_default();
        let kept = outcome["status"] == "keep";
        tally.runs += outcome["runs"].as_array().map_or(1, Vec::len);
        match (kept, is_real) {
            (true, false) => tally.false_keeps += 1,
            (false, true) => tally.missed += 1,
            (true, true) => tally.kept_real += 1,
            (false, false) => {}
        }
    }
    tally
}

fn main() {
    let real = real_set();
    println!(
        "noisy toy: {CANDIDATES} candidates, {REAL} real gains of {GAIN} (σ of one run {SIGMA})\n"
    );
    println!(
        "| confirm | noise_k | false keeps (of {}) | missed gains (of {REAL}) | training runs |",
        CANDIDATES - REAL
    );
    println!("|---|---|---:|---:|---:|");
    for (confirm, noise_k) in [(false, 0.0), (true, 0.0), (false, 2.0), (true, 2.0)] {
        let tally = night(confirm, noise_k, &real);
        println!(
            "| {} | {noise_k} | {} | {} | {} |",
            if confirm { "on" } else { "off" },
            tally.false_keeps,
            tally.missed,
            tally.runs + 3
        );
        let _ = tally.kept_real;
    }
}
