//! `cargo bench --bench report`: `dfh report` over a synthetic history of 10,000 experiments —
//! the time to build the report and the size of the page (targets: ≤ 1 s, ≤ 3 MB).

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use dfh::project::Project;
use dfh::report::{self, ReportOptions};

const EXPERIMENTS: u32 = 10_000;
const ROUNDS: usize = 5;

fn git(root: &Path, args: &[&str]) -> Result<(), String> {
    let status = Command::new("git")
        .args(args)
        .current_dir(root)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "bench")
        .env("GIT_AUTHOR_EMAIL", "bench@example.com")
        .env("GIT_COMMITTER_NAME", "bench")
        .env("GIT_COMMITTER_EMAIL", "bench@example.com")
        .status()
        .map_err(|error| error.to_string())?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("git {args:?} failed"))
    }
}

fn dfh(root: &Path, args: &[&str]) -> Result<(), String> {
    let mut all: Vec<OsString> = vec!["dfh".into(), "-q".into(), "-C".into(), root.into()];
    all.extend(args.iter().map(OsString::from));
    if dfh::run(all) == std::process::ExitCode::SUCCESS {
        Ok(())
    } else {
        Err(format!("dfh {args:?} failed"))
    }
}

fn main() -> Result<(), String> {
    let directory = std::env::temp_dir().join(format!("dfh-bench-report-{}", std::process::id()));
    std::fs::create_dir_all(&directory).map_err(|error| error.to_string())?;
    let root = directory.as_path();
    std::fs::write(
        root.join("train.py"),
        "LR = 0.1\nprint(f'val_bpb: {1 - LR}')\n",
    )
    .map_err(|error| error.to_string())?;
    std::fs::write(root.join("prepare.py"), "MAX_SEQ_LEN = 2048\n")
        .map_err(|error| error.to_string())?;
    git(root, &["init", "-q", "-b", "main"])?;
    git(root, &["add", "-A"])?;
    git(root, &["commit", "-q", "-m", "initial"])?;
    dfh(root, &["init"])?;
    dfh(root, &["synth", "--experiments", &EXPERIMENTS.to_string()])?;

    let project = Project::open(root).map_err(|error| error.to_string())?;
    let mut times = Vec::new();
    let mut page = 0;
    let mut markdown = 0;
    for _ in 0..ROUNDS {
        let start = Instant::now();
        let built = report::build(&project, &ReportOptions::default())
            .map_err(|error| error.to_string())?;
        times.push(start.elapsed().as_secs_f64());
        page = built.html.len();
        markdown = built.markdown.len();
    }
    let start = Instant::now();
    dfh(root, &["report"])?;
    let command = start.elapsed().as_secs_f64();
    times.sort_by(f64::total_cmp);
    println!("report over {EXPERIMENTS} experiments ({ROUNDS} rounds)");
    println!("  build (median):        {:.3} s", times[ROUNDS / 2]);
    println!("  build (fastest):       {:.3} s", times[0]);
    println!("  dfh report (command):  {command:.3} s, files written");
    println!("  index.html:            {:.2} MB", page as f64 / 1e6);
    println!("  morning.md:            {:.1} kB", markdown as f64 / 1e3);
    std::fs::remove_dir_all(root).map_err(|error| error.to_string())?;
    Ok(())
}
