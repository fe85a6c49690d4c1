//! The report's charts, hand-written SVG: the metric per experiment with the running best,
//! direction productivity, training curves of the best run against the baseline, and seconds
//! per experiment. Same input, same bytes.

pub mod curves;
pub mod directions;
pub mod progress;
pub mod seconds;
pub mod svg;

use serde::Serialize;

/// How an experiment is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mark {
    Keep,
    Discard,
    /// Crash, timeout or abandoned: no usable metric value.
    Crash,
}

/// One finished experiment as the charts see it.
#[derive(Debug, Clone)]
pub struct ChartPoint {
    pub number: u32,
    pub title: String,
    pub value: Option<f64>,
    pub mark: Mark,
    pub seconds: Option<f64>,
    pub direction: Option<String>,
}

/// The most markers of one kind a chart draws before it thins them per pixel column.
pub const MARKER_LIMIT: usize = 1500;

/// Tooltips are written on keep markers only while there are at most this many.
pub const TOOLTIP_LIMIT: usize = 400;
