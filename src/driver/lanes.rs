//! `dfh loop --lanes K`: the baseline first in the project's own tree, then one `dfh loop
//! --lane k` process per lane, each with its own agent steps in its own worktree. Their events
//! come back as JSON lines and are shown with the lane they came from.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anyhow::{Context, Result};

use super::{drive, LoopEvent, LoopOptions, LoopSummary};
use crate::executor::signals;
use crate::project::Project;

/// How the lanes are started: the `dfh loop` flags each lane gets (the agent, the limits).
#[derive(Debug, Clone)]
pub struct FanOut {
    pub lanes: u32,
    /// Arguments after `dfh loop` that every lane gets (no --lanes, --max-experiments).
    pub forward: Vec<String>,
}

/// What a lane said: its event, or a line it printed that is not one.
pub enum LaneLine {
    Event(u32, LoopEvent),
    Text(u32, String),
}

/// Runs the lanes to the end and says why they stopped and how many experiments ran.
pub fn fan_out(
    project: &Project,
    options: &LoopOptions,
    fan_out: &FanOut,
    emit: &mut dyn FnMut(LaneLine),
) -> Result<LoopSummary> {
    signals::install();
    let mut ran = 0;
    if project.load()?.0.best.is_none() {
        // Lanes start from the best: the baseline runs first, alone.
        let baseline = LoopOptions {
            max_experiments: Some(1),
            ..options.clone()
        };
        let summary = drive(project, &baseline, &mut |event| {
            emit(LaneLine::Event(0, event))
        })?;
        ran += summary.experiments;
        if project.load()?.0.best.is_none() {
            return Ok(summary);
        }
    }
    let _ = std::fs::remove_file(project.path(super::STOP_FILE));
    let remaining = options.max_experiments.map(|max| max.saturating_sub(ran));
    let exe = std::env::current_exe().context("cannot find the dfh executable")?;
    let (sender, receiver) = mpsc::channel::<(u32, Option<String>)>();
    let mut children: Vec<(u32, Child)> = Vec::new();
    for lane in 1..=fan_out.lanes {
        let share = remaining.map(|total| share(total, fan_out.lanes, lane));
        if share == Some(0) {
            continue;
        }
        let mut command = Command::new(&exe);
        command
            .current_dir(&project.root)
            .args(["--json", "loop", "--lane", &lane.to_string()])
            .args(&fan_out.forward)
            .stdin(Stdio::null())
            .stdout(Stdio::piped());
        if let Some(share) = share {
            command.args(["--max-experiments", &share.to_string()]);
        }
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start lane {lane}"))?;
        if let Some(stdout) = child.stdout.take() {
            let sender = sender.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    let _ = sender.send((lane, Some(line)));
                }
                let _ = sender.send((lane, None));
            });
        }
        children.push((lane, child));
    }
    drop(sender);
    let mut forwarded = false;
    let mut open = children.len();
    while open > 0 {
        match receiver.recv_timeout(Duration::from_millis(200)) {
            Ok((lane, Some(line))) => match serde_json::from_str::<LoopEvent>(&line) {
                Ok(event) => {
                    if let LoopEvent::Stopped { experiments, .. } = &event {
                        ran += experiments;
                    }
                    emit(LaneLine::Event(lane, event));
                }
                Err(_) => emit(LaneLine::Text(lane, line)),
            },
            Ok((lane, None)) => {
                open -= 1;
                // A lane that stopped with an error stops the others after their current step
                // (they could otherwise wait for its distillation for ever).
                let failed = children
                    .iter_mut()
                    .find(|(other, _)| *other == lane)
                    .and_then(|(_, child)| child.wait().ok())
                    .is_some_and(|status| !status.success());
                if failed {
                    let _ = std::fs::write(project.path(super::STOP_FILE), "a lane failed\n");
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
        if let (Some(signal), false) = (signals::received(), forwarded) {
            // A signal for this process alone (a terminal's Ctrl-C reaches the lanes too).
            forwarded = true;
            for (_, child) in &children {
                // SAFETY: kill(2) on the pid of a child this process started and has not reaped.
                unsafe { libc::kill(child.id() as i32, signal) };
            }
        }
    }
    let mut failed = Vec::new();
    for (lane, mut child) in children {
        let status = child
            .wait()
            .with_context(|| format!("cannot wait for lane {lane}"))?;
        if !status.success() {
            failed.push(format!(
                "lane {lane} ({})",
                status
                    .code()
                    .map_or_else(|| "killed".to_string(), |code| format!("exit {code}"))
            ));
        }
    }
    let state = project.load()?.0;
    let reason = if failed.is_empty() {
        format!("all {} lanes stopped", fan_out.lanes)
    } else {
        format!(
            "{} stopped with an error (its message is above; .dfh/agent/ has the agent logs)",
            failed.join(", ")
        )
    };
    let _ = std::fs::remove_file(project.path(super::STOP_FILE));
    if !failed.is_empty() {
        return Err(anyhow::anyhow!("the loop stopped: {reason}"));
    }
    Ok(LoopSummary {
        experiments: ran,
        reason,
        best: state.best.as_ref().map(|best| best.value),
    })
}

/// Lane `lane`'s share of `total` experiments over `lanes` lanes: as even as can be.
pub fn share(total: u32, lanes: u32, lane: u32) -> u32 {
    total / lanes + u32::from(lane <= total % lanes)
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn shares_add_up_and_differ_by_at_most_one() {
        for total in 0..40 {
            for lanes in 1..6 {
                let shares: Vec<u32> = (1..=lanes).map(|lane| share(total, lanes, lane)).collect();
                assert_eq!(shares.iter().sum::<u32>(), total);
                let (low, high) = (shares.iter().min(), shares.iter().max());
                assert!(high.zip(low).is_some_and(|(high, low)| high - low <= 1));
            }
        }
    }
}
