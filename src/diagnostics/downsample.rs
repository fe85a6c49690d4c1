//! Bounded series: a streaming min/max-per-bucket downsampler that keeps a curve's shape in at
//! most `MAX_POINTS` points, whatever the number of points pushed, so memory never grows with a
//! run's length.
//!
//! Points fall into equal-count buckets; each bucket keeps its lowest and highest finite point
//! (and its first non-finite one). When the buckets outgrow their budget, neighbours merge pairwise
//! and the bucket width doubles, so every part of the run keeps the same resolution. The first
//! point, the last point and the global minimum and maximum always survive.

use super::number::{nan_safe, nan_safe_vec};
use serde::{Deserialize, Serialize};

/// The most points a stored series keeps.
pub const MAX_POINTS: usize = 1000;

/// One observation of a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub step: u64,
    pub value: f64,
}

/// A (possibly downsampled) curve as stored in `metrics/<commit>.json`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub steps: Vec<u64>,
    #[serde(with = "nan_safe_vec")]
    pub values: Vec<f64>,
    /// How many points the run logged before downsampling.
    pub original_count: u64,
    /// Where the series first stopped being finite, counted over every logged point.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub non_finite: Option<NonFinite>,
}

/// The first non-finite value of a series and how many there were.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct NonFinite {
    pub first_step: u64,
    #[serde(with = "nan_safe")]
    pub first_value: f64,
    pub count: u64,
}

impl Series {
    /// The kept points in order.
    pub fn points(&self) -> impl Iterator<Item = Point> + '_ {
        self.steps
            .iter()
            .zip(&self.values)
            .map(|(&step, &value)| Point { step, value })
    }

    pub fn last(&self) -> Option<Point> {
        self.points().last()
    }

    /// The kept finite points in order.
    pub fn finite_points(&self) -> Vec<Point> {
        self.points()
            .filter(|point| point.value.is_finite())
            .collect()
    }
}

/// Downsamples an in-memory list of points (for example a TensorBoard import).
pub fn downsample(points: &[Point], max_points: usize) -> Series {
    let mut accumulator = SeriesAccumulator::new(max_points);
    for point in points {
        accumulator.push(*point);
    }
    accumulator.finish()
}

/// A point with its arrival index, so kept points keep their order and are not duplicated.
#[derive(Clone, Copy, Debug)]
struct Indexed {
    index: u64,
    point: Point,
}

#[derive(Clone, Copy, Debug, Default)]
struct Bucket {
    count: u64,
    low: Option<Indexed>,
    high: Option<Indexed>,
    first_non_finite: Option<Indexed>,
}

impl Bucket {
    fn add(&mut self, item: Indexed) {
        self.count += 1;
        if !item.point.value.is_finite() {
            self.first_non_finite.get_or_insert(item);
            return;
        }
        if self
            .low
            .is_none_or(|low| item.point.value < low.point.value)
        {
            self.low = Some(item);
        }
        if self
            .high
            .is_none_or(|high| item.point.value > high.point.value)
        {
            self.high = Some(item);
        }
    }

    /// Merges a later neighbour into this bucket; on ties the earlier point wins.
    fn absorb(&mut self, later: &Bucket) {
        self.count += later.count;
        if let Some(low) = later.low {
            if self.low.is_none_or(|own| low.point.value < own.point.value) {
                self.low = Some(low);
            }
        }
        if let Some(high) = later.high {
            if self
                .high
                .is_none_or(|own| high.point.value > own.point.value)
            {
                self.high = Some(high);
            }
        }
        if self.first_non_finite.is_none() {
            self.first_non_finite = later.first_non_finite;
        }
    }

    fn kept(&self) -> impl Iterator<Item = Indexed> {
        [self.low, self.high, self.first_non_finite]
            .into_iter()
            .flatten()
    }
}

/// Accepts points one at a time in bounded memory; `finish` yields the stored `Series`.
#[derive(Clone, Debug)]
pub struct SeriesAccumulator {
    max_points: usize,
    max_buckets: usize,
    bucket_width: u64,
    buckets: Vec<Bucket>,
    count: u64,
    first: Option<Indexed>,
    last: Option<Indexed>,
    non_finite: Option<NonFinite>,
}

impl SeriesAccumulator {
    /// `max_points` below 4 is raised to 4: first, last, minimum and maximum always stay.
    pub fn new(max_points: usize) -> Self {
        let max_points = max_points.max(4);
        let max_buckets = (max_points - 2) / 2;
        SeriesAccumulator {
            max_points,
            max_buckets,
            bucket_width: 1,
            buckets: Vec::with_capacity(max_buckets + 1),
            count: 0,
            first: None,
            last: None,
            non_finite: None,
        }
    }

