//! Lanes throughput: experiments per hour of `dfh loop` with one lane against `dfh loop
//! --lanes 2`, with a CPU-bound training script of about 5 s and a scripted agent (plan with
//! `dfh plan`, change LR, learn with `dfh learn`), on the local executor and, when a Slurm
//! cluster answers (`SLURM_CONF`, see scripts/slurm-local.sh), through Slurm. Writes the
//! "## Lanes" section of BENCHMARKS.md.
//!
//!     cargo bench --bench lanes
//!     ROUNDS=5 EXPERIMENTS=12 cargo bench --bench lanes   # ROUNDS=3, EXPERIMENTS=8 by default
#![expect(
    clippy::expect_used,
    reason = "a benchmark stops at the first broken step"
)]

#[path = "figures/measure.rs"]
#[expect(dead_code, reason = "the lanes benchmark uses the runner only")]
mod measure;

use std::path::Path;
use std::process::{Command, Stdio};

use measure::Runner;
use std::time::Instant;

/// Busy work in pure Python: ITERATIONS is calibrated so that one run takes about 5 s alone.
const TRAIN: &str = r#"import os, time
LR = 0.1
ITERATIONS = __ITERATIONS__
x = 0.0
for i in range(ITERATIONS):
    x += (i % 7) * 1e-9
print("---")
print(f"val_bpb:          {1.0 - LR + x * 1e-9:.6f}")
"#;

const AGENT: &str = r###"import os, re, subprocess, sys
dfh = os.environ["DFH_BIN"]
step = os.environ["DFH_STEP"]
number = int(os.environ["DFH_EXPERIMENT"])
lane = int(os.environ.get("DFH_LANE", "0"))
sys.stdin.read()
def call(*args):
    subprocess.run([dfh, "--json", *args], capture_output=True, text=True)
if step in ("plan", "fix"):
    if step == "plan":
        call("plan", "--title", f"lr {number}.{lane}", "--hypothesis", "a higher LR helps",
             "--expected", "val_bpb ~0.5", "--inspired-by", "docs/strategy.md", "--risk", "none",
             "--direction", "lr")
    text = open("train.py").read()
    lr = 0.1 + number / 1000 + lane / 100000 + (1e-7 if step == "fix" else 0)
    open("train.py", "w").write(re.sub(r"^LR = .*$", f"LR = {lr}", text, flags=re.M))
elif step == "learn":
    call("learn", str(number), "noted")
"###;

fn main() {
    // Children find the real python3 first on PATH: a pyenv shim adds hundreds of
    // milliseconds to each python3 start, which is this machine's setup, not dfh's cost.
    let runner = Runner::new(env!("CARGO_BIN_EXE_dfh"));
    let experiments: u32 = std::env::var("EXPERIMENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(8);
    let scratch = tempfile::tempdir().expect("temp dir");
    let iterations = calibrate(&runner);
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3);
    let slurm = slurm_answers();
    let kinds: &[&str] = if slurm {
        &["local", "slurm"]
    } else {
        &["local"]
    };
    let mut rows = Vec::new();
    for kind in kinds {
        let mut samples: Vec<(u32, f64, f64)> = Vec::new();
        for round in 0..rounds {
            // Alternating order, so a slow spell of the machine does not favour one side.
            let order = if round % 2 == 0 { [1u32, 2] } else { [2, 1] };
            for lanes in order {
                let dir = scratch.path().join(format!("{kind}-{lanes}-{round}"));
                let (seconds, ran) = measure(&runner, &dir, kind, lanes, experiments, iterations);
                let per_hour = f64::from(ran) * 3600.0 / seconds;
                let training = mean_training_seconds(&dir);
                eprintln!(
                    "{kind} round {round} {lanes} lane(s): {ran} experiments in {seconds:.1} s = {per_hour:.0}/h, training {training:.1} s a run"
                );
                samples.push((lanes, per_hour, training));
            }
        }
        rows.push(Row::of(kind, &samples));
    }
    let section = render(&rows, iterations, experiments, slurm);
    println!("{section}");
    write_section(&section);
}

