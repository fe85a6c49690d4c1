//! The Slurm client commands dfh uses (sbatch, squeue, scontrol, sacct, scancel), run without a
//! shell, in their own process group (a Ctrl-C meant for dfh must not kill a query), each
//! with a time limit, and their text output parsed in the stable `-o`/`-P` formats.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::executor::ExecutorError;

/// How long a client command may take before it is killed (a controller that does not answer).
const CLIENT_LIMIT: Duration = Duration::from_secs(60);

/// Where a job stands, as squeue or sacct tell it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub state: String,
    /// The allocated node list; empty while pending.
    pub node: String,
    pub reason: String,
}

/// What a job state means for dfh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// In the queue, not yet on a node.
    Waiting,
    /// On a node (running, completing, suspended).
    Running,
    /// Ended: its exit code tells the rest.
    Ended,
    /// Ended by the time limit given to Slurm (`--time`) or a deadline.
    TimeLimit,
    /// Ended because the scheduler lost it: node failure, boot failure, preemption.
    Lost,
}

impl JobStatus {
    pub fn phase(&self) -> Phase {
        match self.state.as_str() {
            "PENDING" | "CONFIGURING" | "REQUEUED" | "REQUEUE_FED" | "REQUEUE_HOLD"
            | "RESV_DEL_HOLD" => Phase::Waiting,
            "COMPLETED" | "FAILED" | "CANCELLED" | "OUT_OF_MEMORY" | "SPECIAL_EXIT" => Phase::Ended,
            "TIMEOUT" | "DEADLINE" => Phase::TimeLimit,
            "NODE_FAIL" | "BOOT_FAIL" | "PREEMPTED" | "REVOKED" => Phase::Lost,
            // RUNNING, COMPLETING, SUSPENDED, STAGE_OUT, SIGNALING, RESIZING, and any state a
            // newer Slurm adds: on a node, so the timeout applies.
            _ => Phase::Running,
        }
    }
}

/// Output of a client command.
struct Output {
    success: bool,
    stdout: String,
    stderr: String,
}

fn client(program: &str, args: &[&str]) -> Result<Output, ExecutorError> {
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let mut child = command.spawn().map_err(|source| ExecutorError::Scheduler {
        program: program.into(),
        message: if source.kind() == std::io::ErrorKind::NotFound {
            format!("{program} is not installed here. Install the Slurm client (Debian: `apt-get install slurm-client`) or set [executor] kind = \"local\" in dfh.toml")
        } else {
            source.to_string()
        },
    })?;
    let pid = child.id() as i32;
    let (Some(mut stdout), Some(mut stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(ExecutorError::Scheduler {
            program: program.into(),
            message: "no output pipes".into(),
        });
    };
    // Read both pipes on a helper thread so a chatty command never blocks on a full pipe.
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        let errors = std::thread::spawn(move || {
            let mut err = Vec::new();
            let _ = stderr.read_to_end(&mut err);
            err
        });
        let mut out = Vec::new();
        let _ = stdout.read_to_end(&mut out);
        let err = errors.join().unwrap_or_default();
        let status = child.wait();
        let _ = sender.send((status, out, err));
    });
    let Ok((status, out, err)) = receiver.recv_timeout(CLIENT_LIMIT) else {
        // SAFETY: kill only sends a signal to the group we created for this client.
        unsafe { libc::killpg(pid, libc::SIGKILL) };
        return Err(ExecutorError::Scheduler {
            program: program.into(),
            message: format!(
                "no answer within {}s; is slurmctld up (`scontrol ping`)?",
                CLIENT_LIMIT.as_secs()
            ),
        });
    };
    let status = status.map_err(ExecutorError::Wait)?;
    Ok(Output {
        success: status.success(),
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).trim().to_string(),
    })
}

/// Submits `script` with `sbatch --parsable`; returns the job id.
pub fn submit(script: &Path, options: &[String]) -> Result<String, ExecutorError> {
    let mut args: Vec<&str> = vec!["--parsable"];
    args.extend(options.iter().map(String::as_str));
    let script_text = script.display().to_string();
    args.push(&script_text);
    let output = client("sbatch", &args)?;
    let job_id = parse_submitted(&output.stdout);
    match job_id {
        Some(job_id) if output.success => Ok(job_id),
        _ => Err(ExecutorError::Scheduler {
            program: "sbatch".into(),
            message: format!(
                "{}. Check [executor] partition, gres, time and sbatch_args in dfh.toml",
                if output.stderr.is_empty() {
                    output.stdout.trim()
                } else {
                    &output.stderr
                }
            ),
        }),
    }
}

