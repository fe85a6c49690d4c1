//! Names of every environment variable dfh reads or sets, in one place.

/// Experiment number, exported to the training command and agent steps.
pub const EXPERIMENT: &str = "DFH_EXPERIMENT";
/// Path of the JSONL file a training script appends diagnostics events to.
pub const EVENTS: &str = "DFH_EVENTS";
/// The time budget in whole seconds that the training script should honour.
pub const BUDGET_SECONDS: &str = "DFH_BUDGET_SECONDS";
/// The seed of this run; repeats of one experiment get different seeds.
pub const SEED: &str = "DFH_SEED";
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
