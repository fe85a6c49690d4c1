//! Check (e): the project's own checks/pre_train_check.py, run with a timeout. A non-zero
//! exit is a failure whose output is the message.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::CheckFailure;
use crate::config::parse_duration;
use crate::project::{paths, Project};

pub fn run_user_check(project: &Project) -> Option<CheckFailure> {
    let script = project.path(paths::PRE_TRAIN_CHECK);
    if !script.exists() {
        return None;
    }
    let timeout =
        parse_duration(&project.config.checks.script_timeout).unwrap_or(Duration::from_secs(60));
    let output_path = project.path(".dfh/pre_train_check.out");
    let failure = |message: String| {
        Some(CheckFailure {
            check: "pre_train_check.py".into(),
            message,
        })
    };
    let Ok(output) = std::fs::File::create(&output_path) else {
        return failure(format!("cannot create {}", output_path.display()));
    };
    let Ok(errors) = output.try_clone() else {
        return failure("cannot open the check's output file twice".into());
    };
    let child = Command::new("python3")
        .arg(paths::PRE_TRAIN_CHECK)
        .current_dir(&project.work)
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(error) => return failure(format!("cannot run {}: {error}", paths::PRE_TRAIN_CHECK)),
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    let text = std::fs::read_to_string(&output_path).unwrap_or_default();
    let text = text.trim();
    match status {
        Some(status) if status.success() => None,
        Some(status) => failure(if text.is_empty() {
            format!("{} failed ({status}) without saying why; make it print what to fix", paths::PRE_TRAIN_CHECK)
        } else {
            format!("{}: {}", paths::PRE_TRAIN_CHECK, last_lines(text, 20))
        }),
        None => failure(format!(
            "{} did not finish within {}; make it faster or raise [checks] script_timeout in dfh.toml",
            paths::PRE_TRAIN_CHECK, project.config.checks.script_timeout
        )),
    }
}

fn last_lines(text: &str, count: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(count)..].join("\n")
}
