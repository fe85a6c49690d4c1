//! The morning read — "the human reviews research decisions, not code": a markdown narrative
//! and one self-contained HTML page (inline CSS and SVG, no script, nothing fetched) built from
//! the journal, docs/hypotheses.md, metrics/<commit>.json and the experiments' commits.

pub mod charts;
mod html;
mod inputs;
mod markdown;
pub mod narrative;
mod output;
mod table;

use std::time::SystemTime;

use serde::Serialize;

use crate::journal::{Experiment, Phase, State};
use crate::project::{Project, ProjectError};

pub use html::render as render_html;
pub use narrative::Narrative;
pub use output::{refuse_link, resolve_out, OUT_DEFAULT};
pub use table::{TableGroup, TableRow};

/// Where a report starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Since {
    /// After the experiment of the last `dfh report --mark-read` (everything when none).
    LastRead,
    /// Experiments finished at or after this time.
    Date(SystemTime, String),
    /// Experiments numbered this or higher.
    Experiment(u32),
}

impl Since {
    /// Reads `last`, a date (`2026-01-31` or RFC 3339) or an experiment number.
    pub fn parse(text: &str) -> Result<Self, ReportError> {
        let text = text.trim();
        if text.is_empty() || text == "last" {
            return Ok(Since::LastRead);
        }
        if let Ok(number) = text.parse::<u32>() {
            return Ok(Since::Experiment(number));
        }
        let full = if text.len() == 10 {
            format!("{text}T00:00:00Z")
        } else {
            text.to_string()
        };
        humantime::parse_rfc3339_weak(full.trim_end_matches('Z'))
            .map(|time| Since::Date(time, text.to_string()))
            .map_err(|_| ReportError::Since(text.to_string()))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("--since {0} is neither `last`, a date (2026-01-31 or 2026-01-31T08:00:00Z) nor an experiment number. Pass one of those, e.g. `dfh report --since 2026-01-31`")]
    Since(String),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("cannot render the report page: {0}")]
    Template(#[from] minijinja::Error),
}

/// What `build` needs besides the project.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    pub since: Since,
    /// The noise floor's σ (the journal's latest when None); the progress chart draws a band
    /// of ±σ only when it is known.
    pub noise_sigma: Option<f64>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            since: Since::LastRead,
            noise_sigma: None,
        }
    }
}

/// A built report: the narrative, its markdown, and the page.
#[derive(Debug, Clone)]
pub struct Report {
    pub narrative: Narrative,
    pub markdown: String,
    pub html: String,
}

/// Reads the project and builds the report; writes nothing.
pub fn build(project: &Project, options: &ReportOptions) -> Result<Report, ReportError> {
    let (state, loaded) = project.load_events()?;
    let inputs = inputs::gather(project, &state, &loaded.events, options);
    let narrative = narrative::narrate(&state, &inputs);
    let markdown = markdown::markdown(&narrative);
    let tables = table::groups(&state, &inputs);
    let noise_sigma = options
        .noise_sigma
        .or(state.noise.as_ref().map(|floor| floor.sigma));
    let charts = html::Charts::draw(&state, &inputs, noise_sigma);
    let html = html::render(&narrative, &tables, &charts, &inputs)?;
    Ok(Report {
        narrative,
        markdown,
        html,
    })
}

/// True when an experiment ran to a decision (imported rows included).
fn finished(experiment: &Experiment) -> bool {
    matches!(
        experiment.phase,
        Phase::Done(_) | Phase::Abandoned | Phase::Other
    )
}

/// The first experiment number a report covers.
fn window_start(state: &State, since: &Since) -> u32 {
    match since {
        Since::LastRead => state.last_read.map_or(0, |read| read.saturating_add(1)),
        Since::Experiment(number) => *number,
        Since::Date(time, _) => state
            .experiments
            .values()
            .filter(|experiment| finished(experiment))
            .find(|experiment| {
                experiment
                    .finished_at
                    .as_deref()
                    .and_then(|at| humantime::parse_rfc3339_weak(at.trim_end_matches('Z')).ok())
                    .is_some_and(|at| at >= *time)
            })
            .map_or(u32::MAX, |experiment| experiment.number),
    }
}

/// The JSON a `dfh report --json` prints besides the paths: counts, best, window.
#[derive(Debug, Clone, Serialize)]
pub struct Counts {
    pub ran: usize,
    pub kept: usize,
    pub discarded: usize,
    pub crashed: usize,
    pub abandoned: usize,
    pub rejected: usize,
    pub seconds: f64,
}
