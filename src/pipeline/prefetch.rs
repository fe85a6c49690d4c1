//! Git's answers for `dfh run`, asked on other threads while the state loads (about 12 ms
//! at 10,000 experiments): the working tree's status, the editable files' diff against HEAD
//! and their content there, and the experiment's tree (built in the scratch index), three git
//! processes at once; then the experiment's commit of that tree, for the experiment planned
//! last in the journal. None of them needs the state, and each git process costs 2–5 ms, so
//! the run no longer waits for them one after the other.
//!
//! Every answer is read-only or private to dfh: `git status` takes no lock
//! (`GIT_OPTIONAL_LOCKS=0`), and the tree is built in `.dfh/index.tmp`, never the user's
//! index. An answer is used only when HEAD is still the commit it was asked against and no
//! unfinished run was settled in between; otherwise, or when git failed, the pipeline asks
//! git itself, as before, so errors and refusals read the same.

use std::path::Path;
use std::thread::JoinHandle;

use crate::project::Project;
use crate::vcs::{Change, Git};

/// The answers in flight.
pub struct Prefetch {
    thread: Option<JoinHandle<Answers>>,
}

/// What git answered, for HEAD at `parent` (none: nothing to take).
#[derive(Default)]
pub struct Answers {
    parent: String,
    status: Option<Vec<Change>>,
    diff: Option<super::change::Diff>,
    tree: Option<String>,
    /// The experiment's commit of `tree`, made ahead for the latest planned experiment, and
    /// its message (see `commit_ahead`).
    commit: Option<(String, String)>,
}

impl Prefetch {
    /// Starts asking, when HEAD names a commit; does nothing otherwise (preflight refuses).
    pub fn start(project: &Project) -> Self {
        let git = project.git.clone();
        let editable = project.config.run.editable.clone();
        let scratch_index = project.scratch_index();
        let journal = project.journal.clone();
        let lane = project.lane;
        let thread = std::thread::Builder::new()
            .name("prefetch".into())
            .spawn(move || {
                let mut answers = ask(&git, &editable, &scratch_index);
                answers.commit = commit_ahead(&git, &journal, lane, &answers);
                answers
            })
            .ok();
        Self { thread }
    }

    /// The answers; none when `settled` says an earlier run was settled (the branch and the
    /// index may have moved since they were asked).
    pub fn finish(mut self, settled: bool) -> Answers {
        let answers = self.thread.take().and_then(|thread| thread.join().ok());
        answers.filter(|_| !settled).unwrap_or_default()
    }
}

impl Answers {
    /// The working tree's changes, when asked against `parent`.
    pub fn take_status(&mut self, parent: &str) -> Option<Vec<Change>> {
        self.status.take().filter(|_| self.parent == parent)
    }

    /// `git diff -U0 parent -- editable` and the editable Python files it touches.
    pub fn take_diff(&mut self, parent: &str) -> Option<super::change::Diff> {
        self.diff.take().filter(|_| self.parent == parent)
    }

    /// The tree of `parent` with the editable files' working-tree content.
    pub fn take_tree(&mut self, parent: &str) -> Option<String> {
        self.tree.take().filter(|_| self.parent == parent)
    }

    /// The commit of the tree on `parent` with `message`, when it was made ahead.
    pub fn take_commit(&mut self, parent: &str, message: &str) -> Option<String> {
        let (made_for, commit) = self.commit.take()?;
        (self.parent == parent && made_for == message).then_some(commit)
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        // A run refused before its answers were read still waits for its git processes, so
        // that none of them outlives dfh while it holds the scratch index.
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn ask(git: &Git, editable: &[String], scratch_index: &Path) -> Answers {
    let parent = match git.head_info() {
        Ok(Some((_, parent, Some(_)))) => parent,
        _ => return Answers::default(),
    };
    // Three git processes at once: the status, the diff, and the tree (read by none of the
    // others; the tree is built in dfh's own index).
    let (status, diff, tree) = std::thread::scope(|scope| {
        let status = scope.spawn(|| git.status().ok());
        let diff = scope.spawn(|| super::change::diff_against(git, &parent, editable).ok());
        let tree = git.tree_with(&parent, editable, scratch_index).ok();
        (
            status.join().ok().flatten(),
            diff.join().ok().flatten(),
            tree,
        )
    });
    Answers {
        parent,
        status,
        diff,
        tree,
        commit: None,
    }
}

/// The experiment's commit, made before the state is loaded for the experiment planned last
/// in the journal (its number and title make the message). The pipeline uses it only when the
/// experiment it takes up has that message and the parent and tree are the ones asked; a
/// guess that misses leaves an unreferenced commit object, which git collects in time.
fn commit_ahead(
    git: &Git,
    journal: &crate::journal::Journal,
    lane: Option<u32>,
    answers: &Answers,
) -> Option<(String, String)> {
    let tree = answers.tree.as_ref()?;
    let planned = journal.last_planned(lane)?;
    let message = super::commit_message(planned.experiment, &planned.title);
    let commit = git.commit_tree(&answers.parent, tree, &message).ok()?;
    Some((message, commit))
}
