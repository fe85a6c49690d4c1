//! Periodic distillation: every `[distill] every` experiments the agent steps back. `dfh
//! distill` rewrites the auto section of docs/strategy.md with the figures of the whole
//! history and names the agent sections to update; `dfh distill --done` checks that they
//! were, and lets plans and runs go on.

pub mod due;
pub mod render;
pub mod stats;
pub mod strategy;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::journal::{DistillOpened, Distilled, Event, State};
use crate::lock::ProjectLock;
use crate::project::{now, paths, Project};
use crate::refusal::Refusal;

pub use due::refuse_if_due;
use stats::{sentence, signed, Stats};

/// What `dfh distill` did, and the synthesis task it hands to the agent.
#[derive(Debug, Clone, Serialize)]
pub struct Opened {
    pub after_experiment: u32,
    /// True when a distillation was already open: the figures were refreshed.
    pub reopened: bool,
    /// 1-based lines of docs/strategy.md that hold the auto section.
    pub auto_lines: (usize, usize),
    /// One entry per agent section: its name and the figures that should drive it.
    pub task: Vec<SectionTask>,
    /// Experiments with a result, kept and crashed, over the whole history.
    pub finished: usize,
    pub kept: usize,
    pub crashed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionTask {
    pub section: String,
    pub figures: Vec<String>,
}

/// What `dfh distill --done` recorded.
#[derive(Debug, Clone, Serialize)]
pub struct Closed {
    pub after_experiment: u32,
    /// Agent sections still empty (allowed, but worth filling).
    pub empty_sections: Vec<String>,
}

/// Opens (or refreshes) a distillation: rewrites the auto section and records `distill_opened`.
pub fn open(project: &Project) -> Result<Opened> {
    let _lock = ProjectLock::acquire(&project.path(paths::LOCK), "dfh distill")?;
    let (state, _) = project.load()?;
    let after_experiment = state
        .finished()
        .next_back()
        .map_or(0, |experiment| experiment.number);
    let stats = stats::compute(state.experiments.values(), project.config.metric.goal);
    let at = now();
    let path = project.path(paths::STRATEGY);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            include_str!("../../assets/templates/strategy.md").to_string()
        }
        Err(error) => return Err(error).context("cannot read docs/strategy.md"),
    };
    let auto = render::render(&stats, &project.config.metric.name, after_experiment, &at);
    let written =
        strategy::rewrite(&text, &auto).map_err(|error| Refusal::new(error.to_string()))?;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).context("cannot create docs/")?;
    }
    std::fs::write(&path, &written).context("cannot write docs/strategy.md")?;
    let reopened = state.distill_open.is_some();
    if !reopened {
        // The hash of the agent's text as it was when the distillation opened: `--done`
        // compares against it, so a refreshed distillation keeps the first one.
        project
            .journal
            .append(&[Event::DistillOpened(DistillOpened {
                at,
                after_experiment,
                sections_hash: strategy::agent_hash(&written)?,
            })])?;
    }
    let start = written.find(strategy::START).unwrap_or(0);
    let end = written.find(strategy::END).unwrap_or(0);
    Ok(Opened {
        after_experiment,
        reopened,
        auto_lines: (
            crate::config::line_of(&written, start),
            crate::config::line_of(&written, end),
        ),
        task: task(&state, &stats, &project.config.metric.name),
        finished: stats.finished,
        kept: stats.kept,
        crashed: stats.crashed,
    })
}

/// Closes the open distillation once the agent's sections changed and Priorities has text.
pub fn done(project: &Project) -> Result<Closed> {
    let _lock = ProjectLock::acquire(&project.path(paths::LOCK), "dfh distill --done")?;
    let (state, _) = project.load()?;
    let Some(opened) = state.distill_open else {
        return Err(Refusal::new(
            "no distillation is open: run `dfh distill` first, update docs/strategy.md from its figures, then `dfh distill --done`",
        )
        .into());
    };
    let text = std::fs::read_to_string(project.path(paths::STRATEGY)).map_err(|error| {
        Refusal::new(format!(
            "cannot read docs/strategy.md ({error}); run `dfh distill` again to rewrite its auto section, then update its sections"
        ))
    })?;
    let hash = strategy::agent_hash(&text).map_err(|error| Refusal::new(error.to_string()))?;
    if hash == opened.sections_hash {
        return Err(Refusal::new(format!(
            "docs/strategy.md is unchanged outside the dfh:auto markers since `dfh distill` ({}): update {} from the figures in its auto section, then run `dfh distill --done` again",
            opened.at,
            section_list()
        ))
        .into());
    }
    match strategy::section(&text, "Priorities") {
        None => {
            return Err(Refusal::new(
                "docs/strategy.md has no `## Priorities` section: add it back (outside the dfh:auto markers) with the directions ranked, most promising first, then run `dfh distill --done` again",
            )
            .into())
        }
        Some(priorities) if priorities.lines.is_empty() => {
            return Err(Refusal::new(format!(
                "docs/strategy.md:{}: `## Priorities` is empty: write the research directions ranked by the figures of the auto section, most promising first, with the evidence for each; then run `dfh distill --done` again",
                priorities.line
            ))
            .into())
        }
        Some(_) => {}
    }
    let summary = strategy::section(&text, "Priorities")
        .map(|priorities| {
            let lines: Vec<String> = priorities
                .lines
                .iter()
                .map(|line| line.trim().to_string())
                .filter(|line| !line.is_empty())
                .take(5)
                .collect();
            format!("Priorities: {}", lines.join(" "))
        })
        .unwrap_or_default();
    let empty_sections = strategy::AGENT_SECTIONS
        .iter()
        .filter(|name| {
            strategy::section(&text, name).is_none_or(|section| section.lines.is_empty())
        })
        .map(|name| format!("## {name}"))
        .collect();
    project.journal.append(&[Event::Distilled(Distilled {
        at: now(),
        after_experiment: opened.after_experiment,
        summary,
    })])?;
    Ok(Closed {
        after_experiment: opened.after_experiment,
        empty_sections,
    })
}

