//! Training curves of the best run against the baseline, from their metrics/<commit>.json:
//! one colour per curve, the best run solid, the baseline dashed.

use std::collections::BTreeMap;

use super::svg::{self, Canvas, Frame, Marker, Scale};
use crate::diagnostics::Series;

pub const HEIGHT: f64 = 400.0;
const EMPTY_HEIGHT: f64 = 110.0;
/// The most curves drawn (each for both runs).
pub const MAX_CURVES: usize = 3;
const CLASSES: [&str; MAX_CURVES] = ["c0", "c1", "c2"];

/// One run's curves and the label it gets in the legend.
pub struct Run<'a> {
    pub label: String,
    pub curves: &'a BTreeMap<String, Series>,
}

/// The curve names drawn: those of the best run, the ones the baseline shares first, loss
/// curves before others.
fn chosen(best: &Run, baseline: Option<&Run>) -> Vec<String> {
    let mut names: Vec<&String> = best.curves.keys().collect();
    names.sort_by_key(|name| {
        let shared = baseline.is_some_and(|run| run.curves.contains_key(*name));
        (!shared, !name.contains("loss"), (*name).clone())
    });
    names.into_iter().take(MAX_CURVES).cloned().collect()
}

pub fn curves(best: Option<&Run>, baseline: Option<&Run>) -> String {
    let title = "training curves of the best run against the baseline";
    let Some(best) = best.filter(|run| !run.curves.is_empty()) else {
        let mut canvas = Canvas::new("chart-curves", title, EMPTY_HEIGHT);
        canvas.text(
            (svg::WIDTH / 2.0, EMPTY_HEIGHT / 2.0 - 10.0),
            "no training curves recorded yet",
            "middle",
            "label",
        );
        canvas.text(
            (svg::WIDTH / 2.0, EMPTY_HEIGHT / 2.0 + 14.0),
            "log them with dfh_diag.py (run.log(step, loss=...)); they land in metrics/<commit>.json",
            "middle",
            "small",
        );
        return canvas.finish();
    };
    let mut canvas = Canvas::new("chart-curves", title, HEIGHT);
    let names = chosen(best, baseline);
    let runs: Vec<(&Run, bool)> = std::iter::once((best, false))
        .chain(baseline.map(|run| (run, true)))
        .collect();
    let mut steps = (u64::MAX, 0u64);
    let mut values = (f64::INFINITY, f64::NEG_INFINITY);
    for (run, _) in &runs {
        for name in &names {
            let Some(series) = run.curves.get(name) else {
                continue;
            };
            for point in series.finite_points() {
                steps = (steps.0.min(point.step), steps.1.max(point.step));
                values = (values.0.min(point.value), values.1.max(point.value));
            }
        }
    }
    let frame = Frame::standard(HEIGHT);
    if steps.0 > steps.1 {
        canvas.text(
            (svg::WIDTH / 2.0, HEIGHT / 2.0),
            "the curves hold no finite value",
            "middle",
            "label",
        );
        return canvas.finish();
    }
    let x = Scale::new(steps.0 as f64, steps.1 as f64, frame.left, frame.right);
    let pad = (values.1 - values.0) * 0.05;
    let y = Scale::new(values.0 - pad, values.1 + pad, frame.bottom, frame.top);
    canvas.axes(&frame, &x, &y, "training step", "value (as logged)");
    let mut legend = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let class = CLASSES[index];
        for (run, dashed) in &runs {
            let Some(series) = run.curves.get(name) else {
                continue;
            };
            let points: Vec<(f64, f64)> = series
                .finite_points()
                .iter()
                .map(|point| (x.map(point.step as f64), y.map(point.value)))
                .collect();
            let style = if *dashed {
                format!("curve baseline {class}")
            } else {
                format!("curve {class}")
            };
            canvas.path(&points, &style, false);
            legend.push((
                if *dashed {
                    Marker::Line(dashed_class(index))
                } else {
                    Marker::Line(solid_class(index))
                },
                format!("{} · {}", svg::shorten(name, 24), run.label),
            ));
        }
    }
    canvas.legend(frame.right, 24.0, &legend);
    canvas.finish()
}

fn solid_class(index: usize) -> &'static str {
    ["curve c0", "curve c1", "curve c2"][index.min(MAX_CURVES - 1)]
}

fn dashed_class(index: usize) -> &'static str {
    [
        "curve baseline c0",
        "curve baseline c1",
        "curve baseline c2",
    ][index.min(MAX_CURVES - 1)]
}
