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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Goal;

    fn points(count: u32) -> Vec<ChartPoint> {
        let mut best = 1.0;
        (1..=count)
            .map(|number| {
                let wobble = f64::from(number * 7919 % 101) / 10_000.0;
                let (mark, value) = match number % 10 {
                    0 => (Mark::Crash, None),
                    1 | 4 => {
                        best -= 0.001;
                        (Mark::Keep, Some(best))
                    }
                    _ => (Mark::Discard, Some(best + wobble)),
                };
                ChartPoint {
                    number,
                    title: format!("idea {number}"),
                    value,
                    mark,
                    seconds: Some(290.0 + wobble * 100.0),
                    direction: Some(["optimizer", "<b>attention</b>"][number as usize % 2].into()),
                }
            })
            .collect()
    }

    fn all(points: &[ChartPoint], sigma: Option<f64>) -> String {
        [
            progress::progress(&progress::ProgressInput {
                points,
                metric: "val_bpb",
                goal: Goal::Minimize,
                noise_sigma: sigma,
                read_through: Some(points.len() as u32 / 2),
            }),
            directions::directions(points),
            seconds::seconds(points, Some(300.0)),
            curves::curves(None, None),
        ]
        .concat()
    }

    #[test]
    fn the_same_input_draws_the_same_bytes() {
        let points = points(300);
        assert_eq!(all(&points, Some(0.002)), all(&points, Some(0.002)));
    }

    #[test]
    fn ten_thousand_experiments_stay_a_bounded_drawing() {
        let svg = all(&points(10_000), None);
        let markers = svg.matches("<circle").count() + svg.matches("<path").count();
        // At most two markers per pixel column (about 1,100) per kind, in two charts.
        assert!(markers < 12_000, "{markers} markers");
        assert!(svg.len() < 1_000_000, "{} bytes", svg.len());
    }

    #[test]
    fn the_noise_band_is_drawn_only_when_known() {
        let points = points(50);
        assert!(all(&points, Some(0.002)).contains("class=\"noise\""));
        assert!(!all(&points, None).contains("class=\"noise\""));
    }

    #[test]
    fn labels_are_text_not_markup() {
        let svg = all(&points(20), None);
        assert!(svg.contains("&lt;b&gt;attention&lt;/b&gt;"));
        assert!(!svg.contains("<b>"));
    }
}
