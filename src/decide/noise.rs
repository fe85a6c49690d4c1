//! The noise floor: how much the metric moves between runs of the same code with different
//! seeds, and the statistics that keep a gain only when it stands clear of that noise.

use serde::{Deserialize, Serialize};

/// The seed-to-seed spread of the metric, measured by repeated runs of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoiseFloor {
    /// The experiment whose code was rerun.
    pub experiment: u32,
    pub values: Vec<f64>,
    pub mean: f64,
    /// Sample standard deviation (n − 1) of `values`.
    pub sigma: f64,
}

impl NoiseFloor {
    pub fn measure(experiment: u32, values: &[f64]) -> Option<Self> {
        let (mean, sigma) = mean_and_sigma(values)?;
        Some(Self {
            experiment,
            values: values.to_vec(),
            mean,
            sigma,
        })
    }

    /// "noise floor σ = 0.0021 from 3 runs"
    pub fn describe(&self) -> String {
        format!(
            "noise floor σ = {} from {} runs",
            super::round(self.sigma),
            self.values.len()
        )
    }
}

/// A note when the best has moved more than `rebaseline`·σ from where the floor was measured.
pub fn stale(
    floor: &NoiseFloor,
    best_experiment: u32,
    best_value: f64,
    rebaseline: f64,
) -> Option<String> {
    if rebaseline <= 0.0 || floor.sigma <= 0.0 || floor.experiment == best_experiment {
        return None;
    }
    let moved = (best_value - floor.mean).abs() / floor.sigma;
    (moved > rebaseline).then(|| {
        format!(
            "the best moved {moved:.0}σ from where the noise floor was measured (#{}); re-measure it on the best with `dfh noise`",
            floor.experiment
        )
    })
}

/// Mean and sample standard deviation; σ is 0 for a single value.
pub fn mean_and_sigma(values: &[f64]) -> Option<(f64, f64)> {
    let finite: Vec<f64> = values
        .iter()
        .copied()
        .filter(|value| value.is_finite())
        .collect();
    if finite.is_empty() {
        return None;
    }
    let count = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / count;
    if finite.len() < 2 {
        return Some((mean, 0.0));
    }
    let variance = finite
        .iter()
        .map(|value| (value - mean).powi(2))
        .sum::<f64>()
        / (count - 1.0);
    Some((mean, variance.sqrt()))
}

/// σ of the difference of two means, of `candidate_runs` and `reference_runs` runs each, when
/// every run has standard deviation `sigma`: σ·√(1/m + 1/n).
pub fn sigma_of_difference(sigma: f64, candidate_runs: usize, reference_runs: usize) -> f64 {
    let m = candidate_runs.max(1) as f64;
    let n = reference_runs.max(1) as f64;
    sigma * (1.0 / m + 1.0 / n).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_match_hand_computed_values() {
        // mean 2, deviations -1, 0, 1: variance 2 / 2 = 1.
        let (mean, sigma) = mean_and_sigma(&[1.0, 2.0, 3.0]).unwrap();
        assert!((mean - 2.0).abs() < 1e-12);
        assert!((sigma - 1.0).abs() < 1e-12);
        // 0.9970, 0.9990, 1.0010: mean 0.999, σ = 0.002.
        let floor = NoiseFloor::measure(1, &[0.9970, 0.9990, 1.0010]).unwrap();
        assert!((floor.sigma - 0.002).abs() < 1e-9);
        assert_eq!(floor.describe(), "noise floor σ = 0.002 from 3 runs");
        // One candidate run against three baseline runs: σ·√(1 + 1/3).
        let expected = 0.002 * (4.0_f64 / 3.0).sqrt();
        assert!((sigma_of_difference(0.002, 1, 3) - expected).abs() < 1e-12);
        // Two against two: σ·1.
        assert!((sigma_of_difference(0.002, 2, 2) - 0.002).abs() < 1e-12);
        assert_eq!(mean_and_sigma(&[5.0]), Some((5.0, 0.0)));
        assert_eq!(mean_and_sigma(&[]), None);
    }
}
