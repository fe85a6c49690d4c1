//! The gradient-norm flags: a point far above its group's running median (instability), or a
//! norm that stays below 1e-7 (a module that stopped learning).

use super::downsample::{Point, Series};
use super::flags::{flag, median_of_sorted, Flag, FlagKind};
use super::number::short;

const VANISHING_NORM: f64 = 1e-7;
const SPIKE_FACTOR: f64 = 10.0;

pub(super) fn spike_flag(series: &Series, full: &str, group: &str) -> Option<Flag> {
    let mut earlier: Vec<f64> = Vec::new();
    let mut first: Option<(Point, f64)> = None;
    let mut spikes = 0usize;
    for point in series.finite_points() {
        if earlier.len() >= 5 {
            let median = median_of_sorted(&earlier);
            if median > 0.0 && point.value > SPIKE_FACTOR * median {
                spikes += 1;
                first.get_or_insert((point, median));
            }
        }
        let at = earlier.partition_point(|&value| value < point.value);
        earlier.insert(at, point.value);
    }
    let (point, median) = first?;
    let more = if spikes > 1 {
        format!(" ({spikes} spikes)")
    } else {
        String::new()
    };
    let message = format!(
        "gradient norm of {group} spiked to {} at step {}, {:.0}x its running median {}{more}",
        short(point.value),
        point.step,
        point.value / median,
        short(median)
    );
    Some(flag(
        FlagKind::GradientSpike,
        full,
        Some(point.step),
        message,
    ))
}

pub(super) fn vanishing_flag(series: &Series, full: &str, group: &str) -> Option<Flag> {
    let points = series.finite_points();
    let needed = 3usize.max(points.len().div_ceil(10));
    let mut run_start = 0usize;
    for (index, point) in points.iter().enumerate() {
        if point.value.abs() >= VANISHING_NORM {
            run_start = index + 1;
            continue;
        }
        let length = index + 1 - run_start;
        let run_ends_here = points
            .get(index + 1)
            .is_none_or(|next| next.value.abs() >= VANISHING_NORM);
        if length >= needed && run_ends_here {
            let start = points[run_start].step;
            let message = if index + 1 == points.len() {
                format!("gradient norm of {group} vanished (< 1e-7) from step {start}")
            } else {
                format!(
                    "gradient norm of {group} vanished (< 1e-7) for steps {start}-{}",
                    point.step
                )
            };
            return Some(flag(
                FlagKind::GradientVanishing,
                full,
                Some(start),
                message,
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::flags::tests::{curve, flags_for, kinds, noise};
    use super::super::flags::GRADIENT_SECTION;
    use super::*;

    #[test]
    fn gradient_spikes_are_flagged_against_their_running_median() {
        let series = curve(1000, |step| {
            if step == 340 {
                52.0
            } else {
                3.0 + 0.5 * noise(step)
            }
        });
        let flags = flags_for(GRADIENT_SECTION, "backbone", series);
        assert_eq!(kinds(&flags), vec![FlagKind::GradientSpike]);
        assert_eq!(flags[0].step, Some(340));
        assert!(flags[0]
            .message
            .starts_with("gradient norm of backbone spiked to 52 at step 340"));
        let calm = curve(1000, |step| 3.0 + 0.5 * noise(step));
        assert_eq!(flags_for(GRADIENT_SECTION, "backbone", calm), vec![]);
    }

    #[test]
    fn vanishing_gradients_are_flagged_when_sustained() {
        let series = curve(1000, |step| {
            if step >= 600 {
                1e-9
            } else {
                0.5 + 0.1 * noise(step)
            }
        });
        let flags = flags_for(GRADIENT_SECTION, "energy_head", series);
        assert_eq!(kinds(&flags), vec![FlagKind::GradientVanishing]);
        assert_eq!(
            flags[0].message,
            "gradient norm of energy_head vanished (< 1e-7) from step 600"
        );
        let blip = curve(1000, |step| {
            if step == 600 {
                0.0
            } else {
                0.5 + 0.1 * noise(step)
            }
        });
        assert_eq!(flags_for(GRADIENT_SECTION, "energy_head", blip), vec![]);
    }
}
