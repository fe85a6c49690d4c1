//! The journal: `.dfh/journal.jsonl`, an append-only log of events and the source of truth.
//!
//! Each event is one JSON object on one line, written whole with a single `write` and synced
//! before the call returns. A torn last line (the harness killed mid-write) is skipped with a
//! warning; the next append starts on a fresh line, so the torn bytes never merge with it.

mod event;
mod snapshot;
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
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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

/// The state folded from the journal, and the lines that could not be read.
#[derive(Debug, Default)]
pub struct Folded {
    pub state: State,
    pub skipped: Vec<SkippedLine>,
    /// Whether a snapshot spared the read of the journal's beginning.
    pub from_snapshot: bool,
}

/// A place in the journal: right after `lines` lines, `bytes` bytes from its start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Position {
    pub bytes: u64,
    pub lines: usize,
}

/// What a read from some position found.
struct TailRead {
    skipped: Vec<SkippedLine>,
    /// Right after the last line that ends with a newline: where a snapshot may end.
    complete: Position,
}

#[derive(Debug, Clone)]
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
        let mut loaded = Loaded::default();
        let Some(file) = self.open()? else {
            return Ok(loaded);
        };
        let read = self.read_from(file, Position::default(), |event| loaded.events.push(event))?;
        loaded.skipped = read.skipped;
        Ok(loaded)
    }

    /// The project's state: a valid snapshot at `snapshot` plus the events after it, or the
    /// fold of the whole journal. The snapshot is rewritten when the tail grew long.
    pub fn fold(&self, snapshot: &Path) -> Result<Folded, JournalError> {
        let Some(mut file) = self.open()? else {
            return Ok(Folded::default());
        };
        let cached = snapshot::read(snapshot, &mut file, snapshot::Part::Whole);
        let from_snapshot = cached.is_some();
        let (mut state, mut skipped, start) = match cached {
            Some(cached) => (cached.state, cached.skipped, cached.position),
            None => (State::default(), Vec::new(), Position::default()),
        };
        let read = self.read_from(file, start, |event| state.apply(&event))?;
        skipped.extend(read.skipped);
        if read.complete.bytes - start.bytes > snapshot::REWRITE_AFTER {
            // A cache: when it cannot be written, the next command folds a longer tail.
            let _ = snapshot::write(snapshot, &self.path, &mut state, &skipped, read.complete);
        }
        Ok(Folded {
            state,
            skipped,
            from_snapshot,
        })
    }

    /// As `fold`, but from the snapshot's outline when it is valid and the tail after it is
    /// short: every experiment with only the fields that `dfh status` reads (see
    /// `snapshot::outline`); otherwise the whole state, as `fold` gives it. For `dfh status`
    /// only: every other reader needs the whole state.
    pub fn fold_outline(&self, snapshot: &Path) -> Result<Folded, JournalError> {
        self.fold_part(snapshot, snapshot::Part::Outline)
    }

    /// As `fold_outline`, from the snapshot's run view (see `snapshot::run_view`): for the
    /// first load of `dfh run` only.
    pub fn fold_run(&self, snapshot: &Path) -> Result<Folded, JournalError> {
        self.fold_part(snapshot, snapshot::Part::Run)
    }

    fn fold_part(&self, snapshot: &Path, part: snapshot::Part) -> Result<Folded, JournalError> {
        let Some(mut file) = self.open()? else {
            return Ok(Folded::default());
        };
        let length = file.metadata().map_or(u64::MAX, |meta| meta.len());
        let cached = snapshot::read(snapshot, &mut file, part).filter(|cached| {
            length.saturating_sub(cached.position.bytes) <= snapshot::REWRITE_AFTER
        });
        let Some(cached) = cached else {
            return self.fold(snapshot);
        };
        let (mut state, mut skipped) = (cached.state, cached.skipped);
        let read = self.read_from(file, cached.position, |event| state.apply(&event))?;
        skipped.extend(read.skipped);
        Ok(Folded {
            state,
            skipped,
            from_snapshot: true,
        })
    }

    fn open(&self) -> Result<Option<File>, JournalError> {
        match File::open(&self.path) {
            Ok(file) => Ok(Some(file)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(JournalError::Read {
                path: self.path.clone(),
                source,
            }),
        }
    }

    /// Reads the lines from `start` (the start of a line) to the end of the file.
    fn read_from(
        &self,
        mut file: File,
        start: Position,
        mut on_event: impl FnMut(Event),
    ) -> Result<TailRead, JournalError> {
        let read_error = |source| JournalError::Read {
            path: self.path.clone(),
            source,
        };
        file.seek(SeekFrom::Start(start.bytes))
            .map_err(read_error)?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut read = TailRead {
            skipped: Vec::new(),
            complete: start,
        };
        let mut buffer = Vec::new();
        let mut number = start.lines;
        loop {
            buffer.clear();
            let length = reader.read_until(b'\n', &mut buffer).map_err(read_error)?;
            if length == 0 {
                break;
            }
            number += 1;
            let complete = buffer.last() == Some(&b'\n');
            if complete {
                read.complete = Position {
                    bytes: read.complete.bytes + length as u64,
                    lines: number,
                };
            }
            let line = trim_line(&buffer);
            if line.is_empty() {
                continue;
            }
            match serde_json::from_slice::<Event>(line) {
                Ok(event) => on_event(event),
                Err(error) => read.skipped.push(SkippedLine {
                    line: number,
                    reason: if complete {
                        format!("not a journal event ({error})")
                    } else {
                        "torn last line (an earlier dfh was killed while writing it)".into()
                    },
                }),
            }
        }
        Ok(read)
    }

    /// The latest `planned` event of `lane` among the journal's last 256 KiB, read backwards:
    /// a guess at the experiment the next run takes up, for work that may start before the
    /// state is loaded. The caller checks it against the state.
    pub fn last_planned(&self, lane: Option<u32>) -> Option<Planned> {
        const WINDOW: u64 = 256 * 1024;
        let mut file = File::open(&self.path).ok()?;
        let length = file.metadata().ok()?.len();
        let from = length.saturating_sub(WINDOW);
        file.seek(SeekFrom::Start(from)).ok()?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).ok()?;
        // From the first whole line on.
        let start = if from > 0 {
            memchr::memchr(b'\n', &bytes).map_or(bytes.len(), |newline| newline + 1)
        } else {
            0
        };
        bytes[start..]
            .rsplit(|byte| *byte == b'\n')
            .filter(|line| memchr::memmem::find(line, b"\"event\":\"planned\"").is_some())
            .find_map(
                |line| match serde_json::from_slice::<Event>(trim_line(line)) {
                    Ok(Event::Planned(planned)) if planned.lane == lane => Some(planned),
                    _ => None,
                },
            )
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
        // Lanes append from several processes: one writer at a time, released on close.
        // SAFETY: flock on a valid, owned file descriptor.
        unsafe { libc::flock(std::os::fd::AsRawFd::as_raw_fd(&file), libc::LOCK_EX) };
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

/// Frees a state on a background thread: at 10,000 experiments freeing it takes several
/// milliseconds that a command about to print and exit need not wait for (at exit the thread
/// simply ends with the process).
pub fn release(state: State) {
    let _ = std::thread::Builder::new()
        .name("release".into())
        .spawn(move || drop(state));
}

#[cfg(test)]
mod snapshot_tests;

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
