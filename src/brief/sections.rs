//! The sections of the brief, in priority order, each a few bounded lines: what the agent
//! needs for its next step and nothing that grows with the history.

use serde::Serialize;

use crate::config::Config;
use crate::distill::render::{number, one_line};
use crate::distill::stats::{self, sentence, signed, Stats};
use crate::distill::strategy;
use crate::journal::{Phase, State};
use crate::next::{next_step_for, NextStep};

/// Longest line, in characters, before it is shortened.
const LINE_CHARACTERS: usize = 240;
const RECENT: usize = 5;
const TOP: usize = 4;
const PRIORITY_LINES: usize = 12;

/// One section: its name and its lines. List sections start with a heading line that is
/// worth nothing alone (`header` is 1): when its last item is cut, the heading goes too.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    pub name: &'static str,
    pub lines: Vec<String>,
    #[serde(skip)]
    pub header: usize,
}

/// What the brief is built from.
pub struct Input<'a> {
    pub state: &'a State,
    pub config: &'a Config,
    /// docs/strategy.md, when it exists.
    pub strategy: Option<&'a str>,
    /// The noise floor's standard deviation, once measured (`dfh noise`).
    pub noise_sigma: Option<f64>,
}

fn list(name: &'static str, heading: String, items: Vec<String>) -> Section {
    let mut lines = vec![heading];
    lines.extend(
        items
            .into_iter()
            .map(|item| format!("- {}", one_line(&item, LINE_CHARACTERS))),
    );
    Section {
        name,
        lines,
        header: 1,
    }
}

/// Every section, highest priority first.
pub fn sections(input: &Input<'_>) -> Vec<Section> {
    let state = input.state;
    let config = input.config;
    let stats = stats::compute(state.experiments.values(), config.metric.goal);
    let next = next_step_for(state, config.distill.every);
    vec![
        next_section(&next),
        goal_section(input, &stats),
        priorities_section(input.strategy),
        recent_section(state, config),
        list(
            "directions",
            "directions, most productive first (gain: over the best before, + is better):".into(),
            stats
                .directions
                .iter()
                .take(TOP)
                .map(|group| format!("{}: {}", group.name, sentence(group)))
                .collect(),
        ),
        list(
            "regions",
            "code regions, most productive first:".into(),
            stats
                .regions
                .iter()
                .take(TOP)
                .map(|group| format!("{}: {}", group.name, sentence(group)))
                .collect(),
        ),
        learnings_section(state),
        failures_section(state, &stats),
    ]
}

/// In lane `lane`: what the other lanes are trying right now (planned or running).
pub fn lanes_section(state: &State, lane: u32) -> Section {
    let mut others: std::collections::BTreeMap<u32, String> = std::collections::BTreeMap::new();
    for experiment in state.experiments.values().rev().take(LANE_WINDOW) {
        let Some(other) = experiment.lane().filter(|other| *other != lane) else {
            continue;
        };
        if others.contains_key(&other) {
            continue;
        }
        let what = match experiment.phase {
            crate::journal::Phase::Running => "running",
            crate::journal::Phase::Pending => "planned",
            _ => continue,
        };
        let direction = experiment
            .direction()
            .map(|direction| format!(" [{direction}]"))
            .unwrap_or_default();
        let hypothesis = experiment
            .plan
            .as_ref()
            .map(|plan| format!(": {}", plan.hypothesis))
            .unwrap_or_default();
        others.insert(
            other,
            format!(
                "lane {other}, #{} {}{direction} ({what}){hypothesis}",
                experiment.number, experiment.title
            ),
        );
    }
    let heading = if others.is_empty() {
        format!("lanes: you work in lane {lane}; no other lane is trying anything right now. Plan with `dfh plan`.")
    } else {
        format!("lanes: you work in lane {lane}; the other lanes are trying these right now, so try something different (plan with `dfh plan`):")
    };
    list("lanes", heading, others.into_values().collect())
}

/// How far back the lanes section looks for other lanes' current experiments.
const LANE_WINDOW: usize = 64;

fn next_section(next: &NextStep) -> Section {
    Section {
        name: "next",
        lines: vec![
            format!("next: {}", next.command),
            format!("why: {}", one_line(&next.why, LINE_CHARACTERS)),
        ],
        header: 0,
    }
}

