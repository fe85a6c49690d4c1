//! Keep or discard: compares a finished run with the current best.

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

/// Decides the outcome of a run against `best` (None: this is the baseline).
pub fn decide(metric: &MetricConfig, best: Option<f64>, run: &RunResult) -> Decision {
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
    decision(
        Outcome::Keep,
        format!("gain {} over the best {best}", round(gain)),
    )
}

/// Rounds for messages to 4 significant digits.
pub fn round(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return value.to_string();
    }
    let digits = (3 - value.abs().log10().floor() as i32).clamp(0, 12) as usize;
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
    fn rounds_for_messages() {
        assert_eq!(round(0.00412345), "0.004123");
        assert_eq!(round(12.5), "12.5");
    }
}
