//! The projects the figures run in: synthetic histories, a run-ready project, a long train.py.

use std::path::{Path, PathBuf};

use super::measure::Runner;

/// The training script: prints the metric (LR) and exits at once.
pub const TRAIN: &str = "LR = 0.5\nprint(f'val_bpb: {LR}')\n";

/// A fresh harnessed project in `dir` with `experiments` synthetic experiments.
pub fn synthetic(runner: &Runner, dir: &Path, experiments: u32) -> PathBuf {
    std::fs::create_dir_all(dir).expect("project dir");
    std::fs::write(dir.join("train.py"), TRAIN).expect("train.py");
    std::fs::write(dir.join("prepare.py"), "X = 1\n").expect("prepare.py");
    runner.git(dir, &["init", "-q", "-b", "main"]);
    runner.git(dir, &["add", "-A"]);
    runner.git(dir, &["commit", "-q", "-m", "initial"]);
    runner.dfh(dir, &["init"]);
    if experiments > 0 {
        runner.dfh(dir, &["synth", "--experiments", &experiments.to_string()]);
    }
    dir.to_path_buf()
}

/// Makes one `dfh run` one training run (no repeats, no confirmation) and keeps distillation
/// from interrupting the loop; commits the configuration.
pub fn ready_to_run(runner: &Runner, dir: &Path) {
    let path = dir.join("dfh.toml");
    let text = std::fs::read_to_string(&path).expect("dfh.toml");
    let text = text
        .replace("repeats = 3", "repeats = 1")
        .replace("confirm = true", "confirm = false")
        .replace("every = 10\n", "every = 1000000\n");
    assert!(text.contains("repeats = 1") && text.contains("confirm = false"));
    std::fs::write(&path, text).expect("dfh.toml");
    runner.git(dir, &["add", "-A"]);
    runner.git(dir, &["commit", "-q", "-m", "benchmark settings"]);
}

/// The best value of the project in `dir`.
pub fn best(runner: &Runner, dir: &Path) -> f64 {
    let status = runner.dfh(dir, &["--json", "status"]).stdout;
    let status: serde_json::Value = serde_json::from_str(&status).expect("status JSON");
    status["best"]["value"].as_f64().expect("a best value")
}

/// Plans experiment `index` and changes train.py for it: even ones beat `best` (the best
/// before the first of them) by a wide margin, each more than the last, so they are kept;
/// odd ones are worse and discarded.
pub fn plan_and_change(runner: &Runner, dir: &Path, index: usize, best: f64) {
    runner.dfh(
        dir,
        &[
            "plan",
            "--title",
            &format!("learning rate, step {index}"),
            "--hypothesis",
            "A smaller learning rate lowers the loss.",
            "--expected",
            "val_bpb ~0.4",
            "--inspired-by",
            "docs/strategy.md",
            "--risk",
            "none",
        ],
    );
    let value = if index.is_multiple_of(2) {
        best - 1.0 - index as f64
    } else {
        best + 1.0 + index as f64
    };
    std::fs::write(
        dir.join("train.py"),
        TRAIN.replace("LR = 0.5", &format!("LR = {value:.4}")),
    )
    .expect("train.py");
}

/// A train.py of about 650 lines: the GPT fixture and helper functions after it.
pub fn long_train_script() -> String {
    let fixture = include_str!("../../tests/fixtures/gpt_train.py");
    let mut text = String::from(fixture);
    let mut number = 0;
    while text.lines().count() < 650 {
        number += 1;
        text.push_str(&format!(
            "\n\ndef helper_{number}(values, scale={number}):\n    \"\"\"Scales and sums.\"\"\"\n    total = 0.0\n    for value in values:\n        total += value * scale\n    return total / max(len(values), 1)\n"
        ));
    }
    text
}

/// A project whose editable train.py is `long_train_script()`.
pub fn long_script_project(runner: &Runner, dir: &Path) -> usize {
    std::fs::create_dir_all(dir).expect("dir");
    let script = long_train_script();
    std::fs::write(dir.join("train.py"), &script).expect("train.py");
    std::fs::write(dir.join("prepare.py"), "X = 1\n").expect("prepare.py");
    runner.git(dir, &["init", "-q", "-b", "main"]);
    runner.git(dir, &["add", "-A"]);
    runner.git(dir, &["commit", "-q", "-m", "initial"]);
    runner.dfh(dir, &["init"]);
    // No user check script: the figure is dfh's own checks.
    let _ = std::fs::remove_file(dir.join("checks/pre_train_check.py"));
    runner.git(dir, &["add", "-A"]);
    runner.git(dir, &["commit", "-q", "-m", "harnessed"]);
    script.lines().count()
}

/// Writes `lines` diagnostics events (~60 bytes each) to `path`: three series and sections.
pub fn events_file(path: &Path, lines: usize) -> u64 {
    use std::io::Write;
    let file = std::fs::File::create(path).expect("events file");
    let mut writer = std::io::BufWriter::new(file);
    for step in 0..lines {
        let line = match step % 10 {
            0 => format!("{{\"series\": \"grad_norm/total\", \"step\": {step}, \"value\": {:.5}}}\n", 1.0 + (step % 97) as f64 / 97.0),
            1 => format!("{{\"section\": \"eval\", \"values\": {{\"loss\": {:.4}}}}}\n", 3.0 - step as f64 * 1e-6),
            2 => format!("{{\"series\": \"lr\", \"step\": {step}, \"value\": {:.6}}}\n", 0.001),
            _ => format!("{{\"series\": \"training_curves/task_loss\", \"step\": {step}, \"value\": {:.5}}}\n", 3.0 - step as f64 * 2e-6),
        };
        writer.write_all(line.as_bytes()).expect("write");
    }
    writer.flush().expect("flush");
    std::fs::metadata(path).map(|meta| meta.len()).unwrap_or(0)
}