/// ITERATIONS for a run of about 5 s on one idle core: the fastest of three probes, so a
/// busy moment of the machine does not inflate it.
fn calibrate(runner: &Runner) -> u64 {
    let probe = 4_000_000u64;
    let script = TRAIN.replace("__ITERATIONS__", &probe.to_string());
    let fastest = (0..3)
        .map(|_| {
            let start = Instant::now();
            let status = runner
                .command(Path::new("."), Path::new("python3"), &["-c", &script])
                .stdout(Stdio::null())
                .status()
                .expect("python3");
            assert!(status.success());
            start.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
        .max(0.01);
    (probe as f64 * 5.0 / fastest) as u64
}

fn slurm_answers() -> bool {
    Command::new("sinfo")
        .arg("-h")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `dfh args` in `dir`, the scripted agent told where dfh is.
fn dfh(runner: &Runner, dir: &Path, args: &[&str]) -> Command {
    let mut command = runner.command(dir, &runner.dfh, args);
    command
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("DFH_BIN", &runner.dfh)
        .stdin(Stdio::null());
    command
}

/// A project with its baseline run, then the timed loop: (seconds, experiments that ran).
fn measure(
    runner: &Runner,
    dir: &Path,
    kind: &str,
    lanes: u32,
    experiments: u32,
    iterations: u64,
) -> (f64, u32) {
    std::fs::create_dir_all(dir).expect("project dir");
    std::fs::write(
        dir.join("train.py"),
        TRAIN.replace("__ITERATIONS__", &iterations.to_string()),
    )
    .expect("train.py");
    std::fs::write(dir.join("prepare.py"), "SEQ = 8\n").expect("prepare.py");
    std::fs::write(dir.join("agent.py"), AGENT).expect("agent.py");
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-qm", "initial"],
    ] {
        let status = runner
            .command(dir, Path::new("git"), args)
            .stdout(Stdio::null())
            .status()
            .expect("git");
        assert!(status.success(), "git {args:?}");
    }
    let init = dfh(runner, dir, &["init"]).output().expect("dfh init");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let config = std::fs::read_to_string(dir.join("dfh.toml"))
        .expect("dfh.toml")
        .replace("repeats = 3 ", "repeats = 1 ")
        .replace("confirm = true ", "confirm = false")
        .replace("every = 10", "every = 1000")
        .replace("kind = \"local\"", &format!("kind = \"{kind}\""));
    std::fs::write(dir.join("dfh.toml"), config).expect("dfh.toml");
    // The baseline, not timed.
    let baseline = dfh(
        runner,
        dir,
        &[
            "loop",
            "--agent",
            "python3 agent.py",
            "--max-experiments",
            "1",
        ],
    )
    .output()
    .expect("baseline");
    assert!(
        baseline.status.success(),
        "{}",
        String::from_utf8_lossy(&baseline.stderr)
    );
    let total = experiments.to_string();
    let lanes_text = lanes.to_string();
    let mut args = vec![
        "--json",
        "loop",
        "--agent",
        "python3 agent.py",
        "--max-experiments",
        &total,
    ];
    if lanes > 1 {
        args.extend(["--lanes", &lanes_text]);
    }
    let start = Instant::now();
    let output = dfh(runner, dir, &args).output().expect("dfh loop");
    let seconds = start.elapsed().as_secs_f64();
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let ran = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| line.contains("\"type\":\"experiment\""))
        .count() as u32;
    (seconds, ran)
}

/// One executor's result: experiments per hour of each round, one lane and two, and the
/// training seconds of a run (results.tsv) in each.
struct Row {
    kind: String,
    one: Vec<f64>,
    two: Vec<f64>,
    training_one: Vec<f64>,
    training_two: Vec<f64>,
}

impl Row {
    fn of(kind: &str, samples: &[(u32, f64, f64)]) -> Self {
        let pick = |lanes: u32, field: fn(&(u32, f64, f64)) -> f64| -> Vec<f64> {
            samples
                .iter()
                .filter(|sample| sample.0 == lanes)
                .map(field)
                .collect()
        };
        Self {
            kind: kind.to_string(),
            one: pick(1, |sample| sample.1),
            two: pick(2, |sample| sample.1),
            training_one: pick(1, |sample| sample.2),
            training_two: pick(2, |sample| sample.2),
        }
    }
}

/// The mean `seconds` of the timed experiments in results.tsv (the baseline left out).
fn mean_training_seconds(dir: &Path) -> f64 {
    let text = std::fs::read_to_string(dir.join("results.tsv")).unwrap_or_default();
    let seconds: Vec<f64> = text
        .lines()
        .skip(2)
        .filter_map(|line| line.split('\t').nth(7)?.parse().ok())
        .collect();
    seconds.iter().sum::<f64>() / seconds.len().max(1) as f64
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

fn render(rows: &[Row], iterations: u64, experiments: u32, slurm: bool) -> String {
    let rounds = rows.first().map_or(0, |row| row.one.len());
    let mut text = format!(
        "## Lanes\n\nExperiments per hour of `dfh loop` (one lane, the project's own tree) against `dfh loop --lanes 2`: \
         {experiments} experiments after an untimed baseline, median of {rounds} rounds (one lane and two alternate in \
         order). The training script is CPU-bound pure Python, calibrated to about 5 s on one idle core \
         ({iterations} iterations; this machine's speed drifts, so the table gives the seconds a run really took); \
         the agent is scripted (python3: `dfh plan`, change LR, `dfh learn`); children find the real python3 first on PATH \
         (a pyenv shim adds hundreds of milliseconds to each start). Release build, one run per decision \
         (repeats = 1, confirm = false, no distillation: `[distill] every = 1000`), 2 shared cores, {}.\n\n\
         | executor | one lane (exp/h) | two lanes (exp/h) | two lanes vs one, median | each round | training s a run, one lane / two | target |\n\
         |---|---:|---:|---:|---|---:|---:|\n",
        humantime::format_rfc3339_seconds(std::time::SystemTime::now())
    );
    for row in rows {
        let (one, two) = (median(&row.one), median(&row.two));
        let each: Vec<String> = row
            .one
            .iter()
            .zip(&row.two)
            .map(|(one, two)| format!("{:.2}×", two / one))
            .collect();
        text.push_str(&format!(
            "| {} | {one:.0} | {two:.0} | **{:.2}×** | {} | {:.1} / {:.1} | ≥ 1.8× |\n",
            row.kind,
            two / one,
            each.join(", "),
            median(&row.training_one),
            median(&row.training_two)
        ));
    }
    if !slurm {
        text.push_str("\nNo Slurm cluster answered, so the Slurm row is missing: start one with `scripts/slurm-local.sh` and run again.\n");
    }
    text.push_str(
        "\nEach lane's experiment trains on its own core; what keeps the ratio under 2× is the harness and the agent \
         (git, python3 starts and journal writes around every experiment) sharing the same two cores, and anything \
         else running on the machine.\n\n\
         ```sh\ncargo build --release\ncargo bench --bench lanes                          # local only without a cluster\n\
         eval \"$(scripts/slurm-local.sh start /tmp/dfh-slurm)\"; cargo bench --bench lanes   # local and Slurm\n\
         ROUNDS=5 EXPERIMENTS=12 cargo bench --bench lanes   # longer\n```\n",
    );
    text
}

/// Replaces the "## Lanes" section of BENCHMARKS.md, or appends it.
fn write_section(section: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let updated = match text.find("## Lanes") {
        Some(start) => {
            let end = text[start + 2..]
                .find("\n## ")
                .map_or(text.len(), |end| start + end + 3);
            format!(
                "{}{}\n\n{}",
                &text[..start],
                section.trim_end(),
                &text[end..]
            )
        }
        None => format!("{}\n\n{}", text.trim_end(), section),
    };
    std::fs::write(path, format!("{}\n", updated.trim_end())).expect("write BENCHMARKS.md");
}