    pub fn push(&mut self, point: Point) {
        let item = Indexed {
            index: self.count,
            point,
        };
        self.count += 1;
        self.first.get_or_insert(item);
        self.last = Some(item);
        if !point.value.is_finite() {
            let record = self.non_finite.get_or_insert(NonFinite {
                first_step: point.step,
                first_value: point.value,
                count: 0,
            });
            record.count += 1;
        }
        match self.buckets.last_mut() {
            Some(bucket) if bucket.count < self.bucket_width => bucket.add(item),
            _ => {
                let mut bucket = Bucket::default();
                bucket.add(item);
                self.buckets.push(bucket);
            }
        }
        if self.buckets.len() > self.max_buckets {
            self.merge_pairs();
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    fn merge_pairs(&mut self) {
        let merged = self
            .buckets
            .chunks(2)
            .map(|pair| {
                let mut bucket = pair[0];
                if let Some(later) = pair.get(1) {
                    bucket.absorb(later);
                }
                bucket
            })
            .collect();
        self.buckets = merged;
        self.bucket_width = self.bucket_width.saturating_mul(2);
    }

    fn kept(&self) -> Vec<Indexed> {
        let mut kept: Vec<Indexed> = self
            .buckets
            .iter()
            .flat_map(Bucket::kept)
            .chain(self.first)
            .chain(self.last)
            .collect();
        kept.sort_by_key(|item| item.index);
        kept.dedup_by_key(|item| item.index);
        kept
    }

    pub fn finish(mut self) -> Series {
        let mut kept = self.kept();
        // Non-finite points can add a third point to a bucket; merge until the budget holds.
        while kept.len() > self.max_points && self.buckets.len() > 1 {
            self.merge_pairs();
            kept = self.kept();
        }
        Series {
            steps: kept.iter().map(|item| item.point.step).collect(),
            values: kept.iter().map(|item| item.point.value).collect(),
            original_count: self.count,
            non_finite: self.non_finite,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wavy(count: u64) -> Vec<Point> {
        (0..count)
            .map(|step| Point {
                step,
                value: 3.0 / (1.0 + step as f64 / 1000.0) + 0.1 * (step as f64 / 37.0).sin(),
            })
            .collect()
    }

    #[test]
    fn long_series_keep_first_last_min_and_max_within_budget() {
        let mut points = wavy(100_000);
        points[31_337].value = -5.0; // the global minimum, deep inside a bucket
        points[77_777].value = 50.0; // the global maximum
        points[99_999].value = 1.2345; // a last point that is neither
        let series = downsample(&points, MAX_POINTS);
        assert!(
            series.steps.len() <= MAX_POINTS,
            "{} points",
            series.steps.len()
        );
        assert!(series.steps.len() > MAX_POINTS / 2);
        assert_eq!(series.original_count, 100_000);
        assert_eq!(series.steps.first(), Some(&0));
        assert_eq!(series.last(), Some(points[99_999]));
        assert!(series.points().any(|point| point == points[31_337]));
        assert!(series.points().any(|point| point == points[77_777]));
        assert!(series.steps.windows(2).all(|pair| pair[0] < pair[1]));
    }

    #[test]
    fn short_series_are_kept_exactly() {
        let points = wavy(900);
        let series = downsample(&points, MAX_POINTS);
        assert_eq!(series.points().collect::<Vec<_>>(), points);
    }

    #[test]
    fn a_falling_curve_stays_falling_and_spread_evenly() {
        let points: Vec<Point> = (0..50_000)
            .map(|step| Point {
                step,
                value: 1000.0 - step as f64,
            })
            .collect();
        let series = downsample(&points, 100);
        assert!(series.values.windows(2).all(|pair| pair[0] > pair[1]));
        let first_half = series.steps.iter().filter(|&&step| step < 25_000).count();
        let second_half = series.steps.len() - first_half;
        assert!(
            first_half.abs_diff(second_half) <= 4,
            "{first_half} vs {second_half}"
        );
    }

    #[test]
    fn non_finite_points_are_counted_and_shown() {
        let mut points = wavy(10_000);
        for point in &mut points[6_000..] {
            point.value = f64::NAN;
        }
        let series = downsample(&points, MAX_POINTS);
        assert!(series.steps.len() <= MAX_POINTS);
        let record = series.non_finite.unwrap_or(NonFinite {
            first_step: 0,
            first_value: 0.0,
            count: 0,
        });
        assert_eq!((record.first_step, record.count), (6_000, 4_000));
        assert!(series.values.last().is_some_and(|value| value.is_nan()));
        let nan_share = series.values.iter().filter(|value| value.is_nan()).count();
        assert!(
            nan_share > 50,
            "the NaN tail is visible: {nan_share} points"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_series_keeps_first_last_and_extremes_within_budget(
            values in proptest::collection::vec(-1e6f64..1e6, 1..5000),
            max_points in 4usize..300,
        ) {
            let points: Vec<Point> = values
                .iter()
                .enumerate()
                .map(|(step, &value)| Point { step: step as u64, value })
                .collect();
            let series = downsample(&points, max_points);
            proptest::prop_assert!(series.steps.len() <= max_points);
            proptest::prop_assert_eq!(series.original_count, points.len() as u64);
            let kept: Vec<Point> = series.points().collect();
            proptest::prop_assert_eq!(kept.first(), points.first());
            proptest::prop_assert_eq!(kept.last(), points.last());
            let lowest = values.iter().copied().fold(f64::INFINITY, f64::min);
            let highest = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            proptest::prop_assert!(series.values.contains(&lowest));
            proptest::prop_assert!(series.values.contains(&highest));
        }
    }
}
