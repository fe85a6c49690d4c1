//! Git, through one typed wrapper that shells out to `git`.
//!
//! Every call strips the `GIT_DIR` family from the environment, runs with `LC_ALL=C` and no
//! terminal prompt, and records the command, its status and its stderr in errors. When the
//! user has no identity configured, commits are made as `dfh <dfh@localhost>` for that
//! command alone; the user's configuration is never written.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::env;

mod files;

#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`git {command}` failed ({status}): {stderr}")]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("cannot run git: {0}. Install git and make sure it is on PATH")]
    Spawn(std::io::Error),
}

/// A change in the working tree, from `git status --porcelain=v2`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Modified,
    Added,
    Deleted,
    Renamed,
    Untracked,
    Conflicted,
}

#[derive(Debug, Clone)]
pub struct Git {
    root: PathBuf,
}

impl Git {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The top level of the repository that contains `dir`, or None outside any repository.
    /// Read from the file system where that is certain (`files::discover`), else from git.
    pub fn discover(dir: &Path) -> Option<PathBuf> {
        if let Some(root) = files::discover(dir) {
            return Some(root);
        }
        let output = base_command(dir)
            .args(["rev-parse", "--show-toplevel"])
            .output()
            .ok()?;
        if !output.status.success() {
            return None;
        }
        let text = String::from_utf8_lossy(&output.stdout).trim().to_string();
        (!text.is_empty()).then(|| PathBuf::from(text))
    }

    fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut command = base_command(&self.root);
        command.args(args);
        command
    }

    fn execute(&self, mut command: Command, label: String) -> Result<Output, GitError> {
        let output = command
            .stdin(Stdio::null())
            .output()
            .map_err(GitError::Spawn)?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(GitError::Failed {
                command: label,
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    }

    /// Runs git with `args` and returns its stdout.
    pub fn run(&self, args: &[&str]) -> Result<String, GitError> {
        let output = self.execute(self.command(args), args.join(" "))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    fn run_with_env(&self, args: &[&str], vars: &[(&str, &str)]) -> Result<String, GitError> {
        let mut command = self.command(args);
        for (key, value) in vars {
            command.env(key, value);
        }
        let output = self.execute(command, args.join(" "))?;
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    pub fn head_commit(&self) -> Result<Option<String>, GitError> {
        match self.run(&["rev-parse", "--verify", "--quiet", "HEAD^{commit}"]) {
            Ok(text) => Ok(Some(text.trim().to_string())),
            Err(GitError::Failed { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The current branch, or None on a detached HEAD.
    pub fn current_branch(&self) -> Result<Option<String>, GitError> {
        match self.run(&["symbolic-ref", "--quiet", "--short", "HEAD"]) {
            Ok(text) => Ok(Some(text.trim().to_string())),
            Err(GitError::Failed { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The git directory, the HEAD commit and the branch (None when detached), in one call;
    /// None when HEAD has no commit yet (the caller then asks one question at a time).
    pub fn head_info(&self) -> Result<Option<(PathBuf, String, Option<String>)>, GitError> {
        if let Some(head) = files::head(&self.root) {
            return Ok(Some(head));
        }
        let text = match self.run(&[
            "rev-parse",
            "--absolute-git-dir",
            "HEAD",
            "--symbolic-full-name",
            "HEAD",
        ]) {
            Ok(text) => text,
            Err(GitError::Failed { .. }) => return Ok(None),
            Err(error) => return Err(error),
        };
        let mut lines = text.lines();
        let (Some(dir), Some(commit), Some(name)) = (lines.next(), lines.next(), lines.next())
        else {
            return Ok(None);
        };
        let branch = name.strip_prefix("refs/heads/").map(String::from);
        Ok(Some((PathBuf::from(dir), commit.to_string(), branch)))
    }

    /// The path of the repository's git directory.
    pub fn git_dir(&self) -> Result<PathBuf, GitError> {
        let text = self.run(&["rev-parse", "--absolute-git-dir"])?;
        Ok(PathBuf::from(text.trim()))
    }

    /// A rebase, merge, cherry-pick or bisect in progress, by name.
    pub fn operation_in_progress(&self, git_dir: &Path) -> Option<&'static str> {
        [
            ("rebase-merge", "a rebase"),
            ("rebase-apply", "a rebase"),
            ("MERGE_HEAD", "a merge"),
            ("CHERRY_PICK_HEAD", "a cherry-pick"),
            ("REVERT_HEAD", "a revert"),
            ("BISECT_LOG", "a bisect"),
        ]
        .into_iter()
        .find(|(file, _)| git_dir.join(file).exists())
        .map(|(_, name)| name)
    }

    /// Changed and untracked files (ignored files are not listed).
    pub fn status(&self) -> Result<Vec<Change>, GitError> {
        let text = self.run(&["status", "--porcelain=v2", "-z", "--untracked-files=all"])?;
        Ok(parse_status(&text))
    }

    /// Commits the working-tree content of `paths` on top of `parent` without touching the
    /// user's index for any other path; returns the new commit. The branch is not moved.
    pub fn commit_paths(
        &self,
        parent: &str,
        paths: &[String],
        message: &str,
        scratch_index: &Path,
    ) -> Result<String, GitError> {
        let tree = self.tree_with(parent, paths, scratch_index)?;
        self.commit_tree(parent, &tree, message)
    }

    /// The tree of `parent` with the working-tree content of `paths`, built in a scratch index
    /// (the user's index is never read or written). The scratch index is kept between runs:
    /// `<index>.base` names `paths` and the commits whose tree it holds apart from `paths`, so
    /// a run on one of them (the last experiment, or the kept commit it started from) skips
    /// reading the whole tree again.
    pub fn tree_with(
        &self,
        parent: &str,
        paths: &[String],
        scratch_index: &Path,
    ) -> Result<String, GitError> {
        let index = scratch_index.to_string_lossy().into_owned();
        let with_index = [("GIT_INDEX_FILE", index.as_str())];
        let base = ScratchBase::path(scratch_index);
        let reusable = scratch_index.exists() && ScratchBase::read(&base, paths).holds(parent);
        if !reusable {
            // Gone first: a harness killed while the index is rebuilt leaves no stale base.
            let _ = std::fs::remove_file(&base);
            self.run_with_env(&["read-tree", parent], &with_index)?;
            ScratchBase::start(paths, parent).write(&base);
        }
        let mut add = vec!["add", "--all", "--"];
        add.extend(paths.iter().map(String::as_str));
        self.run_with_env(&add, &with_index)?;
        let tree = self.run_with_env(&["write-tree"], &with_index)?;
        Ok(tree.trim().to_string())
    }

    /// Notes that the scratch index holds exactly the tree of `commit` (just committed from
    /// it), so the next experiment on top of `commit` reuses it.
    pub fn scratch_holds(&self, scratch_index: &Path, paths: &[String], commit: &str) {
        let base = ScratchBase::path(scratch_index);
        let mut known = ScratchBase::read(&base, paths);
        if !known.commits.is_empty() {
            known.commits.push(commit.to_string());
            known.write(&base);
        }
    }

    /// A commit of `tree` on top of `parent`; the branch is not moved. The user's identity is
    /// used when git has one configured; otherwise the commit is dfh's. The first try forbids
    /// git to guess an identity (`user.useConfigOnly`), so that one git process answers the
    /// common case; only a failed try asks git which parts are configured.
    pub fn commit_tree(&self, parent: &str, tree: &str, message: &str) -> Result<String, GitError> {
        let arguments = ["commit-tree", tree, "-p", parent, "-m", message];
        let mut first = vec!["-c", "user.useConfigOnly=true"];
        first.extend(arguments);
        if let Ok(commit) = self.run(&first) {
            return Ok(commit.trim().to_string());
        }
        let identity = self.identity_env()?;
        let vars: Vec<(&str, &str)> = identity
            .iter()
            .map(|(key, value)| (*key, value.as_str()))
            .collect();
        let commit = self.run_with_env(&arguments, &vars)?;
        Ok(commit.trim().to_string())
    }

    /// Author and committer variables when the user has no identity configured.
    fn identity_env(&self) -> Result<Vec<(&'static str, String)>, GitError> {
        let from_env = std::env::var_os("GIT_AUTHOR_NAME").is_some()
            && std::env::var_os("GIT_AUTHOR_EMAIL").is_some();
        // One git call answers both questions (exit 1 when neither is set).
        let configured_keys = if from_env {
            String::new()
        } else {
            self.run(&["config", "--get-regexp", r"^user\.(name|email)$"])
                .unwrap_or_default()
        };
        let configured = |key: &str| {
            configured_keys.lines().any(|line| {
                line.split_once(' ')
                    .is_some_and(|(name, value)| name == key && !value.trim().is_empty())
            })
        };
        let mut vars = Vec::new();
        if std::env::var_os("GIT_AUTHOR_NAME").is_none() && !configured("user.name") {
            vars.push(("GIT_AUTHOR_NAME", "dfh".to_string()));
            vars.push(("GIT_COMMITTER_NAME", "dfh".to_string()));
        }
        if std::env::var_os("GIT_AUTHOR_EMAIL").is_none() && !configured("user.email") {
            vars.push(("GIT_AUTHOR_EMAIL", "dfh@localhost".to_string()));
            vars.push(("GIT_COMMITTER_EMAIL", "dfh@localhost".to_string()));
        }
        Ok(vars)
    }

    /// Moves refs in one transaction: each `(ref, new, expected old or None)`.
    pub fn update_refs(&self, updates: &[(&str, &str, Option<&str>)]) -> Result<(), GitError> {
        let mut script = String::from("start\n");
        for (name, new, old) in updates {
            match old {
                Some(old) => script.push_str(&format!("update {name} {new} {old}\n")),
                None => script.push_str(&format!("update {name} {new}\n")),
            }
        }
        script.push_str("prepare\ncommit\n");
        let mut command = self.command(["update-ref", "--stdin"]);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().map_err(GitError::Spawn)?;
        if let Some(mut stdin) = child.stdin.take() {
            use std::io::Write;
            stdin
                .write_all(script.as_bytes())
                .map_err(GitError::Spawn)?;
        }
        let output = child.wait_with_output().map_err(GitError::Spawn)?;
        if output.status.success() {
            Ok(())
        } else {
            Err(GitError::Failed {
                command: "update-ref --stdin".into(),
                status: output.status.to_string(),
                stderr: String::from_utf8_lossy(&output.stderr).trim().to_string(),
            })
        }
    }

    /// Sets the index entries of `paths` to their content in HEAD (the worktree is untouched).
    pub fn reset_index_paths(&self, paths: &[String]) -> Result<(), GitError> {
        self.reset_index_paths_to("HEAD", paths)
    }

    /// Sets the index entries of `paths` to their content at `commit` (the worktree is
    /// untouched).
    pub fn reset_index_paths_to(&self, commit: &str, paths: &[String]) -> Result<(), GitError> {
        let mut args = vec!["reset", "-q", commit, "--"];
        args.extend(paths.iter().map(String::as_str));
        self.run(&args).map(|_| ())
    }

    /// Restores `paths` in the index and working tree to their content at `commit`; a path
    /// that does not exist there is removed.
    pub fn restore_paths(&self, commit: &str, paths: &[String]) -> Result<(), GitError> {
        for path in paths {
            // The common case in one call; only a failed checkout asks whether the path exists.
            if self.run(&["checkout", commit, "--", path]).is_ok() {
                continue;
            }
            if self.path_exists_at(commit, path)? {
                self.run(&["checkout", commit, "--", path])?;
            } else {
                let _ = self.run(&["rm", "-q", "--cached", "--ignore-unmatch", "--", path]);
                let _ = std::fs::remove_file(self.root.join(path));
            }
        }
        Ok(())
    }

    pub fn path_exists_at(&self, commit: &str, path: &str) -> Result<bool, GitError> {
        let spec = format!("{commit}:{path}");
        match self.run(&["cat-file", "-e", &spec]) {
            Ok(_) => Ok(true),
            Err(GitError::Failed { .. }) => Ok(false),
            Err(error) => Err(error),
        }
    }

    /// The bytes of `path` at `commit`.
    pub fn show_bytes(&self, commit: &str, path: &str) -> Result<Vec<u8>, GitError> {
        let spec = format!("{commit}:{path}");
        let output = self.execute(
            self.command(["cat-file", "blob", spec.as_str()]),
            format!("cat-file blob {spec}"),
        )?;
        Ok(output.stdout)
    }

    /// `git diff` of `paths` between two commits.
    pub fn diff(&self, from: &str, to: &str, paths: &[String]) -> Result<String, GitError> {
        let mut args = vec!["diff", "--no-color", "--no-ext-diff", from, to, "--"];
        args.extend(paths.iter().map(String::as_str));
        self.run(&args)
    }

    pub fn resolve(&self, name: &str) -> Result<Option<String>, GitError> {
        let spec = format!("{name}^{{commit}}");
        match self.run(&["rev-parse", "--verify", "--quiet", &spec]) {
            Ok(text) => Ok(Some(text.trim().to_string())),
            Err(GitError::Failed { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }
}

fn base_command(dir: &Path) -> Command {
    let mut command = Command::new("git");
    command.current_dir(dir);
    for name in env::GIT_REDIRECTS {
        command.env_remove(name);
    }
    command
        .env("LC_ALL", "C")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0");
    command
}

/// Parses `git status --porcelain=v2 -z`.
fn parse_status(text: &str) -> Vec<Change> {
    let mut changes = Vec::new();
    let mut records = text.split('\0');
    while let Some(record) = records.next() {
        let mut fields = record.splitn(2, ' ');
        let tag = fields.next().unwrap_or_default();
        let rest = fields.next().unwrap_or_default();
        match tag {
            "1" => {
                let parts: Vec<&str> = rest.splitn(8, ' ').collect();
                if let (Some(xy), Some(path)) = (parts.first(), parts.get(7)) {
                    changes.push(Change {
                        path: path.to_string(),
                        kind: kind_of(xy),
                    });
                }
            }
            "2" => {
                let parts: Vec<&str> = rest.splitn(9, ' ').collect();
                if let Some(path) = parts.get(8) {
                    changes.push(Change {
                        path: path.to_string(),
                        kind: ChangeKind::Renamed,
                    });
                }
                if let Some(original) = records.next() {
                    changes.push(Change {
                        path: original.to_string(),
                        kind: ChangeKind::Deleted,
                    });
                }
            }
            "u" => {
                if let Some(path) = rest.splitn(10, ' ').nth(9) {
                    changes.push(Change {
                        path: path.to_string(),
                        kind: ChangeKind::Conflicted,
                    });
                }
            }
            "?" => changes.push(Change {
                path: rest.to_string(),
                kind: ChangeKind::Untracked,
            }),
            _ => {}
        }
    }
    changes
}

fn kind_of(xy: &str) -> ChangeKind {
    if xy.contains('D') {
        ChangeKind::Deleted
    } else if xy.starts_with('A') {
        ChangeKind::Added
    } else {
        ChangeKind::Modified
    }
}

/// What `<scratch index>.base` says: the editable paths the index was built for, and the
/// commits whose tree it holds apart from them, oldest first.
struct ScratchBase {
    paths: String,
    commits: Vec<String>,
}

impl ScratchBase {
    /// Commits remembered; older ones are dropped.
    const KEEP: usize = 8;

    fn path(scratch_index: &Path) -> PathBuf {
        let mut name = scratch_index.as_os_str().to_owned();
        name.push(".base");
        PathBuf::from(name)
    }

    fn start(paths: &[String], commit: &str) -> Self {
        Self {
            paths: Self::key(paths),
            commits: vec![commit.to_string()],
        }
    }

    /// The base for `paths`; empty when the file is missing or was written for other paths.
    fn read(file: &Path, paths: &[String]) -> Self {
        let key = Self::key(paths);
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let mut lines = text.lines();
        let commits = if lines.next() == Some(key.as_str()) {
            lines.map(str::to_string).collect()
        } else {
            Vec::new()
        };
        Self {
            paths: key,
            commits,
        }
    }

    fn holds(&self, commit: &str) -> bool {
        self.commits.iter().any(|known| known == commit)
    }

    fn write(&self, file: &Path) {
        let skip = self.commits.len().saturating_sub(Self::KEEP);
        let mut text = format!("{}\n", self.paths);
        for commit in &self.commits[skip..] {
            text.push_str(commit);
            text.push('\n');
        }
        let _ = std::fs::write(file, text);
    }

    /// One line naming the paths (NUL cannot occur in a path).
    fn key(paths: &[String]) -> String {
        format!("paths {}", paths.join("\u{0}").escape_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_porcelain_v2() {
        let text = "1 .M N... 100644 100644 100644 abc abc train.py\0? notes.txt\0\
                    2 R. N... 100644 100644 100644 abc abc R100 new.py\0old.py\0";
        let changes = parse_status(text);
        assert_eq!(changes.len(), 4);
        assert_eq!(
            changes[0],
            Change {
                path: "train.py".into(),
                kind: ChangeKind::Modified
            }
        );
        assert_eq!(changes[1].kind, ChangeKind::Untracked);
        assert_eq!(
            changes[2],
            Change {
                path: "new.py".into(),
                kind: ChangeKind::Renamed
            }
        );
        assert_eq!(
            changes[3],
            Change {
                path: "old.py".into(),
                kind: ChangeKind::Deleted
            }
        );
    }
}
