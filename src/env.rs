//! Names of every environment variable dfh reads or sets, in one place, and the one test hook
//! that needs more than a lookup (`write_all`, behind `FAIL_WRITE`).

use std::io::Write;
use std::path::Path;

/// Experiment number, exported to the training command and agent steps.
pub const EXPERIMENT: &str = "DFH_EXPERIMENT";
/// Path of the JSONL file a training script appends diagnostics events to.
pub const EVENTS: &str = "DFH_EVENTS";
/// The time budget in whole seconds that the training script should honour.
pub const BUDGET_SECONDS: &str = "DFH_BUDGET_SECONDS";
/// The seed of this run; repeats of one experiment get different seeds.
pub const SEED: &str = "DFH_SEED";
/// The lane a dfh command works in (set for agents and runs in lane k).
pub const LANE: &str = "DFH_LANE";
/// Set to `1` for a smoke run: `dfh_diag.Run` stops after its first logged step.
pub const SMOKE: &str = "DFH_SMOKE";
/// The kind of agent step in driver mode (`plan`, `retry`, `learn`, `distill`).
pub const STEP: &str = "DFH_STEP";
/// Path of the prompt file of the current agent step.
pub const PROMPT_FILE: &str = "DFH_PROMPT_FILE";
/// Test hook: pause the pipeline at a named stage (`DFH_PAUSE_AT=execute`).
pub const PAUSE_AT: &str = "DFH_PAUSE_AT";
/// When `1`, tests that need a system part (chromium, Slurm, torch) fail instead of skipping.
pub const REQUIRE_SYSTEM_TESTS: &str = "DFH_REQUIRE_SYSTEM_TESTS";
/// Clock override for reproducible output (RFC 3339), used by tests.
pub const NOW: &str = "DFH_NOW";
/// Comma-separated names of environment variables whose values dfh masks in its outputs.
pub const REDACT: &str = "DFH_REDACT";
/// Test hook: a write by dfh to a file whose path contains this text fails as if the disk
/// were full (`DFH_FAIL_WRITE=results.tsv`).
pub const FAIL_WRITE: &str = "DFH_FAIL_WRITE";

/// Variables of the git family that would redirect our git calls elsewhere.
pub const GIT_REDIRECTS: &[&str] = &[
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NAMESPACE",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
];

/// Writes `bytes` to `file` (opened at `path`). With `DFH_FAIL_WRITE` set to a part of `path`,
/// half the bytes are written and the call fails with ENOSPC, as on a disk that fills mid-write.
pub fn write_all(file: &mut impl Write, path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let injected = std::env::var(FAIL_WRITE)
        .is_ok_and(|part| !part.is_empty() && path.to_string_lossy().contains(part.as_str()));
    if injected {
        file.write_all(&bytes[..bytes.len() / 2])?;
        file.flush()?;
        return Err(std::io::Error::from_raw_os_error(libc::ENOSPC));
    }
    file.write_all(bytes)
}
