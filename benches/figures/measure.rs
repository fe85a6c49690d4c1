//! Whole-process measurement: spawn, wait with `wait4` for the child's peak RSS, medians.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One run of a process: wall time, peak resident memory (kB) and exit code.
pub struct Sample {
    pub wall: Duration,
    pub peak_kb: i64,
    pub code: i32,
    pub stdout: String,
}

/// Medians (and the largest peak RSS) of repeated runs.
pub struct Figure {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
    pub peak_kb: i64,
}

impl Figure {
    pub fn of(samples: &[Sample]) -> Self {
        let mut walls: Vec<Duration> = samples.iter().map(|sample| sample.wall).collect();
        walls.sort();
        Self {
            median: walls[walls.len() / 2],
            min: walls[0],
            max: walls[walls.len() - 1],
            peak_kb: samples
                .iter()
                .map(|sample| sample.peak_kb)
                .max()
                .unwrap_or(0),
        }
    }

    pub fn from_durations(mut durations: Vec<Duration>) -> Self {
        durations.sort();
        Self {
            median: durations[durations.len() / 2],
            min: durations[0],
            max: durations[durations.len() - 1],
            peak_kb: 0,
        }
    }
}

/// The environment of every child: no global git config, a fixed identity, and `PATH` with
/// the real python3 first (a pyenv shim alone costs ~300 ms per start).
pub struct Runner {
    pub path: String,
    pub dfh: PathBuf,
}

impl Runner {
    pub fn new(dfh: &str) -> Self {
        let executable = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_string())
            .unwrap_or_default();
        let mut path = std::env::var("PATH").unwrap_or_default();
        if let Some(directory) = Path::new(&executable).parent() {
            path = format!("{}:{path}", directory.display());
        }
        Self {
            path,
            dfh: PathBuf::from(dfh),
        }
    }

    pub fn command(&self, dir: &Path, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(dir)
            .env("PATH", &self.path)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Bench")
            .env("GIT_AUTHOR_EMAIL", "bench@example.com")
            .env("GIT_COMMITTER_NAME", "Bench")
            .env("GIT_COMMITTER_EMAIL", "bench@example.com");
        command
    }

    /// Runs `dfh args` once; panics unless it exits 0 (or 3 where `refusal_ok`).
    pub fn dfh(&self, dir: &Path, args: &[&str]) -> Sample {
        let sample = sample(self.command(dir, &self.dfh, args), None);
        assert!(
            sample.code == 0 || sample.code == 3,
            "dfh {args:?} exited {}",
            sample.code
        );
        sample
    }

    pub fn git(&self, dir: &Path, args: &[&str]) {
        let sample = sample(self.command(dir, Path::new("git"), args), None);
        assert_eq!(sample.code, 0, "git {args:?}");
    }

    /// `times` runs of `dfh args`.
    pub fn repeat(&self, dir: &Path, args: &[&str], times: usize) -> Figure {
        let samples: Vec<Sample> = (0..times).map(|_| self.dfh(dir, args)).collect();
        Figure::of(&samples)
    }
}

/// Runs `command` to its end, feeding `input` on stdin; times it and reads its peak RSS.
/// The command runs under a fresh, small copy of this binary (`--spawn`): a child forked
/// straight from this large process would report this process's RSS as its own peak.
pub fn sample(command: Command, input: Option<&[u8]>) -> Sample {
    use std::io::{Read, Write};
    let report = tempfile::NamedTempFile::new().expect("report file");
    let mut helper = Command::new(std::env::current_exe().expect("current exe"));
    helper
        .arg("--spawn")
        .arg(report.path())
        .arg(command.get_program())
        .args(command.get_args());
    if let Some(dir) = command.get_current_dir() {
        helper.current_dir(dir);
    }
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => helper.env(key, value),
            None => helper.env_remove(key),
        };
    }
    helper
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = helper.spawn().expect("spawn");
    if let (Some(mut stdin), Some(input)) = (child.stdin.take(), input) {
        stdin.write_all(input).expect("stdin");
    }
    let mut stdout = String::new();
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut stdout).expect("stdout");
    }
    assert!(
        child.wait().expect("wait").success(),
        "--spawn helper failed"
    );
    let text = std::fs::read_to_string(report.path()).expect("report");
    let numbers: Vec<i64> = text
        .split_whitespace()
        .map(|number| number.parse().expect("number"))
        .collect();
    Sample {
        wall: Duration::from_nanos(numbers[0] as u64),
        peak_kb: numbers[1],
        code: numbers[2] as i32,
        stdout,
    }
}

/// The `--spawn REPORT PROGRAM ARGS...` mode: runs the program (stdin and stdout inherited)
/// and writes `wall_ns peak_kb exit_code` to REPORT.
pub fn spawn_main(arguments: &[String]) {
    let report = &arguments[0];
    let start = Instant::now();
    #[expect(
        clippy::zombie_processes,
        reason = "reaped by wait4 below, which also gives the peak RSS"
    )]
    let child = Command::new(&arguments[1])
        .args(&arguments[2..])
        .spawn()
        .expect("spawn");
    let mut status = 0;
    // SAFETY: rusage is plain data; wait4 reaps the child that `spawn` created and that
    // nothing else waits for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let waited = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = start.elapsed();
    assert_eq!(waited, pid, "wait4");
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    std::fs::write(
        report,
        format!("{} {} {code}", wall.as_nanos(), usage.ru_maxrss),
    )
    .expect("report");
}

/// Median of `times` in-process runs of `work`.
pub fn in_process(times: usize, mut work: impl FnMut()) -> Figure {
    let durations = (0..times)
        .map(|_| {
            let start = Instant::now();
            work();
            start.elapsed()
        })
        .collect();
    Figure::from_durations(durations)
}

pub fn ms(duration: Duration) -> String {
    let value = duration.as_secs_f64() * 1000.0;
    if value < 10.0 {
        format!("{value:.2} ms")
    } else {
        format!("{value:.0} ms")
    }
}

pub fn mb(kb: i64) -> String {
    format!("{:.0} MB", kb as f64 / 1024.0)
}

/// A number with thousands separators: 10,000.
pub fn thousands(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}
