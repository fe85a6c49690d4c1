//! The journal: `.dfh/journal.jsonl`, an append-only log of events and the source of truth.
//!
//! Each event is one JSON object on one line, written whole with a single `write` and synced
//! before the call returns. A torn last line (the harness killed mid-write) is skipped with a
//! warning; the next append starts on a fresh line, so the torn bytes never merge with it.

mod event;
mod state;

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

pub use event::*;
pub use state::*;

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("cannot read the journal {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot append to the journal {path}: {source}. Nothing was recorded; free disk space or fix permissions, then run the command again")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One line of the journal that could not be read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SkippedLine {
    pub line: usize,
    pub reason: String,
}

/// Everything read from the journal.
#[derive(Debug, Default)]
pub struct Loaded {
    pub events: Vec<Event>,
    pub skipped: Vec<SkippedLine>,
}

#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
}

impl Journal {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Reads every event; unreadable lines are reported, never fatal.
    pub fn load(&self) -> Result<Loaded, JournalError> {
        let file = match File::open(&self.path) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Loaded::default())
            }
            Err(source) => {
                return Err(JournalError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut loaded = Loaded::default();
        let mut buffer = Vec::new();
        let mut number = 0;
        loop {
            buffer.clear();
            let read =
                reader
                    .read_until(b'\n', &mut buffer)
                    .map_err(|source| JournalError::Read {
                        path: self.path.clone(),
                        source,
                    })?;
            if read == 0 {
                break;
            }
            number += 1;
            let complete = buffer.last() == Some(&b'\n');
            let line = trim_line(&buffer);
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Event>(line) {
                Ok(event) => loaded.events.push(event),
                Err(error) => loaded.skipped.push(SkippedLine {
                    line: number,
                    reason: if complete {
                        format!("not a journal event ({error})")
                    } else {
                        "torn last line (an earlier dfh was killed while writing it)".into()
                    },
                }),
            }
        }
        Ok(loaded)
    }

    /// Appends events, each on its own line, and syncs them to disk.
    pub fn append(&self, events: &[Event]) -> Result<(), JournalError> {
        let write_error = |source| JournalError::Write {
            path: self.path.clone(),
            source,
        };
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&self.path)
            .map_err(write_error)?;
        let mut text = Vec::new();
        let length = file.metadata().map_err(write_error)?.len();
        if !ends_with_newline(&mut file).map_err(write_error)? {
            text.push(b'\n');
        }
        for event in events {
            serde_json::to_writer(&mut text, event)
                .map_err(|error| write_error(std::io::Error::other(error)))?;
            text.push(b'\n');
        }
        let written =
            crate::env::write_all(&mut file, &self.path, &text).and_then(|()| file.sync_data());
        if let Err(source) = written {
            // A full disk can take part of the batch: cut it off, so the journal holds all of
            // these events or none of them.
            let _ = file.set_len(length);
            let _ = file.sync_data();
            return Err(write_error(source));
        }
        Ok(())
    }
}

fn ends_with_newline(file: &mut File) -> std::io::Result<bool> {
    let length = file.metadata()?.len();
    if length == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::Start(length - 1))?;
    let mut last = [0u8; 1];
    file.read_exact(&mut last)?;
    Ok(last[0] == b'\n')
}

fn trim_line(line: &[u8]) -> &[u8] {
    let mut end = line.len();
    while end > 0 && matches!(line[end - 1], b'\n' | b'\r' | b' ' | b'\t') {
        end -= 1;
    }
    &line[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn note(text: &str) -> Event {
        Event::Learned(Learned {
            at: "2026-01-01T00:00:00Z".into(),
            experiment: 1,
            text: text.into(),
        })
    }

    #[test]
    fn torn_last_line_is_skipped_and_the_next_append_starts_clean() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path().join("journal.jsonl"));
        journal.append(&[note("one")]).unwrap();
        let mut file = OpenOptions::new()
            .append(true)
            .open(journal.path())
            .unwrap();
        file.write_all(b"{\"event\":\"learned\",\"at\":\"2026")
            .unwrap();
        let loaded = journal.load().unwrap();
        assert_eq!(loaded.events.len(), 1);
        assert_eq!(loaded.skipped.len(), 1);
        assert!(loaded.skipped[0].reason.contains("torn"));
        journal.append(&[note("two")]).unwrap();
        let loaded = journal.load().unwrap();
        assert_eq!(loaded.events.len(), 2);
        assert_eq!(loaded.skipped.len(), 1);
        assert!(loaded.skipped[0].reason.contains("not a journal event"));
    }

    #[test]
    fn a_corrupt_line_in_the_middle_does_not_lose_later_events() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::new(dir.path().join("journal.jsonl"));
        journal.append(&[note("one")]).unwrap();
        std::fs::write(
            journal.path(),
            format!(
                "{}garbage\u{0}\n",
                std::fs::read_to_string(journal.path()).unwrap()
            ),
        )
        .unwrap();
        journal.append(&[note("three")]).unwrap();
        let loaded = journal.load().unwrap();
        assert_eq!(loaded.events.len(), 2);
        assert_eq!(loaded.skipped[0].line, 2);
    }
}
