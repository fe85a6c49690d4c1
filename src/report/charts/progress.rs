//! The progress chart: the metric of every experiment, keep / discard / crash markers, the
//! running best as a step line and, when the noise floor is known, a band of ±σ around it.
//! Outliers are clipped to the edge (a triangle) so one diverged run cannot flatten the rest.

use super::svg::{self, Canvas, Frame, Marker, Scale};
use super::{ChartPoint, Mark, MARKER_LIMIT, TOOLTIP_LIMIT};
use crate::config::Goal;

pub const HEIGHT: f64 = 420.0;

/// What the progress chart draws.
pub struct ProgressInput<'a> {
    pub points: &'a [ChartPoint],
    pub metric: &'a str,
    pub goal: Goal,
    /// The noise floor's standard deviation; the band is drawn only when it is known.
    pub noise_sigma: Option<f64>,
    /// Experiments up to this number were read in an earlier report: shaded.
    pub read_through: Option<u32>,
}

pub fn progress(input: &ProgressInput) -> String {
    let mut canvas = Canvas::new(
        "chart-progress",
        &format!("{} per experiment, with the running best", input.metric),
        HEIGHT,
    );
    let frame = Frame::standard(HEIGHT);
    let (Some(first), Some(last)) = (input.points.first(), input.points.last()) else {
        canvas.text(
            (svg::WIDTH / 2.0, HEIGHT / 2.0),
            "no finished experiment yet",
            "middle",
            "label",
        );
        return canvas.finish();
    };
    let x = Scale::new(
        f64::from(first.number) - 0.5,
        f64::from(last.number) + 0.5,
        frame.left,
        frame.right,
    );
    let best_line = running_best(input.points);
    let (low, high) = value_window(input.points, input.noise_sigma, &best_line);
    // Extra room at the bottom for the crash strip.
    let pad = (high - low) * 0.06;
    let y = Scale::new(low - pad * 2.0, high + pad, frame.bottom, frame.top);

    if let Some(read) = input.read_through.filter(|read| *read >= first.number) {
        let edge = x.map(f64::from(read) + 0.5).min(frame.right);
        canvas.rect(
            frame.left,
            frame.top,
            edge - frame.left,
            frame.bottom - frame.top,
            "read",
        );
        canvas.text(
            (frame.left + 6.0, frame.top + 16.0),
            "read before",
            "start",
            "small",
        );
    }
    let direction = match input.goal {
        Goal::Minimize => "lower is better",
        Goal::Maximize => "higher is better",
    };
    canvas.axes(
        &frame,
        &x,
        &y,
        "experiment number",
        &format!("{} ({direction})", input.metric),
    );

    let step_points: Vec<(f64, f64)> = best_line
        .iter()
        .map(|(number, value)| (x.map(*number), y.map(*value)))
        .collect();
    if let Some(sigma) = input.noise_sigma.filter(|sigma| *sigma > 0.0) {
        let mut band: Vec<(f64, f64)> = best_line
            .iter()
            .map(|(number, value)| (x.map(*number), y.map(value + sigma)))
            .collect();
        band.extend(
            best_line
                .iter()
                .rev()
                .map(|(number, value)| (x.map(*number), y.map(value - sigma))),
        );
        canvas.path(&compress(&band), "noise", true);
    }

    let mut keeps = Vec::new();
    let mut discards = Vec::new();
    let mut crashes = Vec::new();
    for point in input.points {
        let pixel_x = x.map(f64::from(point.number));
        match (point.mark, point.value.filter(|value| value.is_finite())) {
            (Mark::Keep, Some(value)) => keeps.push((pixel_x, value, point)),
            (Mark::Discard, Some(value)) => discards.push((pixel_x, value, point)),
            _ => crashes.push((pixel_x, 0.0, point)),
        }
    }
    for (pixel_x, value, _) in svg::thin(&discards, MARKER_LIMIT) {
        marker(&mut canvas, &y, &frame, pixel_x, value, "discard", 3.5, "");
    }
    for (pixel_x, _, _) in svg::thin(&crashes, MARKER_LIMIT) {
        canvas.cross((pixel_x, frame.bottom - 9.0), 4.0, "crash");
    }
    canvas.path(&compress(&step_points), "best", false);
    let tooltips = keeps.len() <= TOOLTIP_LIMIT;
    for (pixel_x, value, point) in svg::thin(&keeps, MARKER_LIMIT) {
        let tip = if tooltips {
            format!(
                "#{} {}: {}",
                point.number,
                point.title,
                crate::decide::round(value)
            )
        } else {
            String::new()
        };
        let radius = if tooltips { 5.0 } else { 3.0 };
        marker(
            &mut canvas,
            &y,
            &frame,
            pixel_x,
            value,
            "keep",
            radius,
            &tip,
        );
    }

    let mut legend = vec![
        (Marker::Dot("keep"), format!("keep ({})", keeps.len())),
        (
            Marker::Dot("discard"),
            format!("discard ({})", discards.len()),
        ),
        (Marker::Cross("crash"), format!("crash ({})", crashes.len())),
        (Marker::Line("best"), "running best".to_string()),
    ];
    if let Some(sigma) = input.noise_sigma.filter(|sigma| *sigma > 0.0) {
        legend.push((
            Marker::Block("noise"),
            format!("noise floor ±σ ({})", crate::decide::round(sigma)),
        ));
    }
    canvas.legend(frame.right, 24.0, &legend);
    canvas.finish()
}

