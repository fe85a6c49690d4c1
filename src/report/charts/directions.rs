//! Direction productivity: one stacked bar per research direction (kept, discarded, crashed),
//! longest first, with "k of n kept" beside each bar.

use std::collections::BTreeMap;

use super::svg::{self, Canvas, Marker, Scale};
use super::{ChartPoint, Mark};

/// The most directions drawn; the rest are summed into one "other" bar.
pub const MAX_BARS: usize = 12;
const ROW: f64 = 30.0;
const LABEL_WIDTH: f64 = 220.0;

/// Experiments of one direction, by outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    pub kept: usize,
    pub discarded: usize,
    pub crashed: usize,
}

impl Tally {
    pub fn total(&self) -> usize {
        self.kept + self.discarded + self.crashed
    }

    fn add(&mut self, other: &Tally) {
        self.kept += other.kept;
        self.discarded += other.discarded;
        self.crashed += other.crashed;
    }
}

/// Tallies per direction, most experiments first (ties by name); experiments without a
/// direction count as "(none)".
pub fn tally(points: &[ChartPoint]) -> Vec<(String, Tally)> {
    let mut by_direction: BTreeMap<&str, Tally> = BTreeMap::new();
    for point in points {
        let tally = by_direction
            .entry(point.direction.as_deref().unwrap_or("(none)"))
            .or_default();
        match point.mark {
            Mark::Keep => tally.kept += 1,
            Mark::Discard => tally.discarded += 1,
            Mark::Crash => tally.crashed += 1,
        }
    }
    let mut rows: Vec<(String, Tally)> = by_direction
        .into_iter()
        .map(|(name, tally)| (name.to_string(), tally))
        .collect();
    rows.sort_by(|a, b| b.1.total().cmp(&a.1.total()).then(a.0.cmp(&b.0)));
    if rows.len() > MAX_BARS {
        let mut other = Tally::default();
        let count = rows.len() - (MAX_BARS - 1);
        for (_, tally) in rows.drain(MAX_BARS - 1..) {
            other.add(&tally);
        }
        rows.push((format!("{count} other directions"), other));
    }
    rows
}

pub fn directions(points: &[ChartPoint]) -> String {
    let rows = tally(points);
    let height = 70.0 + ROW * rows.len().max(1) as f64 + 40.0;
    let mut canvas = Canvas::new(
        "chart-directions",
        "experiments per research direction, by outcome",
        height,
    );
    if rows.is_empty() {
        canvas.text(
            (svg::WIDTH / 2.0, height / 2.0),
            "no finished experiment yet",
            "middle",
            "label",
        );
        return canvas.finish();
    }
    let top = 50.0;
    let left = LABEL_WIDTH;
    let right = svg::WIDTH - 150.0;
    let most = rows
        .iter()
        .map(|(_, tally)| tally.total())
        .max()
        .unwrap_or(1) as f64;
    let x = Scale::new(0.0, most, left, right);
    let bottom = top + ROW * rows.len() as f64;
    let (ticks, step) = svg::ticks(0.0, most, 8);
    for value in ticks.into_iter().filter(|value| value.fract() == 0.0) {
        let pixel = x.map(value);
        canvas.line((pixel, top - 6.0), (pixel, bottom), "grid");
        canvas.text(
            (pixel, bottom + 18.0),
            &svg::tick_label(value, step.max(1.0)),
            "middle",
            "small",
        );
    }
    canvas.text(
        ((left + right) / 2.0, bottom + 38.0),
        "experiments",
        "middle",
        "label",
    );
    for (index, (name, tally)) in rows.iter().enumerate() {
        let y = top + ROW * index as f64;
        canvas.text(
            (left - 10.0, y + ROW / 2.0 + 4.0),
            &svg::shorten(name, 28),
            "end",
            "",
        );
        let mut start = left;
        for (count, class) in [
            (tally.kept, "keep"),
            (tally.discarded, "discard"),
            (tally.crashed, "crashfill"),
        ] {
            let width = x.map(count as f64) - left;
            canvas.rect(start, y + 5.0, width, ROW - 10.0, class);
            start += width;
        }
        canvas.text(
            (start + 8.0, y + ROW / 2.0 + 4.0),
            &format!("{} of {} kept", tally.kept, tally.total()),
            "start",
            "small",
        );
    }
    canvas.line((left, top - 6.0), (left, bottom), "axis");
    canvas.legend(
        svg::WIDTH - 24.0,
        24.0,
        &[
            (Marker::Block("keep"), "kept".into()),
            (Marker::Block("discard"), "discarded".into()),
            (Marker::Block("crashfill"), "crashed".into()),
        ],
    );
    canvas.finish()
}
