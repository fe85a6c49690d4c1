//! One dfh at a time: an exclusive `flock` on `.dfh/lock`, holding the owner's pid.
//!
//! The kernel releases the lock when its holder dies, however it dies, so a killed dfh never
//! leaves a stale lock behind; the pid inside only serves the refusal message.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::path::Path;

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
    /// Takes the lock without waiting; refuses when another dfh holds it.
    pub fn acquire(path: &Path, command: &str) -> Result<Self, LockError> {
        let open_error = |source| LockError::Open {
            path: path.display().to_string(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(open_error)?;
        // SAFETY: flock on a valid, owned file descriptor.
        let locked = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
        if !locked {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
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
        let _ = file.set_len(0);
        let _ = file.seek(SeekFrom::Start(0));
        let _ = write!(file, "{} {command}", std::process::id());
        let _ = file.flush();
        Ok(Self { _file: file })
    }
}
