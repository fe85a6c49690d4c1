//! The knobs of a project: tunable values of the read-only and editable Python files, with
//! the values given by flags in `[run] command` overriding argparse defaults.

use crate::project::Project;
use crate::python::{self, Knob};

/// Read-only files first and editable files last, so the editable script's values win.
pub fn project_knobs(project: &Project) -> Vec<Knob> {
    let run = &project.config.run;
    let mut knobs = Vec::new();
    for file in run
        .readonly
        .iter()
        .chain(&run.editable)
        .filter(|file| file.ends_with(".py"))
    {
        if let Ok(source) = std::fs::read_to_string(project.work_path(file)) {
            knobs.extend(python::parse_knobs(file, &source));
        }
    }
    python::apply_command_flags(&mut knobs, &run.command);
    knobs
}

/// The knobs of the editable files alone, as the crash advisor names them.
pub fn editable_knob_hints(project: &Project) -> Vec<crate::crash::KnobHint> {
    let mut knobs = Vec::new();
    for file in project
        .config
        .run
        .editable
        .iter()
        .filter(|file| file.ends_with(".py"))
    {
        if let Ok(source) = std::fs::read_to_string(project.work_path(file)) {
            knobs.extend(python::parse_knobs(file, &source));
        }
    }
    python::apply_command_flags(&mut knobs, &project.config.run.command);
    knobs
        .into_iter()
        .map(|knob| crate::crash::KnobHint {
            name: knob.name.clone(),
            value: knob.value.to_string(),
            file: knob.file.clone(),
            line: knob.line,
        })
        .collect()
}
