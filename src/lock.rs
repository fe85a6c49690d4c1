//! One dfh at a time: an exclusive `flock` on `.dfh/lock`, holding the owner's pid.
//!
//! The kernel releases the lock when its holder dies, however it dies, so a killed dfh never
//! leaves a stale lock behind; the pid inside only serves the refusal message. A lane's run
//! holds the lock only briefly (to read and write the journal, results.tsv and docs/), marking
//! it `brief`: another dfh waits for a brief holder instead of being refused.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("another dfh (pid {holder}, `{command}`) is working in this project; wait for it to finish, or stop it with `kill {holder}` if it is stuck")]
    Held { holder: String, command: String },
    #[error("cannot open the lock file {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
}

/// Held while alive; dropping it releases the lock.
#[derive(Debug)]
pub struct ProjectLock {
    _file: File,
}

impl ProjectLock {
    /// Takes the lock for a short command (plan, learn, a lane's record); waits up to a minute
    /// for another that holds it briefly, and refuses at once when one holds it for a run.
    pub fn acquire(path: &Path, command: &str) -> Result<Self, LockError> {
        Self::take(path, command, true)
    }

    /// Takes the lock for a whole run, waiting as `acquire`; others are refused meanwhile.
    pub fn hold(path: &Path, command: &str) -> Result<Self, LockError> {
        Self::take(path, command, false)
    }

    /// Takes the lock only when it is free at once: `None` when another process holds it.
    pub fn try_take(path: &Path) -> Option<Self> {
        let file = open(path).ok()?;
        try_lock(&file).then(|| Self::claim(file, "dfh (settling)", true))
    }

    /// Writes the holder's record into the lock file it just locked.
    fn claim(mut file: File, command: &str, brief: bool) -> Self {
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        // One write, so a reader never sees half a record.
        let _ = file.write_all(record(command, brief).as_bytes());
        Self { _file: file }
    }

    fn take(path: &Path, command: &str, brief: bool) -> Result<Self, LockError> {
        let open_error = |source| LockError::Open {
            path: path.display().to_string(),
            source,
        };
        let mut file = open(path).map_err(open_error)?;
        let deadline = Instant::now() + WAIT_FOR_BRIEF;
        let mut text = String::new();
        let locked = loop {
            if try_lock(&file) {
                break true;
            }
            text.clear();
            let _ = file.seek(SeekFrom::Start(0));
            let _ = file.read_to_string(&mut text);
            // Only a whole record of a run's hold refuses at once: an empty or half-written
            // one is a holder still writing it.
            let run_holder = text.ends_with(RUN_MARK);
            if run_holder || Instant::now() >= deadline {
                break false;
            }
            std::thread::sleep(Duration::from_millis(5));
        };
        if !locked {
            let text = text.split('\t').next().unwrap_or_default();
            let (holder, command) = text.trim().split_once(' ').unwrap_or((text.trim(), "?"));
            return Err(LockError::Held {
                holder: if holder.is_empty() {
                    "?".into()
                } else {
                    holder.to_string()
                },
                command: command.to_string(),
            });
        }
        Ok(Self::claim(file, command, brief))
    }
}

/// How long a dfh waits for another that holds the lock briefly.
const WAIT_FOR_BRIEF: Duration = Duration::from_secs(60);

/// Ends the record of a holder that holds the lock for a whole run.
const RUN_MARK: &str = "\trun\n";

/// What the holder writes into the lock file: its pid, its command and how long it holds it.
fn record(command: &str, brief: bool) -> String {
    let kind = if brief { "brief" } else { "run" };
    format!("{} {command}\t{kind}\n", std::process::id())
}

fn open(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
}

fn try_lock(file: &File) -> bool {
    // SAFETY: flock on a valid, owned file descriptor.
    unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) == 0 }
}
