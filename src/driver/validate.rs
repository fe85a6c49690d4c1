//! What an agent step changed, and undoing what it must not change. Before the step the
//! working tree's changed files and every protected file are remembered byte for byte; after
//! it, each path whose content moved is either allowed (the editable files, notes under docs/)
//! or put back exactly as it was.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Result;

use crate::project::Project;
use crate::vcs::ChangeKind;

/// The content of the interesting paths before a step; None for a file that did not exist.
pub struct Snapshot {
    files: BTreeMap<String, Option<Vec<u8>>>,
}

/// The verdict on a finished step.
#[derive(Debug, Default)]
pub struct StepChanges {
    /// Editable files whose content changed.
    pub editable: Vec<String>,
    /// Notes under docs/ that changed (allowed).
    pub notes: Vec<String>,
    /// Paths the step had no right to change; they have been restored.
    pub restored: Vec<String>,
}

/// Harness-owned files an agent step may never change.
fn protected(project: &Project) -> Vec<String> {
    let mut files: Vec<String> = project.config.run.readonly.clone();
    files.extend(
        [
            "dfh.toml",
            "program.md",
            "dfh_diag.py",
            "results.tsv",
            "checks/rules.toml",
            "checks/failures.toml",
            "checks/pre_train_check.py",
        ]
        .map(String::from),
    );
    files
}

fn read(root: &Path, path: &str) -> Option<Vec<u8>> {
    std::fs::read(root.join(path)).ok()
}

pub fn snapshot(project: &Project) -> Result<Snapshot> {
    let mut files = BTreeMap::new();
    for path in protected(project) {
        let content = read(&project.work, &path);
        files.insert(path, content);
    }
    for change in project.git.status()? {
        let content = read(&project.work, &change.path);
        files.insert(change.path, content);
    }
    Ok(Snapshot { files })
}

/// Compares the tree with `before`, restores every path the step may not change, and says
/// what changed.
pub fn settle_step(project: &Project, before: &Snapshot) -> Result<StepChanges> {
    let mut candidates: BTreeMap<String, ()> =
        before.files.keys().map(|path| (path.clone(), ())).collect();
    for change in project.git.status()? {
        if change.kind != ChangeKind::Conflicted {
            candidates.insert(change.path, ());
        }
    }
    let editable = &project.config.run.editable;
    let mut changes = StepChanges::default();
    for path in candidates.into_keys() {
        let now = read(&project.work, &path);
        let was = match before.files.get(&path) {
            Some(content) => content.clone(),
            // Clean before the step: its content then is HEAD's.
            None => head_content(project, &path)?,
        };
        if now == was {
            continue;
        }
        if editable.contains(&path) {
            changes.editable.push(path);
        } else if path.starts_with("docs/") && !protected(project).contains(&path) {
            changes.notes.push(path);
        } else {
            restore(&project.work, &path, was.as_deref())?;
            changes.restored.push(path);
        }
    }
    Ok(changes)
}

fn head_content(project: &Project, path: &str) -> Result<Option<Vec<u8>>> {
    if !project.git.path_exists_at("HEAD", path)? {
        return Ok(None);
    }
    Ok(Some(project.git.show_bytes("HEAD", path)?))
}

fn restore(root: &Path, path: &str, content: Option<&[u8]>) -> Result<()> {
    let full = root.join(path);
    match content {
        Some(bytes) => {
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&full, bytes)?;
        }
        None => {
            let _ = std::fs::remove_file(&full);
        }
    }
    Ok(())
}
