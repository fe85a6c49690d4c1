//! report/index.html: the narrative, the charts and the table in one self-contained page,
//! rendered from assets/report.html by minijinja with HTML autoescaping — every piece of agent-
//! or user-written text is escaped; only the charts (built here, their text escaped by
//! `charts::svg`) are inserted as markup.

use minijinja::syntax::SyntaxConfig;
use minijinja::value::Serde;
use minijinja::Environment;
use serde::Serialize;

use super::charts::{self, curves, ChartPoint, Mark};
use super::inputs::Inputs;
use super::markdown::{duration, sentences};
use super::narrative::Narrative;
use super::table::TableGroup;
use super::{finished, ReportError};
use std::collections::BTreeMap;

use crate::decide::round;
use crate::diagnostics::Series;
use crate::journal::{Outcome, Phase, State};

const TEMPLATE: &str = include_str!("../../assets/report.html");

/// The four charts as SVG markup.
#[derive(Debug, Clone, Serialize)]
pub struct Charts {
    pub progress: String,
    pub directions: String,
    pub curves: String,
    pub seconds: String,
}

impl Charts {
    pub fn draw(state: &State, inputs: &Inputs, noise_sigma: Option<f64>) -> Self {
        let points: Vec<ChartPoint> = state
            .experiments
            .values()
            .filter(|experiment| finished(experiment))
            .map(|experiment| ChartPoint {
                number: experiment.number,
                title: experiment.title.clone(),
                value: experiment.value,
                mark: match (experiment.phase, experiment.value) {
                    (Phase::Done(Outcome::Keep), _) => Mark::Keep,
                    (Phase::Done(Outcome::Discard), _) | (Phase::Other, Some(_)) => Mark::Discard,
                    _ => Mark::Crash,
                },
                seconds: experiment.seconds,
                direction: experiment.direction().map(str::to_string),
            })
            .collect();
        let window_from = points.partition_point(|point| point.number < inputs.start);
        let window = &points[window_from..];
        fn run<'a>(
            found: &'a Option<(u32, BTreeMap<String, Series>)>,
            what: &str,
        ) -> Option<(String, &'a BTreeMap<String, Series>)> {
            found
                .as_ref()
                .map(|(number, curves)| (format!("{what} #{number}"), curves))
        }
        let best = run(&inputs.best_curves, "best");
        let baseline = run(&inputs.baseline_curves, "baseline");
        let best_run = best.as_ref().map(|(label, curves)| curves::Run {
            label: label.clone(),
            curves,
        });
        let baseline_run = baseline.as_ref().map(|(label, curves)| curves::Run {
            label: label.clone(),
            curves,
        });
        Self {
            progress: charts::progress::progress(&charts::progress::ProgressInput {
                points: &points,
                metric: &inputs.metric,
                goal: inputs.goal,
                noise_sigma,
                read_through: inputs.start.checked_sub(1),
            }),
            directions: charts::directions::directions(window),
            curves: curves::curves(best_run.as_ref(), baseline_run.as_ref()),
            seconds: charts::seconds::seconds(window, inputs.budget_seconds),
        }
    }
}

/// A headline figure of the page.
#[derive(Debug, Serialize)]
struct Card {
    label: &'static str,
    value: String,
    class: &'static str,
}

/// A titled list of sentences.
#[derive(Debug, Serialize)]
struct Section {
    title: &'static str,
    lines: Vec<String>,
}

pub fn render(
    narrative: &Narrative,
    tables: &[TableGroup],
    charts: &Charts,
    inputs: &Inputs,
) -> Result<String, ReportError> {
    let mut environment = Environment::new();
    environment.set_syntax(
        SyntaxConfig::builder()
            .trim_blocks(true)
            .lstrip_blocks(true)
            .build()?,
    );
    environment.add_template("report.html", TEMPLATE)?;
    let template = environment.get_template("report.html")?;
    let said = sentences(narrative);
    let counts = &narrative.counts;
    let best = match (narrative.best.from, narrative.best.to) {
        (Some(from), Some(to)) if from != to => format!("{} → {}", round(from), round(to)),
        (_, Some(to)) => round(to),
        _ => "none yet".into(),
    };
    let cards = vec![
        Card {
            label: "experiments",
            value: counts.ran.to_string(),
            class: "",
        },
        Card {
            label: "kept",
            value: counts.kept.to_string(),
            class: "keep",
        },
        Card {
            label: "discarded",
            value: counts.discarded.to_string(),
            class: "discard",
        },
        Card {
            label: "crashed",
            value: counts.crashed.to_string(),
            class: "crash",
        },
        Card {
            label: "rejected",
            value: counts.rejected.to_string(),
            class: "",
        },
        Card {
            label: "time spent",
            value: duration(counts.seconds),
            class: "",
        },
        Card {
            label: "best",
            value: best,
            class: "best",
        },
    ];
    let lines = |text: &str| text.lines().map(str::to_string).collect::<Vec<_>>();
    let sections = vec![
        Section {
            title: "Strategy changes",
            lines: lines(&said.distillation),
        },
        Section {
            title: "Failures and what the harness learned",
            lines: lines(&said.failures),
        },
        Section {
            title: "Stuck directions",
            lines: lines(&said.stuck),
        },
        Section {
            title: "Prediction calibration",
            lines: lines(&said.calibration),
        },
    ];
    let total_rows: usize = tables.iter().map(|group| group.rows.len()).sum();
    let page = Page {
        narrative,
        said,
        cards,
        sections,
        charts,
        tables,
        total_rows,
        detail_limit: super::table::DETAIL_LIMIT,
        metric: &inputs.metric,
    };
    Ok(template.render(Serde(&page))?)
}

/// Everything the template sees.
#[derive(Serialize)]
struct Page<'a> {
    narrative: &'a Narrative,
    said: super::markdown::Sentences,
    cards: Vec<Card>,
    sections: Vec<Section>,
    charts: &'a Charts,
    tables: &'a [TableGroup],
    total_rows: usize,
    detail_limit: usize,
    metric: &'a str,
}
