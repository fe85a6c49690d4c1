//! Seconds per experiment: one dot per run, coloured by outcome, with the configured time
//! budget as a dashed line.

use super::svg::{self, Canvas, Frame, Marker, Scale};
use super::{ChartPoint, Mark, MARKER_LIMIT};

pub const HEIGHT: f64 = 320.0;

pub fn seconds(points: &[ChartPoint], budget_seconds: Option<f64>) -> String {
    let mut canvas = Canvas::new("chart-seconds", "wall-clock seconds per experiment", HEIGHT);
    let timed: Vec<&ChartPoint> = points
        .iter()
        .filter(|point| point.seconds.is_some_and(f64::is_finite))
        .collect();
    let (Some(first), Some(last)) = (timed.first(), timed.last()) else {
        canvas.text(
            (svg::WIDTH / 2.0, HEIGHT / 2.0),
            "no timed experiment yet",
            "middle",
            "label",
        );
        return canvas.finish();
    };
    let frame = Frame::standard(HEIGHT);
    let longest = timed
        .iter()
        .filter_map(|point| point.seconds)
        .fold(0.0_f64, f64::max);
    // A budget far above every run would squash the dots to the axis: it is then only named.
    let budget_shown = budget_seconds.filter(|budget| *budget <= longest * 2.0);
    let most = budget_shown.unwrap_or(0.0).max(longest).max(1.0);
    let x = Scale::new(
        f64::from(first.number) - 0.5,
        f64::from(last.number) + 0.5,
        frame.left,
        frame.right,
    );
    let y = Scale::new(0.0, most * 1.08, frame.bottom, frame.top);
    canvas.axes(&frame, &x, &y, "experiment number", "seconds");
    if let Some(budget) = budget_shown {
        let pixel = y.map(budget);
        canvas.line((frame.left, pixel), (frame.right, pixel), "budget");
    }
    for (mark, class) in [
        (Mark::Discard, "discard"),
        (Mark::Crash, "crashfill"),
        (Mark::Keep, "keep"),
    ] {
        let dots: Vec<(f64, f64, ())> = timed
            .iter()
            .filter(|point| point.mark == mark)
            .map(|point| {
                (
                    x.map(f64::from(point.number)),
                    point.seconds.unwrap_or_default(),
                    (),
                )
            })
            .collect();
        for (pixel_x, value, ()) in svg::thin(&dots, MARKER_LIMIT) {
            canvas.circle((pixel_x, y.map(value)), 3.5, class, "");
        }
    }
    let mut legend = vec![
        (Marker::Dot("keep"), "keep".to_string()),
        (Marker::Dot("discard"), "discard".to_string()),
        (Marker::Dot("crashfill"), "crash".to_string()),
    ];
    match (budget_seconds, budget_shown) {
        (Some(budget), Some(_)) => legend.push((
            Marker::Line("budget"),
            format!("time budget ({budget:.0} s)"),
        )),
        (Some(budget), None) => legend.push((
            Marker::Line("budget"),
            format!("time budget {budget:.0} s, far above"),
        )),
        _ => {}
    }
    canvas.legend(frame.right, 24.0, &legend);
    canvas.finish()
}
