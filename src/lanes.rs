//! Lanes: K experiments at once on one machine, each in its own git worktree under
//! `.dfh/lanes/k` on its own branch `dfh/lane-k`, started from the current best. The journal,
//! results.tsv and docs/ stay single, in the project root; lane runs hold the project lock
//! only for the moments they read or write them.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

use crate::project::{paths, Project};
use crate::refusal::Refusal;

/// Where lane worktrees live, relative to the project root.
pub const DIR: &str = ".dfh/lanes";

/// The worktree of lane `lane`.
pub fn dir(root: &Path, lane: u32) -> PathBuf {
    root.join(DIR).join(lane.to_string())
}

/// The branch lane `lane` commits its experiments on.
pub fn branch(lane: u32) -> String {
    format!("dfh/lane-{lane}")
}

/// The lock a lane's run holds while it runs (the lane's own; others run meanwhile).
pub fn lock_path(root: &Path, lane: u32) -> PathBuf {
    root.join(DIR).join(format!("{lane}.lock"))
}

/// The scratch index a lane commits through.
pub fn scratch_index(root: &Path, lane: u32) -> PathBuf {
    root.join(DIR).join(format!("{lane}.index.tmp"))
}

/// The project root and lane of a directory inside a lane worktree (`<root>/.dfh/lanes/<k>`).
pub fn split(worktree: &Path) -> Option<(PathBuf, u32)> {
    let lane: u32 = worktree.file_name()?.to_str()?.parse().ok()?;
    let lanes = worktree.parent()?;
    let dfh = lanes.parent()?;
    if lanes.file_name()? != "lanes" || dfh.file_name()? != paths::DFH_DIR {
        return None;
    }
    Some((dfh.parent()?.to_path_buf(), lane))
}

/// Parses a lane number given on the command line or in `DFH_LANE`: 1 or more.
pub fn parse(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(lane) if lane >= 1 => Ok(lane),
        _ => Err(format!(
            "`{text}` is not a lane: lanes are numbered 1, 2, 3, ..."
        )),
    }
}

/// The GPUs of lane `lane` from `[executor] gpus` (`CUDA_VISIBLE_DEVICES`), when configured.
pub fn gpus(project: &Project, lane: u32) -> Result<Option<String>, Refusal> {
    let gpus = &project.config.executor.gpus;
    if gpus.is_empty() {
        return Ok(None);
    }
    match gpus.get(lane as usize - 1) {
        Some(ids) => Ok(Some(ids.clone())),
        None => Err(Refusal::new(format!(
            "lane {lane} has no GPUs: dfh.toml [executor] gpus lists {} ({}). Add an entry per lane, e.g. gpus = [{}]",
            gpus.len(),
            gpus.join(" | "),
            (0..lane)
                .map(|index| format!("\"{index}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// The refusal of a lane before the baseline ran: lanes start from the best.
pub fn before_baseline() -> Refusal {
    Refusal::new(
        "lanes start from the best, and there is none yet: run the baseline first in the project's own tree (`dfh plan ...` without --lane, then `dfh run`), or let `dfh loop --lanes K` run it",
    )
}

/// How `prepare` left a lane's worktree.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Prepared {
    pub lane: u32,
    pub path: String,
    /// The kept experiment the lane now stands on.
    pub on_experiment: Option<u32>,
    /// Why the lane stays on an older best, when it could not move.
    pub kept_back: Option<String>,
}

/// Creates lane `lane`'s worktree at the current best, or moves an existing one there. Edits in
/// the worktree are carried along (`git reset --keep`); when they conflict with the new best, the
/// lane stays where it is and its next experiment is compared with the best it was made on.
pub fn prepare(project: &Project, lane: u32, best: &crate::journal::Best) -> Result<Prepared> {
    // An imported best may have no commit: the project's HEAD holds it then.
    let best_commit = best.commit.as_deref().unwrap_or("HEAD");
    let best = best.experiment;
    let path = dir(&project.root, lane);
    let main = project.git_in(None);
    let branch = branch(lane);
    std::fs::create_dir_all(project.root.join(DIR))
        .with_context(|| format!("cannot create {DIR}"))?;
    // `git worktree add` and `prune` of two lanes at once break each other's admin files.
    let _worktrees = crate::lock::ProjectLock::acquire(
        &project.root.join(DIR).join("worktrees.lock"),
        &format!("dfh: preparing lane {lane}"),
    )?;
    if !path.join(".git").exists() {
        // A worktree removed by hand leaves its registration behind; prune it first.
        main.run(&["worktree", "prune"])?;
        main.run(&[
            "worktree",
            "add",
            "--force",
            "-B",
            &branch,
            &path.display().to_string(),
            best_commit,
        ])
        .with_context(|| {
            format!(
                "cannot create the worktree of lane {lane} at {}",
                path.display()
            )
        })?;
        return Ok(Prepared {
            lane,
            path: path.display().to_string(),
            on_experiment: Some(best),
            kept_back: None,
        });
    }
    let git = project.git_in(Some(lane));
    let head = git.head_commit()?;
    let mut kept_back = None;
    if head.as_deref() != Some(best_commit) {
        if let Err(error) = git.run(&["reset", "--keep", best_commit]) {
            kept_back = Some(format!(
                "its uncommitted edits conflict with the best, #{best} ({error}); it stays on {}, and its next experiment is compared with the best it was made on",
                head.as_deref().unwrap_or("?").chars().take(7).collect::<String>()
            ));
        }
    }
    Ok(Prepared {
        lane,
        path: path.display().to_string(),
        on_experiment: kept_back.is_none().then_some(best),
        kept_back,
    })
}

/// The environment a run in `project`'s lane gets: `DFH_LANE` and its GPUs.
pub fn run_env(project: &Project) -> Vec<(String, String)> {
    let Some(lane) = project.lane else {
        return Vec::new();
    };
    let mut env = vec![(crate::env::LANE.to_string(), lane.to_string())];
    if let Ok(Some(gpus)) = gpus(project, lane) {
        env.push(("CUDA_VISIBLE_DEVICES".to_string(), gpus));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lane_worktree_names_its_project_and_lane() {
        let (root, lane) = split(Path::new("/home/me/project/.dfh/lanes/3")).unwrap();
        assert_eq!((root, lane), (PathBuf::from("/home/me/project"), 3));
        assert!(split(Path::new("/home/me/project")).is_none());
        assert!(split(Path::new("/home/me/project/lanes/3")).is_none());
        assert!(split(Path::new("/home/me/project/.dfh/lanes/x")).is_none());
        assert_eq!(dir(Path::new("/p"), 2), PathBuf::from("/p/.dfh/lanes/2"));
        assert_eq!(branch(2), "dfh/lane-2");
    }

    #[test]
    fn lanes_count_from_one() {
        assert_eq!(parse("2"), Ok(2));
        assert!(parse("0").unwrap_err().contains("numbered 1, 2, 3"));
        assert!(parse("two").is_err());
    }
}
