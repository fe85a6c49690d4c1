//! Step 1 of `dfh run`: the refusals that cost no training time.

use std::collections::BTreeMap;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::journal::State;
use crate::project::Project;
use crate::refusal::Refusal;
use crate::vcs::{ChangeKind, GitError};

/// Files that hold notes and harness configuration: never part of an experiment, never
/// reverted. Anything else outside the editable set would change the result unrecorded.
pub fn is_note(path: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "docs/", "checks/", ".dfh/", "metrics/", "report/", ".claude/", ".codex/", ".gemini/",
    ];
    const FILES: &[&str] = &[
        "dfh.toml",
        "results.tsv",
        "dfh_diag.py",
        ".gitignore",
        ".aider.conf.yml",
    ];
    let lower = path.to_ascii_lowercase();
    PREFIXES.iter().any(|prefix| path.starts_with(prefix))
        || FILES.contains(&path)
        || [".md", ".txt", ".rst"]
            .iter()
            .any(|suffix| lower.ends_with(suffix))
}

/// Untracked files with these extensions are code or configuration that a run could import.
fn is_code(path: &str) -> bool {
    const EXTENSIONS: &[&str] = &[
        "py", "pyx", "pxd", "c", "cc", "cpp", "cu", "cuh", "h", "hpp", "sh", "yaml", "yml", "toml",
        "cfg", "ini",
    ];
    Path::new(path)
        .extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| EXTENSIONS.contains(&extension))
}

/// Refuses a working tree with changes outside the editable files and the notes; `prefetched`
/// is `git status` as asked earlier, if it was.
pub fn check_changes(
    project: &Project,
    prefetched: Option<Vec<crate::vcs::Change>>,
) -> Result<Result<(), Refusal>, GitError> {
    let editable = &project.config.run.editable;
    let changes = match prefetched {
        Some(changes) => changes,
        None => project.git.status()?,
    };
    let mut outside: Vec<String> = Vec::new();
    for change in changes {
        let readonly = project.config.run.readonly.contains(&change.path);
        if editable.contains(&change.path) || readonly || is_note(&change.path) {
            continue;
        }
        if change.kind == ChangeKind::Untracked && !is_code(&change.path) {
            continue;
        }
        let what = match change.kind {
            ChangeKind::Untracked => "new",
            ChangeKind::Deleted => "deleted",
            ChangeKind::Conflicted => "conflicted",
            _ => "modified",
        };
        outside.push(format!("{} ({what})", change.path));
    }
    if outside.is_empty() {
        return Ok(Ok(()));
    }
    Ok(Err(Refusal::new(format!(
        "{} changed outside the editable files ({}): it would influence the result without being recorded. Restore it with `git checkout -- FILE` (delete a new file), commit it yourself if it is not part of the experiment, or add it to [run] editable in dfh.toml",
        outside.join(", "),
        editable.join(", ")
    ))))
}

/// SHA-256 of each read-only file; a missing file hashes as "missing".
pub fn hash_files(root: &Path, files: &[String]) -> BTreeMap<String, String> {
    files
        .iter()
        .map(|file| {
            let hash = match std::fs::read(root.join(file)) {
                Ok(bytes) => {
                    let digest = Sha256::digest(&bytes);
                    digest.iter().map(|byte| format!("{byte:02x}")).collect()
                }
                Err(_) => "missing".to_string(),
            };
            (file.clone(), hash)
        })
        .collect()
}

/// Refuses when a read-only file differs from the hash recorded at init or last acceptance.
pub fn check_readonly(project: &Project, state: &State) -> Result<(), Refusal> {
    let current = hash_files(&project.work, &project.config.run.readonly);
    for (file, hash) in &current {
        match state.readonly_hashes.get(file) {
            Some(recorded) if recorded == hash => {}
            Some(_) if hash == "missing" => {
                return Err(Refusal::new(format!(
                    "{file} is read-only but was deleted; restore it with `git checkout -- {file}`"
                )))
            }
            Some(_) => {
                return Err(Refusal::new(format!(
                    "{file} changed since {}: it is read-only, so results would no longer compare. Restore it with `git checkout -- {file}`; if a human changed it on purpose, run `dfh init` again to accept the new version",
                    state.readonly_since
                )))
            }
            None => {
                return Err(Refusal::new(format!(
                    "{file} is listed in [run] readonly but has no recorded hash; run `dfh init` again to record it"
                )))
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_and_code() {
        assert!(is_note("docs/papers/x.md"));
        assert!(is_note("NOTES.md"));
        assert!(is_note("dfh.toml"));
        assert!(!is_note("model.py"));
        assert!(is_code("util.py"));
        assert!(!is_code("out/ckpt.pt"));
    }
}
