//! Everything a report reads besides the folded state: the window, rejections, distillations
//! (read defensively from the raw journal), docs/hypotheses.md, checks/failures.toml, the
//! best and baseline runs' metrics/<commit>.json, and the diffs of recent kept experiments.
//! Whatever is missing is left empty; the narrative says so.

use std::collections::BTreeMap;
use std::io::BufRead;

use crate::config::Goal;
use crate::diagnostics::{MetricsDoc, Series};
use crate::journal::{Event, Experiment, Outcome, State};
use crate::project::{paths, Project};

use super::{finished, window_start, ReportOptions, Since};

/// At most this many kept experiments (the latest) show their diff on the page.
pub const DIFF_LIMIT: usize = 25;
/// A diff longer than this many lines is cut, with a note on how to see it whole.
pub const DIFF_LINES: usize = 200;

/// A distillation found in the journal, whatever shape its event has.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Distillation {
    pub at: String,
    pub after_experiment: Option<u32>,
    pub summary: String,
}

/// The hypothesis and learning of an entry in docs/hypotheses.md.
#[derive(Debug, Clone, Default)]
pub struct EntryText {
    pub hypothesis: Option<String>,
    pub learning: Option<String>,
}

pub struct Inputs {
    pub metric: String,
    pub goal: Goal,
    pub budget_seconds: Option<f64>,
    pub since_label: String,
    /// The first experiment number covered; u32::MAX when nothing is.
    pub start: u32,
    /// Numbers of the finished experiments the report covers, in order.
    pub window: Vec<u32>,
    /// (experiment, stage) of each rejection in the window.
    pub rejections: Vec<(u32, String)>,
    pub distillations: Vec<Distillation>,
    pub entries: BTreeMap<u32, EntryText>,
    pub learned_patterns: usize,
    pub best_curves: Option<(u32, BTreeMap<String, Series>)>,
    pub baseline_curves: Option<(u32, BTreeMap<String, Series>)>,
    pub diffs: BTreeMap<u32, String>,
}

impl Inputs {
    pub fn experiments<'a>(&'a self, state: &'a State) -> impl Iterator<Item = &'a Experiment> {
        self.window
            .iter()
            .filter_map(|number| state.experiments.get(number))
    }
}

pub fn gather(
    project: &Project,
    state: &State,
    events: &[Event],
    options: &ReportOptions,
) -> Inputs {
    let start = window_start(state, &options.since);
    let window: Vec<u32> = state
        .experiments
        .range(start..)
        .filter(|(_, experiment)| finished(experiment))
        .map(|(number, _)| *number)
        .collect();
    let rejections = events
        .iter()
        .filter_map(|event| match event {
            Event::Rejected(rejected) if rejected.experiment >= start => {
                Some((rejected.experiment, rejected.stage.clone()))
            }
            _ => None,
        })
        .collect();
    let since_label = match &options.since {
        Since::LastRead => match state.last_read {
            Some(read) => format!("since the last read (through experiment {read})"),
            None => "everything so far (no earlier read)".into(),
        },
        Since::Date(_, text) => format!("since {text}"),
        Since::Experiment(number) => format!("since experiment {number}"),
    };
    let best = state.best.as_ref().map(|best| best.experiment);
    let baseline = state
        .experiments
        .values()
        .find(|experiment| experiment.outcome() == Some(Outcome::Keep))
        .map(|experiment| experiment.number)
        .filter(|number| Some(*number) != best);
    Inputs {
        metric: project.config.metric.name.clone(),
        goal: project.config.metric.goal,
        budget_seconds: Some(project.config.budget().as_secs_f64()),
        since_label,
        start,
        rejections,
        distillations: distillations(project),
        entries: entries(project),
        learned_patterns: learned_patterns(project),
        best_curves: best.and_then(|number| curves(project, state, number)),
        baseline_curves: baseline.and_then(|number| curves(project, state, number)),
        diffs: diffs(project, state, &window),
        window,
    }
}

