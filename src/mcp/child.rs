//! One tool call's child: `dfh --json -C DIR <verb> ...`, started from an argument vector
//! (never a shell), its output read by threads so neither pipe can fill and block it.
//!
//! The child asks the kernel for SIGTERM when the server dies (`PR_SET_PDEATHSIG`); a `dfh run`
//! child turns that SIGTERM into stopping its training group and settling the run.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread::JoinHandle;

use super::tools::Invocation;

pub struct Running {
    child: Child,
    stdout: Option<JoinHandle<String>>,
    stderr: Option<JoinHandle<String>>,
}

/// How a child ended.
#[derive(Debug)]
pub struct Finished {
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Running {
    pub fn start(dfh: &Path, dir: &Path, invocation: &Invocation) -> std::io::Result<Self> {
        let mut command = Command::new(dfh);
        command
            .arg("--json")
            .arg("-C")
            .arg(dir)
            .args(&invocation.arguments)
            .current_dir(dir)
            .stdin(if invocation.stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // SAFETY: prctl is async-signal-safe and the closure allocates nothing; it runs in the
        // child between fork and exec. The server spawns from its main thread, which lives as
        // long as the server, so the signal means "the server is gone".
        unsafe {
            command.pre_exec(|| {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
                Ok(())
            });
        }
        let mut child = command.spawn()?;
        if let (Some(text), Some(mut pipe)) = (&invocation.stdin, child.stdin.take()) {
            let text = text.clone();
            std::thread::spawn(move || {
                let _ = pipe.write_all(text.as_bytes());
            });
        }
        let stdout = child.stdout.take().map(read_all);
        let stderr = child.stderr.take().map(read_all);
        Ok(Self {
            child,
            stdout,
            stderr,
        })
    }

    /// The child's end, once it has ended.
    pub fn poll(&mut self) -> std::io::Result<Option<Finished>> {
        let Some(status) = self.child.try_wait()? else {
            return Ok(None);
        };
        let join = |handle: Option<JoinHandle<String>>| {
            handle
                .and_then(|handle| handle.join().ok())
                .unwrap_or_default()
        };
        Ok(Some(Finished {
            code: status.code(),
            signal: status.signal(),
            stdout: join(self.stdout.take()),
            stderr: join(self.stderr.take()),
        }))
    }

    /// Asks the child to stop (SIGTERM): a `dfh run` stops its training and settles the run.
    pub fn terminate(&self) {
        if let Ok(pid) = i32::try_from(self.child.id()) {
            // SAFETY: kill with a valid signal number has no memory effects.
            unsafe {
                libc::kill(pid, libc::SIGTERM);
            }
        }
    }
}

fn read_all(mut pipe: impl Read + Send + 'static) -> JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