fn goal_section(input: &Input<'_>, stats: &Stats) -> Section {
    let metric = &input.config.metric;
    let state = input.state;
    let best = match &state.best {
        Some(best) => format!(
            "best {} (#{} {})",
            number(best.value),
            best.experiment,
            one_line(&state.title_of(best.experiment), 80)
        ),
        None => "best: none yet (run the baseline)".into(),
    };
    let noise = match input.noise_sigma {
        Some(sigma) => format!(
            "noise floor σ {} (a keep needs a gain over {})",
            number(sigma),
            number(sigma * metric.noise_k)
        ),
        None => "noise floor: not measured".into(),
    };
    Section {
        name: "goal",
        lines: vec![
            format!("goal: {} {} · {best} · {noise}", metric.goal.as_str(), metric.name),
            format!(
                "history: {} experiments with a result ({} kept, {} crashed); {} since the last distillation, due at {}",
                stats.finished,
                stats.kept,
                stats.crashed,
                state.finished_since_distill(),
                input.config.distill.every
            ),
        ],
        header: 0,
    }
}

fn priorities_section(strategy_text: Option<&str>) -> Section {
    let priorities = strategy_text.and_then(|text| strategy::section(text, "Priorities"));
    match priorities {
        Some(section) if !section.lines.is_empty() => {
            let mut lines = vec![format!("priorities (docs/strategy.md:{}):", section.line)];
            lines.extend(
                section
                    .lines
                    .iter()
                    .take(PRIORITY_LINES)
                    .map(|line| one_line(line, LINE_CHARACTERS)),
            );
            Section {
                name: "priorities",
                lines,
                header: 1,
            }
        }
        _ => Section {
            name: "priorities",
            lines: vec![
                "priorities: none written yet; the first distillation (`dfh distill`) fills docs/strategy.md#priorities".into(),
            ],
            header: 0,
        },
    }
}

fn recent_section(state: &State, config: &Config) -> Section {
    let items: Vec<String> = state
        .experiments
        .values()
        .rev()
        .take(RECENT)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .map(|experiment| {
            let status = match (experiment.phase, &experiment.status_text) {
                (Phase::Other, Some(text)) => text.clone(),
                (phase, _) => phase.label().to_string(),
            };
            let value = experiment.value.map(number).unwrap_or_else(|| "-".into());
            let gain = stats::gain(experiment, config.metric.goal)
                .map(|gain| format!(" ({})", signed(gain)))
                .unwrap_or_default();
            let direction = experiment
                .direction()
                .map(|direction| format!(" [{direction}]"))
                .unwrap_or_default();
            format!(
                "#{} {status} {value}{gain}{direction} {}",
                experiment.number, experiment.title
            )
        })
        .collect();
    if items.is_empty() {
        return Section {
            name: "recent",
            lines: vec!["recent experiments: none yet".into()],
            header: 0,
        };
    }
    list("recent", "recent experiments:".into(), items)
}

fn learnings_section(state: &State) -> Section {
    let items: Vec<String> = state
        .experiments
        .values()
        .rev()
        .filter_map(|experiment| {
            experiment
                .learning
                .as_ref()
                .map(|learning| format!("#{}: {learning}", experiment.number))
        })
        .take(RECENT)
        .collect();
    if items.is_empty() {
        return Section {
            name: "learnings",
            lines: vec![
                "recent learnings: none yet (`dfh learn N \"...\"` after each result)".into(),
            ],
            header: 0,
        };
    }
    list("learnings", "recent learnings, newest first:".into(), items)
}

fn failures_section(state: &State, stats: &Stats) -> Section {
    let mut items = Vec::new();
    if let Some(crashed) = state.awaiting_retry() {
        items.push(format!(
            "open: #{} {} ({}): {} and `dfh run --retry` (once), or plan a different idea",
            crashed.number,
            crashed.phase.label(),
            crashed
                .crash_class
                .as_deref()
                .unwrap_or(stats::UNCLASSIFIED),
            match &crashed.fix {
                Some(fix) => format!("fix: {fix} — apply it"),
                None => format!(
                    "{}; `dfh crash` gives one fix — apply it",
                    crashed.reason.as_deref().unwrap_or("it failed")
                ),
            }
        ));
    }
    for class in stats
        .crash_classes
        .iter()
        .filter(|class| class.untaught())
        .take(2)
    {
        let numbers: Vec<String> = class
            .experiments
            .iter()
            .map(|number| format!("#{number}"))
            .collect();
        items.push(format!(
            "untaught: {} crashes no pattern explains ({}, latest {}) — teach one with `dfh crash learn`",
            class.count,
            class.class,
            numbers.join(", ")
        ));
    }
    for class in stats
        .crash_classes
        .iter()
        .filter(|class| class.recurs() && !class.untaught())
        .take(2)
    {
        items.push(format!(
            "recurring: {} ×{}{}",
            class.class,
            class.count,
            class
                .fix
                .as_deref()
                .map(|fix| format!(" — fix: {fix}"))
                .unwrap_or_default()
        ));
    }
    if items.is_empty() {
        return Section {
            name: "failures",
            lines: vec!["failures: none open".into()],
            header: 0,
        };
    }
    list("failures", "failures:".into(), items)
}
