//! Predictions graded: for every finished experiment whose hypothesis stated a value, whether
//! the direction was right, how far off it was, and whether it fell within the noise floor.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::config::Goal;
use crate::journal::{Outcome, Phase, State};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grade {
    pub experiment: u32,
    pub predicted: f64,
    pub actual: f64,
    /// The prediction said better (or worse) than the best before, and so it was.
    pub direction_right: bool,
    /// actual − predicted.
    pub error: f64,
    /// |actual − predicted| ≤ noise_k·σ of the noise floor.
    pub within_noise: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Calibration {
    pub graded: usize,
    pub direction_right: usize,
    pub within_noise: usize,
    pub mean_absolute_error: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CalibrationReport {
    pub overall: Calibration,
    pub by_direction: BTreeMap<String, Calibration>,
}

/// Grades one experiment against the best before it.
pub fn grade(
    experiment: u32,
    predicted: f64,
    actual: f64,
    best_before: f64,
    goal: Goal,
    tolerance: f64,
) -> Grade {
    let predicted_gain = goal.gain(predicted, best_before);
    let actual_gain = goal.gain(actual, best_before);
    Grade {
        experiment,
        predicted,
        actual,
        direction_right: (predicted_gain > 0.0) == (actual_gain > 0.0),
        error: actual - predicted,
        within_noise: (actual - predicted).abs() <= tolerance,
    }
}

/// All grades of a history: experiments with a prediction, a value and a best before.
pub fn grades(state: &State, goal: Goal, tolerance: f64) -> Vec<(Option<String>, Grade)> {
    graded(state, goal, tolerance)
        .into_iter()
        .map(|(direction, grade)| (direction.map(String::from), grade))
        .collect()
}

/// As `grades`, with each direction borrowed from the state (no copy per experiment).
fn graded(state: &State, goal: Goal, tolerance: f64) -> Vec<(Option<&str>, Grade)> {
    state
        .experiments
        .values()
        .filter(|experiment| {
            matches!(
                experiment.phase,
                Phase::Done(Outcome::Keep | Outcome::Discard)
            )
        })
        .filter_map(|experiment| {
            let predicted = experiment.prediction()?;
            let actual = experiment.value.filter(|value| value.is_finite())?;
            let best_before = experiment.best_before?;
            Some((
                experiment.direction(),
                grade(
                    experiment.number,
                    predicted,
                    actual,
                    best_before,
                    goal,
                    tolerance,
                ),
            ))
        })
        .collect()
}

pub fn summarize<'a>(grades: impl IntoIterator<Item = &'a Grade>) -> Calibration {
    let mut calibration = Calibration::default();
    let mut total_error = 0.0;
    for grade in grades {
        calibration.graded += 1;
        calibration.direction_right += usize::from(grade.direction_right);
        calibration.within_noise += usize::from(grade.within_noise);
        total_error += grade.error.abs();
    }
    if calibration.graded > 0 {
        calibration.mean_absolute_error = Some(total_error / calibration.graded as f64);
    }
    calibration
}

pub fn report(state: &State, goal: Goal, tolerance: f64) -> CalibrationReport {
    let grades = graded(state, goal, tolerance);
    let mut by_direction: BTreeMap<&str, Vec<&Grade>> = BTreeMap::new();
    for (direction, grade) in &grades {
        by_direction
            .entry(direction.unwrap_or("(none)"))
            .or_default()
            .push(grade);
    }
    CalibrationReport {
        overall: summarize(grades.iter().map(|(_, grade)| grade)),
        by_direction: by_direction
            .into_iter()
            .map(|(direction, grades)| (direction.to_string(), summarize(grades)))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_a_hand_checked_history() {
        // Best 1.000 (minimize). Predicted 0.990, got 0.995: direction right, error +0.005.
        let first = grade(2, 0.990, 0.995, 1.0, Goal::Minimize, 0.004);
        assert!(first.direction_right);
        assert!((first.error - 0.005).abs() < 1e-12);
        assert!(!first.within_noise);
        // Predicted 0.990, got 1.010: wrong direction.
        let second = grade(3, 0.990, 1.010, 1.0, Goal::Minimize, 0.004);
        assert!(!second.direction_right);
        // Predicted 0.990, got 0.988: right and within 0.004.
        let third = grade(4, 0.990, 0.988, 1.0, Goal::Minimize, 0.004);
        assert!(third.direction_right && third.within_noise);
        let summary = summarize([&first, &second, &third]);
        assert_eq!(summary.graded, 3);
        assert_eq!(summary.direction_right, 2);
        assert_eq!(summary.within_noise, 1);
        // (0.005 + 0.020 + 0.002) / 3 = 0.009
        assert!((summary.mean_absolute_error.unwrap() - 0.009).abs() < 1e-12);
        // Maximize flips the sense of better.
        assert!(grade(5, 0.8, 0.9, 0.7, Goal::Maximize, 0.0).direction_right);
    }
}
