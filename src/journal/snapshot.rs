//! `.dfh/state.snapshot`: the folded state of the journal's first bytes, a cache that spares
//! each command the read of the whole journal (12.6 MB at 10,000 experiments).
//!
//! The journal stays the only source of truth. A snapshot is used only when its schema is
//! this build's, its own checksum holds, and the journal still holds, at the same offsets, the
//! bytes it was folded from: the first and the last 4 KiB before its offset are hashed, so a
//! truncated, replaced or rewritten journal (any insertion or deletion before the offset)
//! falls back to the full fold. Written to a temporary file and renamed over the old one.
//!
//! Format: 8 magic bytes, then bincode (varint) of a `Header`, then three bodies: the outline
//! (the state with each experiment cut down to what `dfh status` reads, see `outline`), the
//! run view (what `dfh run` reads, see `run_view`), then the whole state. `dfh status` reads
//! the header and the outline only, `dfh run` the run view; every other command reads the
//! whole state. The fields that the journal's JSON leaves out when empty are written
//! too while a snapshot is encoded (see `omit_none`): bincode has no field names and reads
//! every field in order.

use std::cell::Cell;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use bincode::Options;
use serde::{Deserialize, Serialize};

use super::{Experiment, Outcome, Phase, Position, SkippedLine, State};

const MAGIC: &[u8; 8] = b"DFHSNAP3";

/// Bytes hashed at the start of the journal and right before the snapshot's offset.
const WINDOW: u64 = 4096;

/// Rewrite the snapshot once the events read after it exceed this many bytes (about 50
/// experiments): the tail stays a millisecond's read.
pub const REWRITE_AFTER: u64 = 64 * 1024;

/// Changes with any edit of the fold, the events or this format: an older snapshot is then
/// ignored rather than misread.
const SCHEMA: u64 = {
    let sources: [&[u8]; 5] = [
        include_bytes!("state.rs"),
        include_bytes!("event.rs"),
        include_bytes!("snapshot.rs"),
        include_bytes!("../decide/noise.rs"),
        env!("CARGO_PKG_VERSION").as_bytes(),
    ];
    let mut hash = SEED;
    let mut source = 0;
    while source < sources.len() {
        hash = hash_bytes(hash, sources[source]);
        source += 1;
    }
    hash
};

#[derive(Serialize, Deserialize)]
struct Header {
    schema: u64,
    /// The journal bytes and lines the state folds.
    position: Position,
    /// Hashes of the journal's first `WINDOW` bytes and of the `WINDOW` bytes before the offset.
    head: u64,
    tail: u64,
    /// Length and hash of the encoded outline, which comes first, of the run view, and of the
    /// whole state.
    outline_length: u64,
    outline_hash: u64,
    run_length: u64,
    run_hash: u64,
    body_length: u64,
    body_hash: u64,
}

/// Which of the three bodies to read.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// Every experiment with only the fields `dfh status` reads (see `outline`).
    Outline,
    /// The outline and what `dfh run` reads besides (see `run_view`).
    Run,
    Whole,
}

#[derive(Deserialize)]
struct Body {
    state: State,
    skipped: Vec<SkippedLine>,
}

/// What `Body` reads, written without copying the state.
#[derive(Serialize)]
struct BodyRef<'a> {
    state: &'a State,
    skipped: &'a [SkippedLine],
}

/// A valid snapshot's content.
pub struct Cached {
    pub state: State,
    pub skipped: Vec<SkippedLine>,
    pub position: Position,
}

thread_local! {
    static ENCODING: Cell<bool> = const { Cell::new(false) };
}

/// `skip_serializing_if` for optional fields of what the state holds: left out of JSON when
/// empty, always written in a snapshot.
pub fn omit_none<T>(value: &Option<T>) -> bool {
    value.is_none() && !ENCODING.with(Cell::get)
}

/// `skip_serializing_if` for list fields of what the state holds (see `omit_none`).
#[expect(clippy::ptr_arg, reason = "serde passes a reference to the field")]
pub fn omit_empty<T>(value: &Vec<T>) -> bool {
    value.is_empty() && !ENCODING.with(Cell::get)
}

