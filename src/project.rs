//! A harnessed project: its root, configuration, journal and well-known paths.

use std::path::{Path, PathBuf};

use crate::config::{self, Config, ConfigError};
use crate::journal::{Journal, JournalError, Loaded, SkippedLine, State};
use crate::vcs::Git;

#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    #[error("{0} is not inside a git repository; dfh records every experiment as a commit. Run `git init && git add -A && git commit -m initial` first")]
    NotGit(String),
    #[error(
        "no dfh.toml in {0}: this repository is not harnessed yet. Run `dfh init` at its root"
    )]
    NotInitialized(String),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Journal(#[from] JournalError),
}

/// Well-known paths of a project, relative to its root.
pub mod paths {
    pub const DFH_DIR: &str = ".dfh";
    pub const JOURNAL: &str = ".dfh/journal.jsonl";
    pub const LOCK: &str = ".dfh/lock";
    pub const SNAPSHOT: &str = ".dfh/state.snapshot";
    pub const LOGS: &str = ".dfh/logs";
    pub const IMPORTED: &str = ".dfh/imported";
    pub const SCRATCH_INDEX: &str = ".dfh/index.tmp";
    pub const RESULTS: &str = "results.tsv";
    pub const METRICS: &str = "metrics";
    pub const PROGRAM: &str = "program.md";
    pub const DOCS: &str = "docs";
    pub const HYPOTHESES: &str = "docs/hypotheses.md";
    pub const STRATEGY: &str = "docs/strategy.md";
    pub const CONSTRAINTS: &str = "docs/constraints.md";
    pub const ARCHITECTURE: &str = "docs/architecture.md";
    pub const PAPERS: &str = "docs/papers";
    pub const CHECKS: &str = "checks";
    pub const RULES: &str = "checks/rules.toml";
    pub const FAILURES: &str = "checks/failures.toml";
    pub const PRE_TRAIN_CHECK: &str = "checks/pre_train_check.py";
    pub const DIAG_HELPER: &str = "dfh_diag.py";
}

#[derive(Debug)]
pub struct Project {
    /// The project root: dfh.toml, the journal, results.tsv, docs/ and `.dfh/`.
    pub root: PathBuf,
    /// The working tree the experiment is edited, committed and run in: the root, or a lane's
    /// worktree (`.dfh/lanes/k`).
    pub work: PathBuf,
    /// The lane this project works in, when it is one.
    pub lane: Option<u32>,
    pub config: Config,
    /// Git in `work`.
    pub git: Git,
    pub journal: Journal,
}

impl Project {
    /// Finds the project that contains `dir` and reads its configuration.
    /// Inside a lane's worktree (`.dfh/lanes/k`) the project is the root's, working in lane k;
    /// elsewhere `DFH_LANE` names the lane, if any.
    pub fn open(dir: &Path) -> Result<Self, ProjectError> {
        let found =
            Git::discover(dir).ok_or_else(|| ProjectError::NotGit(dir.display().to_string()))?;
        let (root, lane) = match crate::lanes::split(&found) {
            Some((root, lane)) => (root, Some(lane)),
            None => (
                found,
                std::env::var(crate::env::LANE)
                    .ok()
                    .and_then(|text| crate::lanes::parse(&text).ok()),
            ),
        };
        let config_path = root.join(config::FILE_NAME);
        if !config_path.exists() {
            return Err(ProjectError::NotInitialized(root.display().to_string()));
        }
        let config = Config::load(&config_path).map_err(|error| match error {
            ConfigError::Invalid { line, message, .. } => ConfigError::Invalid {
                path: config::FILE_NAME.into(),
                line,
                message,
            },
            other => other,
        })?;
        Ok(Self::with_config(root, config).in_lane(lane))
    }

    pub fn with_config(root: PathBuf, config: Config) -> Self {
        Self {
            git: Git::new(root.clone()),
            journal: Journal::new(root.join(paths::JOURNAL)),
            work: root.clone(),
            lane: None,
            root,
            config,
        }
    }

    /// The same project working in `lane` (none: the root's own tree).
    pub fn in_lane(mut self, lane: Option<u32>) -> Self {
        self.git = self.git_in(lane);
        self.work = self.git.root().to_path_buf();
        self.lane = lane;
        self
    }

    /// What a command for this project's lane adds: ` --lane k`, or nothing.
    pub fn lane_flag(&self) -> String {
        self.lane
            .map(|lane| format!(" --lane {lane}"))
            .unwrap_or_default()
    }

    /// Git in lane `lane`'s worktree, or in the project's own tree.
    pub fn git_in(&self, lane: Option<u32>) -> Git {
        Git::new(match lane {
            Some(lane) => crate::lanes::dir(&self.root, lane),
            None => self.root.clone(),
        })
    }

    /// A path under the project root (notes, the journal, logs).
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }

    /// A path in the working tree (the training script, the editable files).
    pub fn work_path(&self, relative: &str) -> PathBuf {
        self.work.join(relative)
    }

    /// The scratch index an experiment's commit is built in: the project's, or its lane's.
    pub fn scratch_index(&self) -> PathBuf {
        match self.lane {
            Some(lane) => crate::lanes::scratch_index(&self.root, lane),
            None => self.path(paths::SCRATCH_INDEX),
        }
    }

    /// The lock a run holds for its whole length: the project's, or its lane's.
    pub fn run_lock_path(&self) -> PathBuf {
        match self.lane {
            Some(lane) => crate::lanes::lock_path(&self.root, lane),
            None => self.path(paths::LOCK),
        }
    }

    /// The project's state, and the journal lines that could not be read. Folds only the
    /// journal's tail when `.dfh/state.snapshot` covers the rest (see `journal::Journal::fold`).
    pub fn load(&self) -> Result<(State, Vec<SkippedLine>), ProjectError> {
        let folded = self.journal.fold(&self.path(paths::SNAPSHOT))?;
        Ok((folded.state, folded.skipped))
    }

    /// The state as `dfh run` reads it when it starts (see `journal::snapshot::run_view`):
    /// every experiment, with all of its fields only where a run needs them.
    pub fn load_for_run(&self) -> Result<(State, Vec<SkippedLine>), ProjectError> {
        if crate::pipeline::record::pending(self).is_some() {
            // Completing a half-written record reads fields the run view leaves out.
            return self.load();
        }
        let folded = self.journal.fold_run(&self.path(paths::SNAPSHOT))?;
        Ok((folded.state, folded.skipped))
    }

    /// Reads every event of the journal (for commands that need more than the state) and
    /// folds them; slower than `load` on a long journal.
    pub fn load_events(&self) -> Result<(State, Loaded), ProjectError> {
        let loaded = self.journal.load()?;
        let state = State::fold(&loaded.events);
        Ok((state, loaded))
    }

    /// The log path of run `run` of experiment `number`: N.log, N.2.log, ...
    pub fn log_path(&self, number: u32, run_index: u32) -> String {
        if run_index <= 1 {
            format!("{}/{number}.log", paths::LOGS)
        } else {
            format!("{}/{number}.{run_index}.log", paths::LOGS)
        }
    }
}

/// The current time as RFC 3339 (seconds), or `DFH_NOW` when set (tests).
pub fn now() -> String {
    if let Ok(fixed) = std::env::var(crate::env::NOW) {
        if !fixed.is_empty() {
            return fixed;
        }
    }
    humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()
}