/// `sbatch --parsable` prints `id` or `id;cluster` (after any warnings on stderr).
pub fn parse_submitted(stdout: &str) -> Option<String> {
    let line = stdout.lines().rev().find(|line| !line.trim().is_empty())?;
    let id = line.split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit() || c == '_')).then(|| id.to_string())
}

/// The job's status from squeue; `Ok(None)` when Slurm no longer knows the job.
pub fn query(job_id: &str) -> Result<Option<JobStatus>, ExecutorError> {
    let output = client(
        "squeue",
        &["-h", "-t", "all", "-j", job_id, "-o", "%T|%N|%r"],
    )?;
    if !output.success {
        if output.stderr.contains("Invalid job id") {
            return Ok(None);
        }
        return Err(ExecutorError::Scheduler {
            program: "squeue".into(),
            message: output.stderr,
        });
    }
    Ok(output.stdout.lines().find_map(parse_status))
}

/// One `STATE|NODES|REASON` line.
pub fn parse_status(line: &str) -> Option<JobStatus> {
    let mut fields = line.trim().splitn(3, '|');
    let state = fields.next()?.trim();
    if state.is_empty() {
        return None;
    }
    Some(JobStatus {
        // sacct prints `CANCELLED by 0`: the first word is the state.
        state: state.split_whitespace().next()?.to_string(),
        node: fields.next().unwrap_or_default().trim().to_string(),
        reason: fields.next().unwrap_or_default().trim().to_string(),
    })
}

/// The job's `ExitCode=exit:signal` from scontrol, falling back on sacct where accounting
/// exists.
pub fn exit_code(job_id: &str) -> Option<(i32, i32)> {
    if let Ok(output) = client("scontrol", &["show", "job", "-o", job_id]) {
        if output.success {
            if let Some(code) = output
                .stdout
                .split_whitespace()
                .find_map(|field| field.strip_prefix("ExitCode="))
                .and_then(parse_exit_code)
            {
                return Some(code);
            }
        }
    }
    accounting(job_id).and_then(|(_, code)| code)
}

/// The job's status and exit code from sacct; None where accounting is not set up (sacct
/// then says "Slurm accounting storage is disabled").
pub fn accounting(job_id: &str) -> Option<(JobStatus, Option<(i32, i32)>)> {
    let output = client(
        "sacct",
        &[
            "-X",
            "-n",
            "-P",
            "-j",
            job_id,
            "-o",
            "State,NodeList,Reason,ExitCode",
        ],
    )
    .ok()?;
    if !output.success {
        return None;
    }
    let line = output.stdout.lines().find(|line| !line.trim().is_empty())?;
    let (status, code) = line.rsplit_once('|')?;
    Some((parse_status(status)?, parse_exit_code(code.trim())))
}

/// `3:0` → (3, 0); `0:15` → (0, 15).
pub fn parse_exit_code(text: &str) -> Option<(i32, i32)> {
    let (exit, signal) = text.split_once(':')?;
    Some((exit.trim().parse().ok()?, signal.trim().parse().ok()?))
}

/// Asks Slurm to cancel the job (TERM, then KILL after the cluster's KillWait). False when
/// scancel could not be run or refused.
pub fn cancel(job_id: &str) -> bool {
    client("scancel", &[job_id]).is_ok_and(|output| output.success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submitted_ids_with_and_without_cluster() {
        assert_eq!(parse_submitted("42\n").as_deref(), Some("42"));
        assert_eq!(parse_submitted("42;cluster\n").as_deref(), Some("42"));
        assert_eq!(parse_submitted("").as_deref(), None);
        assert_eq!(parse_submitted("error: nope\n").as_deref(), None);
    }

    #[test]
    fn statuses_and_phases() {
        let status = parse_status("RUNNING|vm|None").unwrap();
        assert_eq!(status.node, "vm");
        assert_eq!(status.phase(), Phase::Running);
        assert_eq!(
            parse_status("PENDING||Resources").unwrap().phase(),
            Phase::Waiting
        );
        assert_eq!(
            parse_status("CANCELLED by 0|vm|None").unwrap().state,
            "CANCELLED"
        );
        assert_eq!(
            parse_status("NODE_FAIL|vm|None").unwrap().phase(),
            Phase::Lost
        );
        assert_eq!(
            parse_status("TIMEOUT|vm|TimeLimit").unwrap().phase(),
            Phase::TimeLimit
        );
        assert_eq!(parse_status("  "), None);
    }

    #[test]
    fn exit_codes() {
        assert_eq!(parse_exit_code("3:0"), Some((3, 0)));
        assert_eq!(parse_exit_code("0:15"), Some((0, 15)));
        assert_eq!(parse_exit_code("x"), None);
    }
}
