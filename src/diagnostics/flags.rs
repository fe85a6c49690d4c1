//! Automatic flags on a run's curves — NaN/inf, divergence, a flat curve, gradient spikes or
//! vanishing, a series the best run had — so the agent learns *why* a metric moved without reading
//! a thousand points.
//!
//! Rules (on the stored, downsampled series; window medians make them robust to noise):
//! - **non_finite**: any NaN/inf point in any series (counted over every logged point).
//! - **divergence** (loss-like names: `loss`, `bpb`, `nll`, `ppl`, `perplexity`): with the
//!   finite points cut into up to 10 windows and each window reduced to its median, the final
//!   median has given back more than half of the descent from the first median to the lowest one
//!   *and* the rise exceeds 5% of the series' scale; or the final median is above twice a
//!   positive initial one.
//! - **flat**: a series (not a gradient norm, not a schedule such as `lr`) whose window medians
//!   (up to 20) stop moving: over a tail of at least a quarter of the run, their range is at most
//!   5% of the range over the equally long stretch just before it, which itself moved.
//! - **gradient_spike**: a gradient-norm point above 10x the running median of its group's
//!   earlier points (after at least 5 of them).
//! - **gradient_vanishing**: a gradient norm below 1e-7 for a sustained run of points (at least
//!   3, and at least a tenth of the series).
//! - **missing_series**: a series the best run logged that this run did not.

use super::downsample::{Point, Series};
use super::events::DEFAULT_SECTION;
use super::gradients::{spike_flag, vanishing_flag};
use super::number::{non_finite_text, short};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// The section whose series are gradient norms per module group.
pub const GRADIENT_SECTION: &str = "gradient_norms";

/// section -> series name -> series.
pub type SeriesSections = BTreeMap<String, BTreeMap<String, Series>>;

#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    NonFinite,
    Divergence,
    Flat,
    GradientSpike,
    GradientVanishing,
    MissingSeries,
}

/// One automatic finding about a run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Flag {
    pub kind: FlagKind,
    /// Full series name, `section/name`.
    pub series: String,
    pub step: Option<u64>,
    /// One line of text for the agent.
    pub message: String,
}

/// What the flags need to know about the best run so far.
#[derive(Clone, Debug, Default)]
pub struct BestRun {
    pub experiment: u32,
    /// Full names (`section/name`) of every series the best run logged.
    pub series_names: BTreeSet<String>,
}

/// All flags of one run, ordered by kind then series.
pub fn compute_flags(series: &SeriesSections, best: Option<&BestRun>) -> Vec<Flag> {
    let mut flags = Vec::new();
    for (section, named) in series {
        for (name, one) in named {
            let full = format!("{section}/{name}");
            let label = display_name(section, name);
            flags.extend(non_finite_flag(one, &full, &label));
            if section == GRADIENT_SECTION {
                flags.extend(spike_flag(one, &full, name));
                flags.extend(vanishing_flag(one, &full, name));
                continue;
            }
            if is_loss_like(name) {
                flags.extend(divergence_flag(one, &full, &label));
            }
            if !is_schedule_like(name) {
                flags.extend(flat_flag(one, &full, &label));
            }
        }
    }
    if let Some(best) = best {
        for missing in &best.series_names {
            let present = missing.split_once('/').is_some_and(|(section, name)| {
                series
                    .get(section)
                    .is_some_and(|named| named.contains_key(name))
            });
            if !present {
                flags.push(Flag {
                    kind: FlagKind::MissingSeries,
                    series: missing.clone(),
                    step: None,
                    message: format!(
                        "missing series {missing}, present in the best run #{}",
                        best.experiment
                    ),
                });
            }
        }
    }
    flags.sort_by(|a, b| (a.kind, &a.series).cmp(&(b.kind, &b.series)));
    flags
}

/// `task_loss` for training curves, `energy_calibration/separation` elsewhere.
pub fn display_name(section: &str, name: &str) -> String {
    if section == DEFAULT_SECTION {
        name.to_string()
    } else {
        format!("{section}/{name}")
    }
}

