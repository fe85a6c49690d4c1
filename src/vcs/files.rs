//! Questions answered from the repository's files instead of a `git` process (2–5 ms each),
//! only where git's on-disk layout makes the answer certain: a plain `.git` directory, a HEAD
//! that names a branch or a commit, and a loose or packed branch ref holding an object id.
//! Anything else (a `.git` file of a linked worktree, reftable, a symbolic branch, discovery
//! limits set in the environment) returns None and the caller asks git.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The top level of the repository that contains `dir`, found as git finds it: the nearest
/// directory, from `dir` upwards, that holds a `.git` directory with a HEAD, or a `.git` file
/// (a worktree or submodule) that names its git directory. None when git must decide.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    // Git honours these while it walks up; leave such setups to git itself.
    const LIMITS: [&str; 2] = ["GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM"];
    if LIMITS.iter().any(|name| std::env::var_os(name).is_some()) {
        return None;
    }
    // git prints the top level with symbolic links resolved.
    let dir = std::fs::canonicalize(dir).ok()?;
    let device = std::fs::metadata(&dir).ok()?.dev();
    for candidate in dir.ancestors() {
        if candidate.file_name().is_some_and(|name| name == ".git") {
            // Inside a git directory: git answers that there is no work tree here.
            return None;
        }
        if std::fs::metadata(candidate).ok()?.dev() != device {
            // git stops at a file-system boundary unless told otherwise.
            return None;
        }
        let dot_git = candidate.join(".git");
        let Ok(meta) = std::fs::symlink_metadata(&dot_git) else {
            continue;
        };
        let valid = if meta.is_dir() {
            dot_git.join("HEAD").is_file()
        } else {
            meta.is_file()
                && std::fs::read(&dot_git).is_ok_and(|bytes| bytes.starts_with(b"gitdir: "))
        };
        return valid.then(|| candidate.to_path_buf());
    }
    None
}

/// What HEAD points at, read from the files of a plain `.git` directory under `root`: the git
/// directory, the commit and the branch (None when detached). None when git must answer.
pub fn head(root: &Path) -> Option<(PathBuf, String, Option<String>)> {
    let git_dir = root.join(".git");
    if !std::fs::symlink_metadata(&git_dir).is_ok_and(|meta| meta.is_dir()) {
        return None;
    }
    let head = std::fs::read_to_string(git_dir.join("HEAD")).ok()?;
    let head = head.strip_suffix('\n')?;
    if let Some(reference) = head.strip_prefix("ref: ") {
        let branch = reference.strip_prefix("refs/heads/")?;
        if branch.is_empty() || !safe_ref_name(reference) {
            return None;
        }
        let commit = read_ref(&git_dir, reference)?;
        return Some((git_dir, commit, Some(branch.to_string())));
    }
    object_id(head).then(|| (git_dir, head.to_string(), None))
}

/// The object id that `reference` holds: its loose file, else its line in packed-refs.
fn read_ref(git_dir: &Path, reference: &str) -> Option<String> {
    match std::fs::read_to_string(git_dir.join(reference)) {
        Ok(text) => {
            let id = text.strip_suffix('\n')?;
            return object_id(id).then(|| id.to_string());
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(_) => return None,
    }
    let packed = std::fs::read_to_string(git_dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|line| {
        let (id, name) = line.split_once(' ')?;
        (name == reference && object_id(id)).then(|| id.to_string())
    })
}

/// A full SHA-1 or SHA-256 object id in lower-case hex.
fn object_id(text: &str) -> bool {
    matches!(text.len(), 40 | 64)
        && text
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// A ref name that is a plain relative path inside the git directory.
fn safe_ref_name(reference: &str) -> bool {
    reference
        .split('/')
        .all(|part| !part.is_empty() && part != "." && part != ".." && !part.ends_with(".lock"))
        && !reference.contains(['\\', '\0'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_and_ref_names() {
        assert!(object_id(&"a1".repeat(20)));
        assert!(!object_id(&"A1".repeat(20)));
        assert!(!object_id("abc"));
        assert!(safe_ref_name("refs/heads/feature/x"));
        assert!(!safe_ref_name("refs/heads/../../config"));
        assert!(!safe_ref_name("refs/heads/x.lock"));
    }
}