fn options() -> impl Options {
    bincode::DefaultOptions::new().allow_trailing_bytes()
}

/// The snapshot at `path` when it is valid for the journal `journal`; None otherwise. Only
/// the header and the part asked for are decoded; the whole state is used only when the
/// outline is intact too, so any damage to the file falls back to the full fold.
pub fn read(path: &Path, journal: &mut File, part: Part) -> Option<Cached> {
    let mapped = Mapped::open(&File::open(path).ok()?)?;
    let rest = mapped.bytes().strip_prefix(MAGIC)?;
    let mut cursor = std::io::Cursor::new(rest);
    let header: Header = options().deserialize_from(&mut cursor).ok()?;
    if header.schema != SCHEMA {
        return None;
    }
    let rest = rest.get(usize::try_from(cursor.position()).ok()?..)?;
    let outline_length = usize::try_from(header.outline_length).ok()?;
    let run_length = usize::try_from(header.run_length).ok()?;
    let total = header
        .outline_length
        .checked_add(header.run_length)?
        .checked_add(header.body_length)?;
    if rest.len() as u64 != total {
        return None;
    }
    let (outline, rest) = rest.split_at(outline_length);
    let (run, body) = rest.split_at(run_length);
    if hash(SEED, outline) != header.outline_hash {
        return None;
    }
    let (chosen, expected) = match part {
        Part::Outline => (outline, header.outline_hash),
        Part::Run => (run, header.run_hash),
        Part::Whole => (body, header.body_hash),
    };
    if part != Part::Outline && hash(SEED, chosen) != expected {
        return None;
    }
    let (head, tail) = journal_hashes(journal, header.position.bytes).ok()??;
    if head != header.head || tail != header.tail {
        return None;
    }
    let body: Body = options().deserialize(chosen).ok()?;
    Some(Cached {
        state: body.state,
        skipped: body.skipped,
        position: header.position,
    })
}

/// A read-only, private mapping of a whole file. The snapshot is decoded straight from the
/// page cache: reading 7 MB into fresh memory costs more than decoding from it. A snapshot is
/// only ever replaced by a rename, never changed in place, so the mapped bytes stay fixed.
struct Mapped {
    address: *mut libc::c_void,
    length: usize,
}

impl Mapped {
    fn open(file: &File) -> Option<Self> {
        use std::os::fd::AsRawFd;
        let length = usize::try_from(file.metadata().ok()?.len()).ok()?;
        if length == 0 {
            return None;
        }
        // SAFETY: a new read-only private mapping of an open file; the kernel picks the
        // address, and a failure returns MAP_FAILED, which is checked.
        let address = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                length,
                libc::PROT_READ,
                libc::MAP_PRIVATE,
                file.as_raw_fd(),
                0,
            )
        };
        (address != libc::MAP_FAILED).then_some(Self { address, length })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `length` readable bytes and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.address.cast::<u8>(), self.length) }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping made in `open`, which nothing borrows any more.
        unsafe { libc::munmap(self.address, self.length) };
    }
}

