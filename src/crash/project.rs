//! The advisor applied to a harnessed project: its own patterns (checks/failures.toml) before
//! the built-in ones, its files for the location, its knobs for the fix.

use super::{diagnose, Diagnosis, ExitInfo, PatternDb, PatternError, ProjectFiles};
use crate::project::{paths, Project};

/// The pattern database of `project`: checks/failures.toml first, then the built-in one.
pub fn pattern_db(project: &Project) -> Result<PatternDb, PatternError> {
    match std::fs::read_to_string(project.path(paths::FAILURES)) {
        Ok(text) => PatternDb::with_project(&text, paths::FAILURES),
        Err(_) => PatternDb::builtin(),
    }
}

/// Diagnoses `log` (the text of a run's log, or its tail) for `project`.
pub fn diagnose_for(project: &Project, db: &PatternDb, log: &str, exit: &ExitInfo) -> Diagnosis {
    let run = &project.config.run;
    let files = ProjectFiles {
        root: Some(project.work.clone()),
        files: run.editable.iter().chain(&run.readonly).cloned().collect(),
    };
    let knobs = crate::checks::knobs::editable_knob_hints(project);
    diagnose(log, exit, db, &files, &knobs)
}