/// `distilled` events, read from the raw journal because their shape is not fixed yet: the
/// summary is the first text field among `summary`, `changes`, `text`; the experiment the
/// first number among `after_experiment`, `through_experiment`, `experiment_count`.
fn distillations(project: &Project) -> Vec<Distillation> {
    let Ok(file) = std::fs::File::open(project.journal.path()) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for line in std::io::BufReader::new(file).lines() {
        let Ok(line) = line else { break };
        if !line.contains("\"distilled\"") {
            continue;
        }
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if value.get("event").and_then(|event| event.as_str()) != Some("distilled") {
            continue;
        }
        let text = |keys: &[&str]| {
            keys.iter()
                .find_map(|key| value.get(*key).and_then(|field| field.as_str()))
                .map(str::to_string)
        };
        let summary = text(&["summary", "changes", "text"]).unwrap_or_else(|| {
            value
                .get("changes")
                .and_then(|changes| changes.as_array())
                .map(|changes| {
                    changes
                        .iter()
                        .filter_map(|change| change.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .unwrap_or_default()
        });
        found.push(Distillation {
            at: text(&["at"]).unwrap_or_default(),
            after_experiment: ["after_experiment", "through_experiment", "experiment_count"]
                .iter()
                .find_map(|key| value.get(*key).and_then(|field| field.as_u64()))
                .and_then(|number| u32::try_from(number).ok()),
            summary,
        });
    }
    found
}

/// Hypotheses and learnings written straight into docs/hypotheses.md, for experiments whose
/// journal lacks them (imported rows, a learning the agent typed into the file).
fn entries(project: &Project) -> BTreeMap<u32, EntryText> {
    let Ok(text) = std::fs::read_to_string(project.path(paths::HYPOTHESES)) else {
        return BTreeMap::new();
    };
    crate::hypothesis::parse(&text)
        .entries
        .into_iter()
        .map(|entry| {
            (
                entry.number,
                EntryText {
                    hypothesis: entry.hypothesis.map(|field| field.text),
                    learning: entry.learning.map(|field| field.text),
                },
            )
        })
        .collect()
}

/// How many failure patterns this project's crash advisor has learned.
fn learned_patterns(project: &Project) -> usize {
    std::fs::read_to_string(project.path(paths::FAILURES))
        .map(|text| {
            text.lines()
                .filter(|line| line.trim() == "[[pattern]]")
                .count()
        })
        .unwrap_or(0)
}

/// The training curves of an experiment's run, from metrics/<commit>.json.
fn curves(
    project: &Project,
    state: &State,
    number: u32,
) -> Option<(u32, BTreeMap<String, Series>)> {
    let experiment = state.experiments.get(&number)?;
    let relative = match (&experiment.metrics, &experiment.commit) {
        (Some(path), _) => path.clone(),
        (None, Some(commit)) => format!("{}/{commit}.json", paths::METRICS),
        (None, None) => return None,
    };
    let document = MetricsDoc::read(&project.path(&relative)).ok()?;
    Some((number, document.training_curves))
}

/// Diffs of the latest kept experiments of the window, from refs/dfh/exp/N.
fn diffs(project: &Project, state: &State, window: &[u32]) -> BTreeMap<u32, String> {
    let kept: Vec<&Experiment> = window
        .iter()
        .rev()
        .filter_map(|number| state.experiments.get(number))
        .filter(|experiment| experiment.outcome() == Some(Outcome::Keep) && !experiment.imported)
        .take(DIFF_LIMIT)
        .collect();
    if kept.is_empty() {
        return BTreeMap::new();
    }
    // One call lists every experiment ref; a project without them costs nothing more.
    let Ok(listing) = project.git.run(&[
        "for-each-ref",
        "--format=%(refname) %(objectname)",
        "refs/dfh/exp/",
    ]) else {
        return BTreeMap::new();
    };
    let refs: BTreeMap<u32, &str> = listing
        .lines()
        .filter_map(|line| {
            let (name, commit) = line.split_once(' ')?;
            Some((name.strip_prefix("refs/dfh/exp/")?.parse().ok()?, commit))
        })
        .collect();
    let mut found = BTreeMap::new();
    for experiment in kept {
        let Some(commit) = refs.get(&experiment.number) else {
            continue;
        };
        let parent = experiment
            .parent
            .clone()
            .unwrap_or_else(|| format!("{commit}^"));
        let Ok(diff) = project
            .git
            .diff(&parent, commit, &project.config.run.editable)
        else {
            continue;
        };
        found.insert(experiment.number, cut(&diff, experiment.number));
    }
    found
}

fn cut(diff: &str, number: u32) -> String {
    let lines: Vec<&str> = diff.lines().collect();
    if lines.len() <= DIFF_LINES {
        return diff.trim_end().to_string();
    }
    format!(
        "{}\n… {} more lines: dfh show {number} --diff",
        lines[..DIFF_LINES].join("\n"),
        lines.len() - DIFF_LINES
    )
}
