//! `dfh status`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use serde::Serialize;

use super::Context;
use crate::decide::round;
use crate::journal::{Phase, State};
use crate::lock::ProjectLock;
use crate::next::{next_step_for, NextStep};
use crate::pipeline::recovery;
use crate::printer::Render;
use crate::project::paths;

/// Where things stand: the best result, counts by status, the last five experiments and
/// what to do next. Also settles a run that an earlier, killed dfh left unfinished.
#[derive(Debug, Args)]
pub struct StatusArgs {}

#[derive(Debug, Serialize)]
pub struct StatusView {
    pub metric: String,
    pub goal: String,
    pub best: Option<BestView>,
    pub experiments: usize,
    pub counts: BTreeMap<String, usize>,
    pub last: Vec<LineView>,
    pub running: Option<u32>,
    /// Experiments running in lanes now.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lanes: Vec<LaneView>,
    pub next: NextStep,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub noise_floor: Option<crate::decide::noise::NoiseFloor>,
    pub calibration: crate::decide::calibration::CalibrationReport,
    /// Crashes the advisor could not classify, until a pattern is taught.
    pub untaught: Vec<u32>,
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct BestView {
    pub experiment: u32,
    pub value: f64,
    pub title: String,
}

#[derive(Debug, Serialize)]
pub struct LaneView {
    pub lane: u32,
    pub experiment: u32,
    pub title: String,
    pub started: String,
}

#[derive(Debug, Serialize)]
pub struct LineView {
    pub experiment: u32,
    pub title: String,
    pub status: String,
    pub value: Option<f64>,
}

pub fn run(context: &Context, _args: StatusArgs) -> anyhow::Result<ExitCode> {
    let project = context.project()?;
    // The outline (every experiment with the fields read here) decodes in a fraction of the
    // whole state's time; settling an unfinished run needs the whole state.
    let snapshot = project.path(paths::SNAPSHOT);
    let folded = project.journal.fold_outline(&snapshot)?;
    // A lane whose dfh is still running it needs no settling (and no whole state).
    let unsettled = folded.state.running.is_some()
        || folded
            .state
            .lanes
            .keys()
            .any(|lane| recovery::orphaned(&project, *lane).is_some())
        || crate::pipeline::record::pending(&project).is_some();
    let (mut state, skipped) = if unsettled {
        project.load()?
    } else {
        (folded.state, folded.skipped)
    };
    let mut notes = Vec::new();
    for line in &skipped {
        notes.push(format!(
            "journal line {} skipped: {}",
            line.line, line.reason
        ));
    }
    if unsettled {
        // Holding the lock proves the dfh that started the run is gone.
        if let Ok(_lock) = ProjectLock::acquire(&project.path(paths::LOCK), "dfh status") {
            notes.extend(recovery::complete_record(&project, &state)?);
            if let Some(settled) = recovery::settle(
                &project,
                &mut state,
                "dfh was stopped before the run finished",
            )? {
                notes.push(format!(
                    "experiment {} was interrupted (an earlier dfh was stopped mid-run): {}branch restored. `dfh run` runs it again",
                    settled.experiment,
                    settled
                        .killed_pid
                        .map(|pid| format!("stopped its training process {pid}; "))
                        .unwrap_or_default()
                ));
            }
        }
    }
    if let (Some(floor), Some(best)) = (&state.noise, &state.best) {
        notes.extend(crate::decide::noise::stale(
            floor,
            best.experiment,
            best.value,
            project.config.metric.rebaseline,
        ));
    }
    let mut view = view(&project.config, &state, notes);
    view.untaught = untaught(&project, &state);
    context.printer.render(&view);
    crate::journal::release(state);
    Ok(ExitCode::SUCCESS)
}

/// The recent crashes that were unclassified and still are with today's patterns.
fn untaught(project: &crate::project::Project, state: &State) -> Vec<u32> {
    let candidates: Vec<_> = state
        .experiments
        .values()
        .rev()
        .filter(|experiment| experiment.crash_class.as_deref() == Some(crate::crash::UNCLASSIFIED))
        .take(5)
        .collect();
    if candidates.is_empty() {
        return Vec::new();
    }
    let Ok(db) = crate::crash::project::pattern_db(project) else {
        return candidates
            .iter()
            .map(|experiment| experiment.number)
            .collect();
    };
    candidates
        .into_iter()
        .filter(|experiment| {
            let Some(log) = experiment.logs.last() else {
                return false;
            };
            let text = crate::logscan::tail(&project.path(log)).unwrap_or_default();
            let exit = crate::crash::ExitInfo::default();
            crate::crash::project::diagnose_for(project, &db, &text, &exit).class
                == crate::crash::UNCLASSIFIED
        })
        .map(|experiment| experiment.number)
        .collect()
}

fn view(config: &crate::config::Config, state: &State, notes: Vec<String>) -> StatusView {
    let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
    for experiment in state.experiments.values() {
        let label = match (experiment.phase, &experiment.status_text) {
            (Phase::Other, Some(text)) => text.as_str(),
            (phase, _) => phase.label(),
        };
        *counted.entry(label).or_insert(0) += 1;
    }
    let counts = counted
        .into_iter()
        .map(|(label, count)| (label.to_string(), count))
        .collect();
    let last = state
        .experiments
        .values()
        .rev()
        .take(5)
        .map(|experiment| LineView {
            experiment: experiment.number,
            title: experiment.title.clone(),
            status: experiment
                .status_text
                .clone()
                .unwrap_or_else(|| experiment.phase.label().into()),
            value: experiment.value,
        })
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    StatusView {
        metric: config.metric.name.clone(),
        goal: config.metric.goal.as_str().into(),
        best: state.best.as_ref().map(|best| BestView {
            experiment: best.experiment,
            value: best.value,
            title: state.title_of(best.experiment),
        }),
        experiments: state.experiments.len(),
        counts,
        last,
        running: state.running.as_ref().map(|running| running.experiment),
        lanes: state
            .lanes
            .iter()
            .map(|(lane, running)| LaneView {
                lane: *lane,
                experiment: running.experiment,
                title: state.title_of(running.experiment),
                started: running.at.clone(),
            })
            .collect(),
        next: next_step_for(state, config.distill.every),
        noise_floor: state.noise.clone(),
        calibration: crate::decide::calibration::report(
            state,
            config.metric.goal,
            config.metric.noise_k * state.noise.as_ref().map_or(0.0, |floor| floor.sigma),
        ),
        untaught: Vec::new(),
        notes,
    }
}

impl Render for StatusView {
    fn human(&self) -> String {
        let mut lines = Vec::new();
        match &self.best {
            Some(best) => lines.push(format!(
                "best: {} {} (#{} {})",
                self.metric,
                round(best.value),
                best.experiment,
                best.title
            )),
            None => lines.push(format!("best: none yet ({} {})", self.goal, self.metric)),
        }
        if let Some(floor) = &self.noise_floor {
            lines.push(floor.describe());
        }
        let overall = &self.calibration.overall;
        if overall.graded > 0 {
            lines.push(format!(
                "predictions: direction right in {} of {}, within noise in {}, mean error {}",
                overall.direction_right,
                overall.graded,
                overall.within_noise,
                overall.mean_absolute_error.map(round).unwrap_or_default()
            ));
        }
        let counts: Vec<String> = self
            .counts
            .iter()
            .map(|(status, count)| format!("{count} {status}"))
            .collect();
        lines.push(format!(
            "experiments: {}{}",
            self.experiments,
            if counts.is_empty() {
                String::new()
            } else {
                format!(" ({})", counts.join(", "))
            }
        ));
        for line in &self.last {
            lines.push(format!(
                "  #{} {} {} {}",
                line.experiment,
                line.status,
                line.value.map(round).unwrap_or_else(|| "-".into()),
                line.title
            ));
        }
        for lane in &self.lanes {
            lines.push(format!(
                "lane {}: #{} {} running since {}",
                lane.lane, lane.experiment, lane.title, lane.started
            ));
        }
        for number in &self.untaught {
            lines.push(format!(
                "untaught crash: #{number}; teach it: `dfh crash learn --class CLASS --pattern REGEX --fix TEXT --from {number}`"
            ));
        }
        for note in &self.notes {
            lines.push(format!("note: {note}"));
        }
        lines.push(format!("next: {} — {}", self.next.command, self.next.why));
        lines.join("\n")
    }
}