/// Writes a snapshot of `state`, the fold of the journal up to `position`. The state is lent
/// for the copy of its outline and given back as it was.
pub fn write(
    path: &Path,
    journal: &Path,
    state: &mut State,
    skipped: &[SkippedLine],
    position: Position,
) -> std::io::Result<()> {
    let mut file = File::open(journal)?;
    let Some((head, tail)) = journal_hashes(&mut file, position.bytes)? else {
        return Ok(());
    };
    let outline = outline(state);
    let outline = encode(&BodyRef {
        state: &outline,
        skipped,
    })
    .map_err(std::io::Error::other)?;
    let run = run_view(state);
    let run = encode(&BodyRef {
        state: &run,
        skipped,
    })
    .map_err(std::io::Error::other)?;
    let body = encode(&BodyRef { state, skipped }).map_err(std::io::Error::other)?;
    let header = Header {
        schema: SCHEMA,
        position,
        head,
        tail,
        outline_length: outline.len() as u64,
        outline_hash: hash(SEED, &outline),
        run_length: run.len() as u64,
        run_hash: hash(SEED, &run),
        body_length: body.len() as u64,
        body_hash: hash(SEED, &body),
    };
    let mut text = MAGIC.to_vec();
    options()
        .serialize_into(&mut text, &header)
        .map_err(std::io::Error::other)?;
    text.extend_from_slice(&outline);
    text.extend_from_slice(&run);
    text.extend_from_slice(&body);
    let temporary = path.with_extension(format!("snapshot.{}.tmp", std::process::id()));
    let written = File::create(&temporary)
        .and_then(|mut file| file.write_all(&text))
        .and_then(|()| std::fs::rename(&temporary, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The state with each experiment cut down to what `dfh status` reads — number, title, phase,
/// status text, attempts, value, best before, run values, prediction and direction, crash
/// class, whether it was imported or has a learning, and its last log — so that it decodes
/// in a fraction of the time. Folding journal events onto an outline gives the outline of
/// their fold: each event sets these fields whole. Any field left out here is empty, so code
/// other than `dfh status` must read the whole state.
pub fn outline(state: &mut State) -> State {
    cut(state, |_, experiment| outline_of(experiment))
}

/// A copy of `state` with each experiment replaced by `cut_one` of it; the experiments are
/// lent out of `state` meanwhile, so that they are not copied whole first.
fn cut(state: &mut State, cut_one: impl Fn(&State, &Experiment) -> Experiment) -> State {
    let experiments = std::mem::take(&mut state.experiments);
    let mut copy = state.clone();
    state.experiments = experiments;
    copy.experiments = state
        .experiments
        .iter()
        .map(|(number, experiment)| (*number, cut_one(state, experiment)))
        .collect();
    copy
}

/// The state as `dfh run` reads it: of every settled experiment, what a run reads — number,
/// title, phase, value, attempts, lane, crash class, its change's hash and knobs (has it been
/// tried?), its learning, and the commit and runs of a kept one (where a lane started from,
/// and how many runs its value is the mean of) — and every field of the experiments a run can
/// take up or compare against: the best, and any that is not settled for good (planned,
/// running, crashed or timed out). A run that finds a record left half written reads the
/// whole state (see `Project::load_for_run`). Folding journal events onto a run view gives the
/// run view of their fold, as for the outline; code other than `dfh run`'s own reads the
/// whole state.
pub fn run_view(state: &mut State) -> State {
    cut(state, |state, experiment| {
        let settled = matches!(
            experiment.phase,
            Phase::Done(Outcome::Keep | Outcome::Discard) | Phase::Abandoned | Phase::Other
        );
        let best = state.best.as_ref().map(|best| best.experiment);
        if !settled || Some(experiment.number) == best {
            return experiment.clone();
        }
        let mut view = outline_of(experiment);
        // What only `dfh status` shows of a settled experiment.
        if let Some(plan) = view.plan.as_mut() {
            plan.at.clear();
            plan.direction = None;
            plan.prediction = None;
        }
        view.status_text = None;
        view.logs.clear();
        view.change_hash.clone_from(&experiment.change_hash);
        view.knobs.clone_from(&experiment.knobs);
        view.learning.clone_from(&experiment.learning);
        if experiment.phase == Phase::Done(Outcome::Keep) {
            // A lane compares against the kept experiment it started from.
            view.commit.clone_from(&experiment.commit);
        } else {
            view.run_values.clear();
        }
        view
    })
}

fn outline_of(experiment: &Experiment) -> Experiment {
    let mut outline = experiment.clone();
    if let Some(plan) = outline.plan.as_mut() {
        plan.title.clear();
        plan.hypothesis.clear();
        plan.expected.clear();
        plan.inspired_by.clear();
        plan.risk = None;
        plan.again = None;
    }
    outline.commit = None;
    outline.parent = None;
    outline.reason = None;
    outline.fix = None;
    if let Some(learning) = outline.learning.as_mut() {
        learning.clear();
    }
    outline.regions.clear();
    outline.knobs.clear();
    outline.flags.clear();
    outline.metrics = None;
    outline.change_hash = None;
    outline.last_rejection = None;
    let last_log = outline.logs.pop();
    outline.logs.clear();
    outline.logs.extend(last_log);
    outline.finished_at = None;
    outline
}

fn encode(body: &BodyRef<'_>) -> bincode::Result<Vec<u8>> {
    let _encoding = Encoding::start();
    options().serialize(body)
}

/// While alive, serialization on this thread writes the fields JSON leaves out when empty.
pub struct Encoding(());

impl Encoding {
    pub fn start() -> Self {
        ENCODING.with(|encoding| encoding.set(true));
        Self(())
    }
}

impl Drop for Encoding {
    fn drop(&mut self) {
        ENCODING.with(|encoding| encoding.set(false));
    }
}

/// Hashes of the journal's first bytes and of the bytes right before `offset`; None when the
/// journal is shorter than `offset` or does not end a line there.
fn journal_hashes(journal: &mut File, offset: u64) -> std::io::Result<Option<(u64, u64)>> {
    if offset == 0 || journal.metadata()?.len() < offset {
        return Ok(None);
    }
    let window = WINDOW.min(offset);
    let mut head = vec![0; window as usize];
    journal.seek(SeekFrom::Start(0))?;
    journal.read_exact(&mut head)?;
    let mut tail = vec![0; window as usize];
    journal.seek(SeekFrom::Start(offset - window))?;
    journal.read_exact(&mut tail)?;
    if tail.last() != Some(&b'\n') {
        return Ok(None);
    }
    Ok(Some((
        hash(SEED, &head),
        hash(hash(SEED, &offset.to_le_bytes()), &tail),
    )))
}

const SEED: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

/// `hash_bytes` at run time: the same value, ten times faster (no bounds check per byte), for
/// the megabytes of a snapshot; `hash_bytes` stays for the compile-time `SCHEMA`.
pub(super) fn hash(seed: u64, bytes: &[u8]) -> u64 {
    let mut lanes = [seed, seed ^ 1, seed ^ 2, seed ^ 3];
    let mut blocks = bytes.chunks_exact(32);
    for block in &mut blocks {
        for (lane, word) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let word = u64::from_le_bytes(<[u8; 8]>::try_from(word).unwrap_or_default());
            *lane = (*lane ^ word).wrapping_mul(PRIME).rotate_left(29);
        }
    }
    let mut hash = lanes[0] ^ lanes[1].rotate_left(16) ^ lanes[2].rotate_left(32);
    hash ^= lanes[3].rotate_left(48);
    for byte in blocks.remainder() {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(PRIME);
    }
    finish(hash, bytes.len())
}

/// A fast 64-bit hash (four FNV-style lanes over 8-byte words, then a final mix): detects
/// accidental change, not tampering.
pub(super) const fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    let mut lanes = [seed, seed ^ 1, seed ^ 2, seed ^ 3];
    let mut index = 0;
    while index + 32 <= bytes.len() {
        let mut lane = 0;
        while lane < 4 {
            let word = word_at(bytes, index + lane * 8);
            lanes[lane] = (lanes[lane] ^ word).wrapping_mul(PRIME).rotate_left(29);
            lane += 1;
        }
        index += 32;
    }
    let mut hash = lanes[0] ^ lanes[1].rotate_left(16) ^ lanes[2].rotate_left(32);
    hash ^= lanes[3].rotate_left(48);
    while index < bytes.len() {
        hash = (hash ^ bytes[index] as u64).wrapping_mul(PRIME);
        index += 1;
    }
    finish(hash, bytes.len())
}

const fn finish(mut hash: u64, length: usize) -> u64 {
    hash ^= length as u64;
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^ (hash >> 33)
}

const fn word_at(bytes: &[u8], index: usize) -> u64 {
    u64::from_le_bytes([
        bytes[index],
        bytes[index + 1],
        bytes[index + 2],
        bytes[index + 3],
        bytes[index + 4],
        bytes[index + 5],
        bytes[index + 6],
        bytes[index + 7],
    ])
}
