//! The local executor: the training command in its own process group on this machine.
//!
//! stdin is null and stdout+stderr go straight to the log file (no pipe, so a chatty script
//! can never block on us). The child asks the kernel to kill it when dfh dies
//! (`PR_SET_PDEATHSIG`); its own children are reached through the process group, which the
//! next dfh command also stops if dfh was killed before it could.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{process, signals, ExecutorError, Progress, RunReport, RunSpec};

/// How the child is started: the configured command line through `sh -c`, or a program and
/// its arguments directly (agent-written text travels only this way, never through a shell).
#[derive(Debug, Clone, Default)]
pub struct Launch {
    /// Program and arguments; empty means `sh -c <spec.command>`.
    pub argv: Vec<String>,
    /// A file given to the child as its stdin (null when None).
    pub stdin: Option<std::path::PathBuf>,
}

/// Runs `spec` to completion, timeout or interruption.
pub fn run(
    spec: &RunSpec,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunReport, ExecutorError> {
    run_with(spec, &Launch::default(), on_progress)
}

/// As `run`, started as `launch` says.
pub fn run_with(
    spec: &RunSpec,
    launch: &Launch,
    on_progress: &mut dyn FnMut(Progress<'_>),
) -> Result<RunReport, ExecutorError> {
    let log_error = |source| ExecutorError::Log {
        path: spec.log.clone(),
        source,
    };
    if let Some(parent) = spec.log.parent() {
        std::fs::create_dir_all(parent).map_err(log_error)?;
    }
    let log = File::create(&spec.log).map_err(log_error)?;
    let log_for_stderr = log.try_clone().map_err(log_error)?;
    let stdin = match &launch.stdin {
        Some(path) => Stdio::from(File::open(path).map_err(log_error)?),
        None => Stdio::null(),
    };
    let mut command = match launch.argv.split_first() {
        Some((program, arguments)) => {
            let mut command = Command::new(program);
            command.args(arguments);
            command
        }
        None => {
            let mut command = Command::new("sh");
            command.arg("-c").arg(&spec.command);
            command
        }
    };
    command
        .current_dir(&spec.dir)
        .stdin(stdin)
        .stdout(Stdio::from(log))
        .stderr(Stdio::from(log_for_stderr))
        .process_group(0);
    for (key, value) in &spec.env {
        command.env(key, value);
    }
    // SAFETY: prctl is async-signal-safe and the closure allocates nothing; it runs in the
    // child between fork and exec.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
    signals::install();
    let started = Instant::now();
    let mut child = command.spawn().map_err(|source| ExecutorError::Spawn {
        command: spec.command.clone(),
        source,
    })?;
    let pid = child.id();
    let pgid = pid as i32;
    on_progress(Progress::Started {
        pid,
        start_ticks: process::start_ticks(pgid),
    });

    let gpu = super::gpu::GpuSampler::start(pgid, Duration::from_secs(2));
    let exit = ExitWatch::open(pid);
    let mut report = RunReport::default();
    let mut peak_rss_mb: f64 = 0.0;
    let mut next_sample = started;
    let mut next_tick = started + Duration::from_secs(1);
    let mut poll = Duration::from_millis(1);
    let status = loop {
        if let Some(status) = child.try_wait().map_err(ExecutorError::Wait)? {
            break status;
        }
        let now = Instant::now();
        if now >= next_sample {
            peak_rss_mb = peak_rss_mb.max(process::group_rss_mb(pgid));
            next_sample = now + Duration::from_millis(250);
        }
        if now >= next_tick {
            let last = last_line(&spec.log);
            on_progress(Progress::Tick {
                elapsed: now - started,
                last_line: &last,
            });
            next_tick = now + Duration::from_secs(1);
        }
        if !report.timed_out && !report.interrupted {
            if now - started >= spec.timeout {
                report.timed_out = true;
                process::stop_group(pgid, spec.grace);
            } else if signals::received().is_some() {
                report.interrupted = true;
                process::stop_group(pgid, spec.grace);
            }
        }
        exit.wait(poll);
        poll = (poll * 2).min(Duration::from_millis(50));
    };
    // The main process is done; stop whatever it left behind in its group.
    process::stop_group(pgid, Duration::from_millis(500));
    report.seconds = started.elapsed().as_secs_f64();
    report.exit_code = status.code();
    report.signal = status.signal();
    report.peak_rss_mb = (peak_rss_mb > 0.0).then_some(peak_rss_mb);
    report.gpu_peak_mb = gpu.finish();
    Ok(report)
}

/// Wakes the wait loop as soon as the child exits: a pidfd (Linux 5.3+) polled with a
/// timeout, so a short run is not rounded up to the loop's sleep. Without pidfd the loop
/// sleeps for the timeout, as it always did.
struct ExitWatch {
    pidfd: Option<std::os::fd::OwnedFd>,
}

impl ExitWatch {
    fn open(pid: u32) -> Self {
        use std::os::fd::FromRawFd;
        // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1; the
        // descriptor is owned by nothing else, so OwnedFd may close it.
        let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
        let pidfd = (fd >= 0).then(|| unsafe { std::os::fd::OwnedFd::from_raw_fd(fd as i32) });
        Self { pidfd }
    }

    /// Returns when the child exits, a signal arrives, or `timeout` passes.
    fn wait(&self, timeout: Duration) {
        use std::os::fd::AsRawFd;
        let Some(pidfd) = &self.pidfd else {
            std::thread::sleep(timeout);
            return;
        };
        let mut entry = libc::pollfd {
            fd: pidfd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let milliseconds = timeout.as_millis().clamp(1, 60_000) as libc::c_int;
        // SAFETY: one valid pollfd for the duration of the call. An error or EINTR (our own
        // signal handler) just returns early; the loop checks the child and the signals.
        unsafe { libc::poll(&mut entry, 1, milliseconds) };
    }
}

/// The last non-empty line of the log (progress lines rewritten with `\r` count as lines).
pub(crate) fn last_line(path: &std::path::Path) -> String {
    let Ok(mut file) = File::open(path) else {
        return String::new();
    };
    let length = file.metadata().map(|meta| meta.len()).unwrap_or(0);
    let start = length.saturating_sub(4096);
    if file.seek(SeekFrom::Start(start)).is_err() {
        return String::new();
    }
    let mut tail = Vec::new();
    let _ = file.take(4096).read_to_end(&mut tail);
    String::from_utf8_lossy(&tail)
        .split(['\n', '\r'])
        .rev()
        .find(|line| !line.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .chars()
        .take(120)
        .collect()
}