/// A marker at its value, or a triangle at the edge when the value lies outside the chart.
#[expect(clippy::too_many_arguments, reason = "one call site per marker kind")]
fn marker(
    canvas: &mut Canvas,
    y: &Scale,
    frame: &Frame,
    pixel_x: f64,
    value: f64,
    class: &str,
    radius: f64,
    tip: &str,
) {
    let pixel_y = y.map(value);
    if pixel_y < frame.top {
        canvas.triangle((pixel_x, frame.top + 5.0), 5.0, true, "offchart");
    } else if pixel_y > frame.bottom {
        canvas.triangle((pixel_x, frame.bottom - 5.0), 5.0, false, "offchart");
    } else {
        canvas.circle((pixel_x, pixel_y), radius, class, tip);
    }
}

/// The running best as the vertices of a step line: (experiment, best after it).
fn running_best(points: &[ChartPoint]) -> Vec<(f64, f64)> {
    let mut line = Vec::new();
    let mut best: Option<f64> = None;
    for point in points {
        if point.mark != Mark::Keep {
            continue;
        }
        let Some(value) = point.value.filter(|value| value.is_finite()) else {
            continue;
        };
        let number = f64::from(point.number);
        if let Some(previous) = best {
            line.push((number, previous));
        }
        line.push((number, value));
        best = Some(value);
    }
    if let (Some(best), Some(last)) = (best, points.last()) {
        line.push((f64::from(last.number) + 0.5, best));
    }
    line
}

/// The value range shown: every kept value, and the other values within one kept-range of it.
fn value_window(points: &[ChartPoint], sigma: Option<f64>, best: &[(f64, f64)]) -> (f64, f64) {
    let finite = |mark: Option<Mark>| {
        points
            .iter()
            .filter(move |point| mark.is_none_or(|mark| point.mark == mark))
            .filter_map(|point| point.value.filter(|value| value.is_finite()))
    };
    let range = |values: &mut dyn Iterator<Item = f64>| {
        values.fold(None, |range: Option<(f64, f64)>, value| match range {
            None => Some((value, value)),
            Some((low, high)) => Some((low.min(value), high.max(value))),
        })
    };
    let Some((kept_low, kept_high)) =
        range(&mut finite(Some(Mark::Keep))).or_else(|| range(&mut finite(None)))
    else {
        return (0.0, 1.0);
    };
    let span = if kept_high > kept_low {
        kept_high - kept_low
    } else {
        (kept_high.abs() * 0.05).max(1e-3)
    };
    let (clip_low, clip_high) = (kept_low - span, kept_high + span);
    let (mut low, mut high) =
        range(&mut finite(None).filter(|value| *value >= clip_low && *value <= clip_high))
            .unwrap_or((kept_low, kept_high));
    if let Some(sigma) = sigma.filter(|sigma| *sigma > 0.0) {
        for (_, value) in best {
            low = low.min(value - sigma);
            high = high.max(value + sigma);
        }
    }
    if high <= low {
        return (low - span, high + span);
    }
    (low, high)
}

/// Drops vertices that fall in the pixel column of their neighbours on both sides, keeping a
/// column's first and last: a monotone line through 10,000 keeps stays a few thousand points.
fn compress(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut kept: Vec<(f64, f64)> = Vec::with_capacity(points.len().min(4096));
    for (index, point) in points.iter().enumerate() {
        let column = point.0.floor();
        let previous_same = index > 0 && points[index - 1].0.floor() == column;
        let next_same = points
            .get(index + 1)
            .is_some_and(|next| next.0.floor() == column);
        if !(previous_same && next_same) {
            kept.push(*point);
        }
    }
    kept
}