fn name_tokens(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(|character: char| !character.is_ascii_alphanumeric())
        .filter(|token| !token.is_empty())
        .map(str::to_ascii_lowercase)
}

/// A series where lower is better and a rise means trouble.
pub fn is_loss_like(name: &str) -> bool {
    name_tokens(name).any(|token| {
        matches!(
            token.as_str(),
            "loss" | "bpb" | "nll" | "ppl" | "perplexity"
        ) || token.ends_with("loss")
    })
}

/// A series that is meant to stop moving (a learning-rate schedule, a clock).
fn is_schedule_like(name: &str) -> bool {
    name_tokens(name).any(|token| {
        matches!(
            token.as_str(),
            "lr" | "learning"
                | "momentum"
                | "warmup"
                | "schedule"
                | "epoch"
                | "step"
                | "steps"
                | "time"
                | "seconds"
                | "tokens"
                | "wd"
                | "decay"
                | "beta1"
                | "beta2"
                | "progress"
        )
    })
}

fn non_finite_flag(series: &Series, full: &str, label: &str) -> Option<Flag> {
    let (step, value, count) = match series.non_finite {
        Some(record) => (record.first_step, record.first_value, record.count),
        None => {
            let first = series.points().find(|point| !point.value.is_finite())?;
            let count = series
                .values
                .iter()
                .filter(|value| !value.is_finite())
                .count();
            (first.step, first.value, count as u64)
        }
    };
    let word = match non_finite_text(value) {
        Some("nan") => "NaN",
        Some(text) => text,
        None => "non-finite",
    };
    let ends_non_finite = series.values.last().is_some_and(|last| !last.is_finite());
    let message = if ends_non_finite {
        format!("{label} is {word} from step {step}")
    } else {
        format!("{label} was {word} at step {step} ({count} non-finite points)")
    };
    Some(flag(FlagKind::NonFinite, full, Some(step), message))
}

fn divergence_flag(series: &Series, full: &str, label: &str) -> Option<Flag> {
    let points = series.finite_points();
    if points.len() < 6 {
        return None;
    }
    let medians = window_medians(&points, 10);
    let initial = medians.first()?.median;
    let last = medians.last()?.median;
    let lowest = medians
        .iter()
        .map(|window| window.median)
        .fold(f64::INFINITY, f64::min);
    let descent = initial - lowest;
    let rise = last - lowest;
    let scale = initial.abs().max(lowest.abs()).max(descent);
    let gave_back = descent > 0.0 && rise > 0.5 * descent && rise > 0.05 * scale;
    let doubled = initial > 0.0 && last > 2.0 * initial;
    if !(gave_back || doubled) {
        return None;
    }
    let minimum = points.iter().min_by(|a, b| a.value.total_cmp(&b.value))?;
    let message = format!(
        "{label} diverged: ends near {}, up from its minimum {} at step {} (started at {})",
        short(last),
        short(minimum.value),
        minimum.step,
        short(initial)
    );
    Some(flag(
        FlagKind::Divergence,
        full,
        Some(minimum.step),
        message,
    ))
}

fn flat_flag(series: &Series, full: &str, label: &str) -> Option<Flag> {
    let points = series.finite_points();
    if points.len() < 8 {
        return None;
    }
    let medians = window_medians(&points, 20);
    let count = medians.len();
    let shortest_tail = count.div_ceil(4).max(2);
    for start in 1..=count.saturating_sub(shortest_tail) {
        let tail = range(&medians[start..]);
        let before_from = (2 * start).saturating_sub(count);
        let before = range(&medians[before_from..=start]);
        let tail_points = &points[medians[start].from..];
        let (low, high) = extremes(tail_points.iter().map(|point| point.value));
        if before > 0.0 && tail <= 0.05 * before && before > 0.5 * (high - low) {
            let step = plateau_start(&points, &medians, start);
            let message = format!(
                "{label} flat after step {step} (moved {} before, {} after)",
                short(before),
                short(tail)
            );
            return Some(flag(FlagKind::Flat, full, Some(step), message));
        }
    }
    None
}

