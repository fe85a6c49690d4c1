//! `dfh diag N --vs M`: one run's diagnostics side by side with another's (usually the best), as a
//! typed comparison for `--json` and a short text an agent can paste into its context.

use super::downsample::Series;
use super::flags::{Flag, GRADIENT_SECTION};
use super::metrics::{Goal, MetricsDoc, SectionEntry, EVAL_SECTION};
use super::number::{nan_safe, nan_safe_option};
use serde::Serialize;
use std::collections::BTreeSet;

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Comparison {
    pub this: RunHeader,
    pub other: Option<RunHeader>,
    /// Training curves and named-section series; gradient norms are in `gradient_norms`.
    pub series: Vec<SeriesRow>,
    pub gradient_norms: Vec<GradientRow>,
    /// Eval and named-section values, named `section/key`.
    pub values: Vec<ValueRow>,
    pub flags: Vec<Flag>,
    pub other_flags: Vec<Flag>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct RunHeader {
    pub experiment: u32,
    pub commit: String,
    pub status: String,
    pub metric_name: String,
    #[serde(with = "nan_safe_option")]
    pub metric_value: Option<f64>,
    pub goal: Goal,
    pub wall_seconds: f64,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SeriesRow {
    /// `section/name`.
    pub name: String,
    pub this: Option<SeriesSummary>,
    pub other: Option<SeriesSummary>,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct SeriesSummary {
    #[serde(with = "nan_safe")]
    pub final_value: f64,
    #[serde(with = "nan_safe")]
    pub min: f64,
    #[serde(with = "nan_safe")]
    pub max: f64,
    pub trend: Trend,
    /// Least-squares slope over the second half of the run, per 1000 steps.
    #[serde(with = "nan_safe")]
    pub slope_per_1k_steps: f64,
    pub last_step: u64,
    pub points: u64,
}

/// How a series moves over the second half of the run.
#[derive(Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Trend {
    Falling,
    Rising,
    Flat,
    Noisy,
    /// Fewer than three finite points.
    Unknown,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct GradientRow {
    pub group: String,
    pub this: Option<NormRange>,
    pub other: Option<NormRange>,
}

#[derive(Serialize, Clone, Copy, Debug, PartialEq)]
pub struct NormRange {
    #[serde(with = "nan_safe")]
    pub min: f64,
    #[serde(with = "nan_safe")]
    pub max: f64,
    #[serde(with = "nan_safe")]
    pub final_value: f64,
}

#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ValueRow {
    pub name: String,
    pub this: Option<serde_json::Value>,
    pub other: Option<serde_json::Value>,
}

pub fn compare(this: &MetricsDoc, other: Option<&MetricsDoc>) -> Comparison {
    let these = this.series_sections();
    let others = other.map(MetricsDoc::series_sections).unwrap_or_default();
    let mut names: BTreeSet<(String, String)> = BTreeSet::new();
    for sections in [&these, &others] {
        for (section, named) in sections {
            names.extend(named.keys().map(|name| (section.clone(), name.clone())));
        }
    }
    let lookup = |sections: &super::flags::SeriesSections, section: &str, name: &str| {
        sections
            .get(section)
            .and_then(|named| named.get(name))
            .cloned()
    };
    let mut series = Vec::new();
    let mut gradient_norms = Vec::new();
    for (section, name) in &names {
        let mine = lookup(&these, section, name);
        let theirs = lookup(&others, section, name);
        if section == GRADIENT_SECTION {
            gradient_norms.push(GradientRow {
                group: name.clone(),
                this: mine.as_ref().and_then(norm_range),
                other: theirs.as_ref().and_then(norm_range),
            });
        } else {
            series.push(SeriesRow {
                name: format!("{section}/{name}"),
                this: mine.as_ref().and_then(summarize),
                other: theirs.as_ref().and_then(summarize),
            });
        }
    }
    Comparison {
        this: header(this),
        other: other.map(header),
        series,
        gradient_norms,
        values: value_rows(this, other),
        flags: this.flags.clone(),
        other_flags: other
            .map(|document| document.flags.clone())
            .unwrap_or_default(),
    }
}

fn header(document: &MetricsDoc) -> RunHeader {
    RunHeader {
        experiment: document.experiment,
        commit: document.commit.clone(),
        status: document.status.clone(),
        metric_name: document.metric.name.clone(),
        metric_value: document.metric.value,
        goal: document.metric.goal,
        wall_seconds: document.harness.wall_seconds,
    }
}

fn scalar_values(document: &MetricsDoc) -> Vec<(String, serde_json::Value)> {
    let named = document
        .sections
        .iter()
        .map(|(name, entries)| (name.as_str(), entries));
    [(EVAL_SECTION, &document.eval)]
        .into_iter()
        .chain(named)
        .flat_map(|(section, entries)| {
            entries.iter().filter_map(move |(key, entry)| match entry {
                SectionEntry::Value(value) => Some((format!("{section}/{key}"), value.clone())),
                SectionEntry::Series(_) => None,
            })
        })
        .collect()
}

fn value_rows(this: &MetricsDoc, other: Option<&MetricsDoc>) -> Vec<ValueRow> {
    let mine = scalar_values(this);
    let theirs = other.map(scalar_values).unwrap_or_default();
    let mut rows: Vec<ValueRow> = mine
        .iter()
        .map(|(name, value)| ValueRow {
            name: name.clone(),
            this: Some(value.clone()),
            other: theirs
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.clone()),
        })
        .collect();
    for (name, value) in &theirs {
        if !mine.iter().any(|(key, _)| key == name) {
            rows.push(ValueRow {
                name: name.clone(),
                this: None,
                other: Some(value.clone()),
            });
        }
    }
    rows
}

fn norm_range(series: &Series) -> Option<NormRange> {
    let finite = series.finite_points();
    let last = series.values.last()?;
    Some(NormRange {
        min: finite
            .iter()
            .map(|point| point.value)
            .fold(f64::NAN, f64::min),
        max: finite
            .iter()
            .map(|point| point.value)
            .fold(f64::NAN, f64::max),
        final_value: *last,
    })
}

/// Final, extremes and trend of a series; `None` when it has no points.
pub fn summarize(series: &Series) -> Option<SeriesSummary> {
    let last = series.last()?;
    let finite = series.finite_points();
    let (trend, slope) = trend_of(series);
    Some(SeriesSummary {
        final_value: last.value,
        min: finite
            .iter()
            .map(|point| point.value)
            .fold(f64::NAN, f64::min),
        max: finite
            .iter()
            .map(|point| point.value)
            .fold(f64::NAN, f64::max),
        trend,
        slope_per_1k_steps: slope * 1000.0,
        last_step: last.step,
        points: series.original_count,
    })
}

/// A least-squares line through the finite points of the second half of the run (by step:
/// downsampling keeps more points where a curve moves). Flat: it moves less than 2% of the
/// series' whole range and scatters less than that too; noisy: the scatter around the line is
/// larger than the line's own change.
fn trend_of(series: &Series) -> (Trend, f64) {
    let finite = series.finite_points();
    let (first, last) = match (finite.first(), finite.last()) {
        (Some(first), Some(last)) => (first.step, last.step),
        _ => return (Trend::Unknown, f64::NAN),
    };
    let middle = first + (last - first) / 2;
    let tail = &finite[finite.partition_point(|point| point.step < middle)..];
    if tail.len() < 3 {
        return (Trend::Unknown, f64::NAN);
    }
    let count = tail.len() as f64;
    let mean_step = tail.iter().map(|point| point.step as f64).sum::<f64>() / count;
    let mean_value = tail.iter().map(|point| point.value).sum::<f64>() / count;
    let (mut covariance, mut variance) = (0.0, 0.0);
    for point in tail {
        let dx = point.step as f64 - mean_step;
        covariance += dx * (point.value - mean_value);
        variance += dx * dx;
    }
    let slope = if variance > 0.0 {
        covariance / variance
    } else {
        0.0
    };
    let residual = (tail
        .iter()
        .map(|point| {
            let fitted = mean_value + slope * (point.step as f64 - mean_step);
            (point.value - fitted).powi(2)
        })
        .sum::<f64>()
        / count)
        .sqrt();
    let span = tail.last().map_or(0, |point| point.step) as f64 - tail[0].step as f64;
    let change = slope * span;
    let (low, high) = finite
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), point| {
            (low.min(point.value), high.max(point.value))
        });
    let scale = high - low;
    let trend = if scale <= 0.0 || (change.abs() <= 0.02 * scale && residual <= 0.02 * scale) {
        Trend::Flat
    } else if residual > change.abs() {
        Trend::Noisy
    } else if change < 0.0 {
        Trend::Falling
    } else {
        Trend::Rising
    };
    (trend, slope)
}

impl Trend {
    pub fn word(self) -> &'static str {
        match self {
            Trend::Falling => "falling",
            Trend::Rising => "rising",
            Trend::Flat => "flat",
            Trend::Noisy => "noisy",
            Trend::Unknown => "-",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trends_name_the_shape_of_the_second_half() {
        let series = |value: fn(u64) -> f64| Series {
            steps: (0..100).collect(),
            values: (0..100).map(value).collect(),
            original_count: 100,
            non_finite: None,
        };
        let trend = |value: fn(u64) -> f64| summarize(&series(value)).map(|summary| summary.trend);
        assert_eq!(trend(|step| 10.0 - step as f64 * 0.1), Some(Trend::Falling));
        assert_eq!(trend(|step| step as f64), Some(Trend::Rising));
        assert_eq!(
            trend(|step| (10.0 - step as f64 * 0.2).max(1.0)),
            Some(Trend::Flat)
        );
        assert_eq!(
            trend(|step| if step % 2 == 0 { 1.0 } else { 2.0 }),
            Some(Trend::Noisy)
        );
    }
}