fn section_list() -> String {
    strategy::AGENT_SECTIONS
        .iter()
        .map(|section| format!("## {section}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The synthesis task: each agent section and the figures that should drive it.
fn task(state: &State, stats: &Stats, metric: &str) -> Vec<SectionTask> {
    let mut current = Vec::new();
    match &stats.best {
        Some(best) => {
            current.push(format!(
                "{metric} {} from #{} {}",
                render::number(best.value),
                best.experiment,
                render::one_line(&best.title, 120)
            ));
            let since: Vec<(u32, f64)> = stats
                .trajectory
                .iter()
                .filter(|step| step.experiment > state.last_distilled_after)
                .filter_map(|step| step.gain.map(|gain| (step.experiment, gain)))
                .collect();
            current.push(match since.as_slice() {
                [] => "no improvement since the last distillation".into(),
                moves => {
                    let latest: Vec<String> = moves[moves.len().saturating_sub(3)..]
                        .iter()
                        .map(|(experiment, gain)| format!("#{experiment} {}", signed(*gain)))
                        .collect();
                    format!(
                        "{} kept experiments moved it by {} in all since the last distillation; latest {}",
                        moves.len(),
                        signed(moves.iter().map(|(_, gain)| gain).sum()),
                        latest.join(", ")
                    )
                }
            });
        }
        None => current.push("no kept experiment yet: the baseline comes first".into()),
    }
    let ranking = |groups: &[stats::Group], what: &str| -> Vec<String> {
        groups
            .iter()
            .take(3)
            .map(|group| format!("{what} {}: {}", group.name, sentence(group)))
            .collect()
    };
    let mut priorities = ranking(&stats.directions, "direction");
    priorities.extend(ranking(&stats.regions, "region"));
    if let Some(last) = stats
        .directions
        .last()
        .filter(|_| stats.directions.len() > 3)
    {
        priorities.push(format!(
            "least productive: {} — {}",
            last.name,
            sentence(last)
        ));
    }
    if priorities.is_empty() {
        priorities.push(
            "no tagged direction yet: rank the ideas you mean to try, with `--direction` tags"
                .into(),
        );
    }
    let explored: Vec<String> = stats
        .directions
        .iter()
        .filter(|group| group.tried >= 3 && group.kept == 0)
        .take(5)
        .map(|group| format!("{}: 0 of {} kept — conclude it or say what would change that", group.name, group.tried))
        .chain(std::iter::once(format!(
            "{} directions with learnings, listed under \"Explored, by direction\" in the auto section",
            stats.explored.len()
        )))
        .collect();
    let mut observations = Vec::new();
    if let Some(plateau) = stats
        .plateaus
        .iter()
        .find(|plateau| plateau.current && plateau.length >= 3)
    {
        observations.push(format!(
            "{} experiments without improvement (#{}–#{})",
            plateau.length, plateau.first, plateau.last
        ));
    }
    for class in stats
        .crash_classes
        .iter()
        .filter(|class| class.recurs())
        .take(3)
    {
        observations.push(format!(
            "crash class {} recurs: {} times",
            class.class, class.count
        ));
    }
    if let Some(calibration) = &stats.calibration {
        observations.push(format!(
            "predictions fell short in {} of {} (mean optimism {:.4})",
            calibration.fell_short, calibration.count, calibration.mean_optimism
        ));
    }
    if observations.is_empty() {
        observations.push("patterns across experiments: what works here, what does not".into());
    }
    [
        ("Current best", current),
        ("Priorities", priorities),
        ("Explored", explored),
        ("Observations", observations),
    ]
    .into_iter()
    .map(|(section, figures)| SectionTask {
        section: format!("## {section}"),
        figures,
    })
    .collect()
}
