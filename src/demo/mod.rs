//! `dfh demo`: a complete night on a built-in CPU project — a pure-Python training script, paper
//! summaries and rules — driven by `dfh loop` with a scripted agent that goes through the real
//! external-agent path, then the morning report.

pub mod agent;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};

use crate::driver::{self, AgentCommand, LoopEvent, LoopOptions, LoopSummary};
use crate::project::Project;
use crate::refusal::Refusal;
use crate::scaffold::{self, InitOptions};

const FILES: &[(&str, &str)] = &[
    ("train.py", include_str!("../../assets/demo/train.py")),
    ("prepare.py", include_str!("../../assets/demo/prepare.py")),
    ("dfh.toml", include_str!("../../assets/demo/dfh.toml")),
    (
        "checks/rules.toml",
        include_str!("../../assets/demo/rules.toml"),
    ),
    (
        "docs/architecture.md",
        include_str!("../../assets/demo/docs/architecture.md"),
    ),
    (
        "docs/papers/momentum.md",
        include_str!("../../assets/demo/docs/papers/momentum.md"),
    ),
    (
        "docs/papers/width.md",
        include_str!("../../assets/demo/docs/papers/width.md"),
    ),
    (
        "docs/papers/initialization.md",
        include_str!("../../assets/demo/docs/papers/initialization.md"),
    ),
];

/// Where the demo ran and how it ended.
pub struct DemoOutcome {
    pub dir: PathBuf,
    pub summary: LoopSummary,
    pub report: PathBuf,
}

/// A fresh directory for the demo under the system's temp dir.
pub fn fresh_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for attempt in 0..100 {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis())
            .unwrap_or(0);
        let dir = base.join(format!("dfh-demo-{}-{stamp}-{attempt}", std::process::id()));
        if std::fs::create_dir(&dir).is_ok() {
            return Ok(dir);
        }
    }
    Err(anyhow::anyhow!(
        "cannot create a directory for the demo under {}",
        base.display()
    ))
}

/// Writes the demo project into `dir` (which must be empty or new) as a git repository.
pub fn create(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let empty = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .next()
        .is_none();
    if !empty {
        return Err(Refusal::new(format!(
            "{} is not empty; give `dfh demo` a new or empty directory (or none: it makes one)",
            dir.display()
        ))
        .into());
    }
    for (path, text) in FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&target, text)
            .with_context(|| format!("cannot write {}", target.display()))?;
    }
    git(dir, &["init", "-q", "-b", "main"])?;
    git(dir, &["add", "-A"])?;
    git(
        dir,
        &[
            "-c",
            "user.name=dfh demo",
            "-c",
            "user.email=demo@dfh.invalid",
            "commit",
            "-q",
            "-m",
            "demo project",
        ],
    )?;
    scaffold::init(dir, &InitOptions::default())?;
    // train.py imports dfh_diag; commit the helper init wrote so every experiment sees it.
    git(dir, &["add", "dfh_diag.py"])?;
    git(
        dir,
        &[
            "-c",
            "user.name=dfh demo",
            "-c",
            "user.email=demo@dfh.invalid",
            "commit",
            "-q",
            "-m",
            "dfh diagnostics helper",
        ],
    )?;
    Ok(())
}

fn git(dir: &Path, args: &[&str]) -> Result<()> {
    let output = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .output()
        .context("cannot run git")?;
    if !output.status.success() {
        return Err(anyhow::anyhow!(
            "git {} failed in {}: {}",
            args.join(" "),
            dir.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    Ok(())
}

/// Runs the night: the loop with the scripted agent, then the report.
pub fn run(dir: &Path, experiments: u32, emit: &mut dyn FnMut(LoopEvent)) -> Result<DemoOutcome> {
    create(dir)?;
    let project = Project::open(dir)?;
    let exe = std::env::current_exe().context("cannot find the dfh executable")?;
    let agent = AgentCommand::Shell(format!(
        "{} demo-agent",
        shell_quote(&exe.display().to_string())
    ));
    let options = LoopOptions {
        agent,
        max_experiments: Some(experiments),
        hours: None,
        until: None,
        step_timeout: Duration::from_secs(120),
    };
    let summary = driver::drive(&project, &options, emit)?;
    let built = crate::report::build(&project, &crate::report::ReportOptions::default())?;
    let out = project.path("report");
    std::fs::create_dir_all(&out)?;
    std::fs::write(out.join("morning.md"), &built.markdown)?;
    std::fs::write(out.join("index.html"), &built.html)?;
    Ok(DemoOutcome {
        dir: dir.to_path_buf(),
        summary,
        report: out.join("index.html"),
    })
}

/// Single-quotes a path for `sh -c` (the agent command is a command line).
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}
