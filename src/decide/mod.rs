//! Keep or discard: compares a finished run with the current best, beyond the noise floor.

pub mod calibration;
pub mod noise;

use serde::Serialize;

use crate::config::{Goal, MetricConfig};
use crate::journal::Outcome;

/// What a run produced, as far as the decision needs it.
#[derive(Debug, Clone)]
pub struct RunResult {
    pub value: Option<f64>,
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    pub timed_out: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub outcome: Outcome,
    /// One line: why this outcome.
    pub reason: String,
}

/// The best so far as a decision sees it: the mean of its kept runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub mean: f64,
    pub runs: usize,
}

/// The noise the decision must clear: σ of one run and how many runs the candidate has.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Noise {
    pub sigma: f64,
    pub candidate_runs: usize,
}

/// Decides a run without noise statistics (kept for callers that have none).
pub fn decide(metric: &MetricConfig, best: Option<f64>, run: &RunResult) -> Decision {
    let reference = best.map(|mean| Reference { mean, runs: 1 });
    decide_with_noise(metric, reference.as_ref(), run, None)
}

/// Decides the outcome of a run (its value: the mean of the candidate's runs) against the
/// best's runs (None: this is the baseline), keeping a gain only beyond `noise_k`·σ of the
/// difference of the two means and at least `min_delta`.
pub fn decide_with_noise(
    metric: &MetricConfig,
    reference: Option<&Reference>,
    run: &RunResult,
    noise: Option<Noise>,
) -> Decision {
    let best = reference.map(|reference| reference.mean);
    let name = &metric.name;
    let decision = |outcome, reason: String| Decision { outcome, reason };
    if run.timed_out {
        return decision(Outcome::Timeout, "stopped by the timeout".into());
    }
    if run.exit_code != Some(0) {
        let how = match (run.exit_code, run.signal) {
            (_, Some(signal)) => format!("killed by signal {signal}"),
            (Some(code), None) => format!("exited with code {code}"),
            (None, None) => "ended abnormally".into(),
        };
        let printed = run
            .value
            .map(|value| format!(" (it printed {name} {value}, which does not count)"))
            .unwrap_or_default();
        return decision(
            Outcome::Crash,
            format!("the training command {how}{printed}"),
        );
    }
    let Some(value) = run.value else {
        return decision(
            Outcome::Crash,
            format!("{name} is missing from the log: the script must print a line matching the metric pattern"),
        );
    };
    let Some(best) = best else {
        if !value.is_finite() {
            return decision(Outcome::Crash, format!("the baseline's {name} is {value}"));
        }
        return decision(Outcome::Keep, "baseline".into());
    };
    if !value.is_finite() {
        return decision(
            Outcome::Discard,
            format!("{name} is {value}: not comparable"),
        );
    }
    let gain = metric.goal.gain(value, best);
    let verb = match metric.goal {
        Goal::Minimize => "lower",
        Goal::Maximize => "higher",
    };
    if gain <= 0.0 {
        return decision(
            Outcome::Discard,
            format!("{name} {value} is not {verb} than the best {best}"),
        );
    }
    if gain < metric.min_delta {
        return decision(
            Outcome::Discard,
            format!(
                "gain {} is below min_delta {}",
                round(gain),
                metric.min_delta
            ),
        );
    }
    if let (Some(noise), Some(reference)) = (noise, reference) {
        let sigma = noise::sigma_of_difference(noise.sigma, noise.candidate_runs, reference.runs);
        let threshold = metric.noise_k * sigma;
        if noise.sigma > 0.0 && gain < threshold {
            return decision(
                Outcome::Discard,
                format!(
                    "gain {} is within noise ({}σ = {})",
                    round(gain),
                    metric.noise_k,
                    round(threshold)
                ),
            );
        }
        if noise.sigma > 0.0 {
            return decision(
                Outcome::Keep,
                format!(
                    "gain {} over the best {} clears the noise ({}σ = {})",
                    round(gain),
                    round(best),
                    metric.noise_k,
                    round(threshold)
                ),
            );
        }
    }
    decision(
        Outcome::Keep,
        format!("gain {} over the best {}", round(gain), round(best)),
    )
}

/// Rounds for messages to 5 significant digits.
pub fn round(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    let digits = (4 - value.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(value: f64) -> RunResult {
        RunResult {
            value: Some(value),
            exit_code: Some(0),
            signal: None,
            timed_out: false,
        }
    }

    #[test]
    fn baseline_is_kept_and_later_runs_compare() {
        let metric = MetricConfig::default();
        assert_eq!(decide(&metric, None, &ok(1.0)).outcome, Outcome::Keep);
        assert_eq!(decide(&metric, Some(1.0), &ok(0.9)).outcome, Outcome::Keep);
        let worse = decide(&metric, Some(1.0), &ok(1.1));
        assert_eq!(worse.outcome, Outcome::Discard);
        assert_eq!(worse.reason, "val_bpb 1.1 is not lower than the best 1");
    }

    #[test]
    fn a_metric_from_a_failing_process_is_a_crash() {
        let metric = MetricConfig::default();
        let run = RunResult {
            value: Some(0.5),
            exit_code: Some(1),
            signal: None,
            timed_out: false,
        };
        let decision = decide(&metric, Some(1.0), &run);
        assert_eq!(decision.outcome, Outcome::Crash);
        assert!(decision.reason.contains("exited with code 1"));
    }

    #[test]
    fn min_delta_and_nan() {
        let metric = MetricConfig {
            min_delta: 0.01,
            ..MetricConfig::default()
        };
        assert_eq!(
            decide(&metric, Some(1.0), &ok(0.995)).outcome,
            Outcome::Discard
        );
        assert_eq!(
            decide(&metric, Some(1.0), &ok(f64::NAN)).outcome,
            Outcome::Discard
        );
        assert_eq!(decide(&metric, None, &ok(f64::NAN)).outcome, Outcome::Crash);
    }

    #[test]
    fn a_gain_inside_the_noise_floor_is_discarded_with_the_reason() {
        let metric = MetricConfig::default();
        let reference = Reference { mean: 1.0, runs: 3 };
        // σ = 0.002, one candidate run against 3: threshold 2·0.002·√(4/3) = 0.004619
        let noise = Some(Noise {
            sigma: 0.002,
            candidate_runs: 1,
        });
        let small = decide_with_noise(&metric, Some(&reference), &ok(0.9988), noise);
        assert_eq!(small.outcome, Outcome::Discard);
        assert_eq!(small.reason, "gain 0.0012 is within noise (2σ = 0.0046188)");
        let large = decide_with_noise(&metric, Some(&reference), &ok(0.98), noise);
        assert_eq!(large.outcome, Outcome::Keep);
        // noise_k = 0 keeps any gain.
        let loose = MetricConfig {
            noise_k: 0.0,
            ..MetricConfig::default()
        };
        assert_eq!(
            decide_with_noise(&loose, Some(&reference), &ok(0.9988), noise).outcome,
            Outcome::Keep
        );
    }

    #[test]
    fn rounds_for_messages() {
        assert_eq!(round(0.00412345), "0.0041234");
        assert_eq!(round(12.5), "12.5");
    }
}