/// Windows are coarse: the plateau starts after the last point, from the window before the
/// flat one on, that lies outside the band of values the later windows span.
fn plateau_start(points: &[Point], medians: &[Window], start: usize) -> u64 {
    let band_from = medians
        .get(start + 1)
        .map_or(medians[start].from, |window| window.from);
    let (low, high) = extremes(points[band_from..].iter().map(|point| point.value));
    // A little slack: a finite sample rarely reaches the band's true edges.
    let slack = 0.25 * (high - low);
    let (low, high) = (low - slack, high + slack);
    let search_from = medians[start - 1].from;
    let outside = points[search_from..band_from]
        .iter()
        .rposition(|point| point.value < low || point.value > high);
    let index = outside.map_or(medians[start].from, |offset| search_from + offset + 1);
    points
        .get(index)
        .map_or(medians[start].first_step, |point| point.step)
}

fn extremes(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(low, high), value| {
        (low.min(value), high.max(value))
    })
}

pub(super) fn flag(kind: FlagKind, series: &str, step: Option<u64>, message: String) -> Flag {
    Flag {
        kind,
        series: series.to_string(),
        step,
        message,
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    pub first_step: u64,
    pub median: f64,
    /// Index of the window's first point.
    pub from: usize,
}

/// Cuts points into up to `windows` runs of nearly equal count; the median of each.
pub(crate) fn window_medians(points: &[Point], windows: usize) -> Vec<Window> {
    let count = windows.min(points.len());
    (0..count)
        .filter_map(|window| {
            let from = window * points.len() / count;
            let to = (window + 1) * points.len() / count;
            let chunk = points.get(from..to)?;
            let mut values: Vec<f64> = chunk.iter().map(|point| point.value).collect();
            values.sort_by(f64::total_cmp);
            Some(Window {
                first_step: chunk.first()?.step,
                median: median_of_sorted(&values),
                from,
            })
        })
        .collect()
}

pub(super) fn median_of_sorted(values: &[f64]) -> f64 {
    match values.len() {
        0 => f64::NAN,
        length if length % 2 == 1 => values[length / 2],
        length => (values[length / 2 - 1] + values[length / 2]) / 2.0,
    }
}

fn range(windows: &[Window]) -> f64 {
    let (low, high) = extremes(windows.iter().map(|window| window.median));
    high - low
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::downsample::{downsample, MAX_POINTS};
    use super::*;

    pub(crate) fn curve(steps: u64, value: impl Fn(u64) -> f64) -> Series {
        let points: Vec<Point> = (0..steps)
            .map(|step| Point {
                step,
                value: value(step),
            })
            .collect();
        downsample(&points, MAX_POINTS)
    }

    /// A deterministic wiggle in [-1, 1], standing in for minibatch noise.
    pub(crate) fn noise(step: u64) -> f64 {
        ((step.wrapping_mul(2_654_435_761) % 1000) as f64 / 500.0) - 1.0
    }

    pub(crate) fn clean_loss(step: u64) -> f64 {
        2.0 + 3.0 * (-(step as f64) / 400.0).exp() + 0.02 * noise(step)
    }

    pub(crate) fn flags_for(section: &str, name: &str, series: Series) -> Vec<Flag> {
        let mut sections = SeriesSections::new();
        sections
            .entry(section.to_string())
            .or_default()
            .insert(name.to_string(), series);
        compute_flags(&sections, None)
    }

    pub(crate) fn kinds(flags: &[Flag]) -> Vec<FlagKind> {
        flags.iter().map(|flag| flag.kind).collect()
    }

    #[test]
    fn a_clean_decreasing_curve_raises_no_flag() {
        let flags = flags_for("training_curves", "task_loss", curve(1000, clean_loss));
        assert_eq!(flags, vec![]);
        let long = flags_for(
            "training_curves",
            "task_loss",
            curve(200_000, |step| clean_loss(step / 200)),
        );
        assert_eq!(long, vec![]);
    }

    #[test]
    fn a_nan_tail_is_flagged_from_its_first_step() {
        let series = curve(1000, |step| {
            if step >= 312 {
                f64::NAN
            } else {
                clean_loss(step)
            }
        });
        let flags = flags_for("training_curves", "task_loss", series);
        assert_eq!(kinds(&flags), vec![FlagKind::NonFinite]);
        assert_eq!(flags[0].message, "task_loss is NaN from step 312");
        assert_eq!(flags[0].series, "training_curves/task_loss");
        assert_eq!(flags[0].step, Some(312));
    }

    #[test]
    fn a_single_inf_is_flagged_at_its_step() {
        let series = curve(1000, |step| {
            if step == 40 {
                f64::INFINITY
            } else {
                clean_loss(step)
            }
        });
        let flags = flags_for("energy_calibration", "separation", series);
        assert_eq!(kinds(&flags), vec![FlagKind::NonFinite]);
        assert_eq!(
            flags[0].message,
            "energy_calibration/separation was inf at step 40 (1 non-finite points)"
        );
    }

    #[test]
    fn a_loss_that_climbs_back_up_diverges() {
        let series = curve(1000, |step| {
            let base = if step < 500 {
                clean_loss(step)
            } else {
                clean_loss(500) + (step - 500) as f64 / 100.0
            };
            base + 0.02 * noise(step)
        });
        let flags = flags_for("training_curves", "total_loss", series);
        assert_eq!(kinds(&flags), vec![FlagKind::Divergence], "{flags:?}");
        assert!(
            flags[0]
                .message
                .starts_with("total_loss diverged: ends near "),
            "{}",
            flags[0].message
        );
        let blown_up = curve(1000, |step| {
            1.0 + (step as f64 / 100.0).powi(2) + 0.01 * noise(step)
        });
        let flags = flags_for("training_curves", "task_loss", blown_up);
        assert!(kinds(&flags).contains(&FlagKind::Divergence), "{flags:?}");
    }

    #[test]
    fn a_curve_that_stops_moving_is_flat_from_that_step() {
        let series = curve(1000, |step| {
            if step < 200 {
                3.0 - step as f64 / 100.0
            } else {
                1.0
            }
        });
        let flags = flags_for("training_curves", "energy_loss", series);
        assert_eq!(kinds(&flags), vec![FlagKind::Flat]);
        assert!(
            flags[0]
                .message
                .starts_with("energy_loss flat after step 200"),
            "{}",
            flags[0].message
        );
        let noisy_plateau = curve(1000, |step| {
            (if step < 300 {
                3.0 - step as f64 / 150.0
            } else {
                1.0
            }) + 0.001 * noise(step)
        });
        let flags = flags_for("training_curves", "energy_loss", noisy_plateau);
        let step = flags.first().and_then(|flag| flag.step).unwrap_or_default();
        assert!((300..=304).contains(&step), "{flags:?}");
        let schedule = curve(
            1000,
            |step| if step < 200 { step as f64 * 1e-5 } else { 2e-3 },
        );
        assert_eq!(flags_for("training_curves", "lr", schedule), vec![]);
    }

    #[test]
    fn pure_noise_is_neither_flat_nor_diverging() {
        let flags = flags_for(
            "training_curves",
            "task_loss",
            curve(1000, |step| 1.0 + 0.1 * noise(step)),
        );
        assert_eq!(flags, vec![]);
    }

    #[test]
    fn a_series_of_the_best_run_that_is_missing_is_flagged() {
        let mut sections = SeriesSections::new();
        sections
            .entry("training_curves".to_string())
            .or_default()
            .insert("task_loss".to_string(), curve(100, clean_loss));
        let best = BestRun {
            experiment: 7,
            series_names: ["training_curves/task_loss", "training_curves/energy_loss"]
                .map(String::from)
                .into(),
        };
        let flags = compute_flags(&sections, Some(&best));
        assert_eq!(kinds(&flags), vec![FlagKind::MissingSeries]);
        assert_eq!(
            flags[0].message,
            "missing series training_curves/energy_loss, present in the best run #7"
        );
    }
}
