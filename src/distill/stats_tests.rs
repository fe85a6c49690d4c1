//! The figures of a small history checked by hand (see the comments beside each assertion).

use super::*;
use crate::journal::{Decided, Event, Learned, Planned, State};

struct Row {
    number: u32,
    direction: Option<&'static str>,
    prediction: Option<f64>,
    outcome: Outcome,
    value: Option<f64>,
    best_before: Option<f64>,
    regions: &'static [&'static str],
    crash_class: Option<&'static str>,
}

fn row(
    number: u32,
    direction: Option<&'static str>,
    outcome: Outcome,
    value: Option<f64>,
    best_before: Option<f64>,
) -> Row {
    Row {
        number,
        direction,
        prediction: None,
        outcome,
        value,
        best_before,
        regions: &[],
        crash_class: None,
    }
}

/// Minimize; best 1.000 -> 0.990 (#2) -> 0.980 (#6).
fn history() -> State {
    use Outcome::*;
    let rows = vec![
        row(1, None, Keep, Some(1.0), None),
        Row {
            prediction: Some(0.985),
            regions: &["MATRIX_LR"],
            ..row(2, Some("optimizer"), Keep, Some(0.99), Some(1.0))
        },
        Row {
            prediction: Some(0.985),
            regions: &["MATRIX_LR"],
            ..row(3, Some("optimizer"), Discard, Some(0.995), Some(0.99))
        },
        Row {
            regions: &["DEPTH"],
            crash_class: Some("oom_gpu"),
            ..row(4, Some("depth"), Crash, None, Some(0.99))
        },
        Row {
            prediction: Some(0.98),
            regions: &["DEPTH", "GPT.forward"],
            ..row(5, Some("depth"), Discard, Some(1.01), Some(0.99))
        },
        Row {
            prediction: Some(0.97),
            regions: &["MATRIX_LR"],
            ..row(6, Some("optimizer"), Keep, Some(0.98), Some(0.99))
        },
        Row {
            regions: &["DEPTH"],
            crash_class: Some("oom_gpu"),
            ..row(7, Some("depth"), Crash, None, Some(0.98))
        },
        row(8, None, Discard, Some(0.985), Some(0.98)),
        Row {
            regions: &["DEPTH"],
            ..row(9, Some("depth"), Timeout, None, Some(0.98))
        },
    ];
    let mut events = Vec::new();
    for row in rows {
        events.push(Event::Planned(Planned {
            experiment: row.number,
            title: format!("idea {}", row.number),
            direction: row.direction.map(Into::into),
            prediction: row.prediction,
            ..Planned::default()
        }));
        events.push(Event::Decided(Decided {
            at: String::new(),
            experiment: row.number,
            attempt: 1,
            outcome: row.outcome,
            commit: format!("{:07}", row.number),
            value: row.value,
            best_before: row.best_before,
            seconds: 300.0,
            memory_gb: None,
            reason: String::new(),
            crash_class: row.crash_class.map(Into::into),
            fix: row.crash_class.map(|_| "halve BATCH_SIZE".into()),
            regions: row
                .regions
                .iter()
                .map(|region| region.to_string())
                .collect(),
            knobs: Vec::new(),
            flags: Vec::new(),
            metrics: None,
            change_hash: None,
        }));
        events.push(Event::Learned(Learned {
            at: String::new(),
            experiment: row.number,
            text: format!("lesson {}", row.number),
        }));
    }
    State::fold(&events)
}

fn close(actual: Option<f64>, expected: f64) {
    let actual = actual.unwrap_or(f64::NAN);
    assert!((actual - expected).abs() < 1e-9, "{actual} != {expected}");
}

#[test]
fn counts_best_and_trajectory() {
    let stats = compute(history().experiments.values(), Goal::Minimize);
    assert_eq!((stats.finished, stats.kept, stats.crashed), (9, 3, 3));
    let moves: Vec<(u32, f64)> = stats
        .trajectory
        .iter()
        .map(|step| (step.experiment, step.value))
        .collect();
    assert_eq!(moves, vec![(1, 1.0), (2, 0.99), (6, 0.98)]);
    assert_eq!(stats.trajectory[0].gain, None, "the baseline moves nothing");
    close(stats.trajectory[1].gain, 0.01);
    close(stats.trajectory[2].gain, 0.01);
    assert_eq!(stats.best.map(|best| best.experiment), Some(6));
}

#[test]
fn directions_are_ranked_by_smoothed_productivity() {
    let stats = compute(history().experiments.values(), Goal::Minimize);
    let names: Vec<&str> = stats
        .directions
        .iter()
        .map(|group| group.name.as_str())
        .collect();
    // optimizer (2+1)/(3+2) = 0.6; untagged (0+1)/(1+2) = 0.33; depth (0+1)/(4+2) = 0.17.
    assert_eq!(names, vec!["optimizer", UNTAGGED, "depth"]);
    let optimizer = &stats.directions[0];
    assert_eq!(
        (optimizer.tried, optimizer.kept, optimizer.crashed),
        (3, 2, 0)
    );
    close(optimizer.mean_gain, 0.005); // (0.01 - 0.005 + 0.01) / 3
    close(optimizer.best_gain, 0.01);
    let depth = &stats.directions[2];
    assert_eq!((depth.tried, depth.kept, depth.crashed), (4, 0, 3));
    close(depth.mean_gain, -0.02); // only #5 has a value
    assert_eq!(
        sentence(optimizer),
        "improved in 2 of 3 experiments (mean gain +0.0050, best +0.0100)"
    );
    assert_eq!(
        sentence(depth),
        "improved in 0 of 4 experiments (mean gain -0.0200, best -0.0200; 3 crashed)"
    );
}

#[test]
fn regions_count_each_experiment_that_touched_them() {
    let stats = compute(history().experiments.values(), Goal::Minimize);
    let regions: Vec<(&str, usize, usize)> = stats
        .regions
        .iter()
        .map(|group| (group.name.as_str(), group.tried, group.kept))
        .collect();
    assert_eq!(
        regions,
        vec![("MATRIX_LR", 3, 2), ("GPT.forward", 1, 0), ("DEPTH", 4, 0)]
    );
}

#[test]
fn plateaus_crashes_and_calibration() {
    let stats = compute(history().experiments.values(), Goal::Minimize);
    assert_eq!(
        stats.plateaus,
        vec![
            Plateau {
                first: 3,
                last: 5,
                length: 3,
                current: false
            },
            Plateau {
                first: 7,
                last: 9,
                length: 3,
                current: true
            },
        ]
    );
    let classes: Vec<(&str, usize, Vec<u32>, bool)> = stats
        .crash_classes
        .iter()
        .map(|class| {
            (
                class.class.as_str(),
                class.count,
                class.experiments.clone(),
                class.recurs(),
            )
        })
        .collect();
    assert_eq!(
        classes,
        vec![
            ("oom_gpu", 2, vec![4, 7], true),
            (UNCLASSIFIED, 1, vec![9], false),
        ]
    );
    assert!(stats.crash_classes[1].untaught());
    assert_eq!(
        stats.crash_classes[0].fix.as_deref(),
        Some("halve BATCH_SIZE")
    );
    let calibration = stats.calibration.expect("four predictions have values");
    // #2: predicted gain .015, got .010; #3: .005 vs -.005; #5: .010 vs -.020; #6: .020 vs .010.
    assert_eq!(calibration.count, 4);
    close(Some(calibration.mean_absolute_error), 0.01375);
    close(Some(calibration.mean_optimism), 0.01375);
    assert_eq!(calibration.fell_short, 4);
    assert_eq!(calibration.direction_right, 2);
}

#[test]
fn explored_ideas_follow_the_ranking_with_their_learnings() {
    let stats = compute(history().experiments.values(), Goal::Minimize);
    let explored: Vec<(&str, Vec<u32>)> = stats
        .explored
        .iter()
        .map(|group| {
            (
                group.direction.as_str(),
                group.ideas.iter().map(|idea| idea.experiment).collect(),
            )
        })
        .collect();
    assert_eq!(
        explored,
        vec![
            ("optimizer", vec![2, 3, 6]),
            (UNTAGGED, vec![8]),
            ("depth", vec![4, 5, 7, 9]),
        ]
    );
    assert_eq!(
        stats.explored[0].ideas[1].learning.as_deref(),
        Some("lesson 3")
    );
    assert_eq!(stats.explored[2].ideas[3].outcome, "timeout");
}

#[test]
fn maximize_flips_the_sign_of_gains() {
    let mut state = history();
    for experiment in state.experiments.values_mut() {
        experiment.value = experiment.value.map(|value| -value);
        experiment.best_before = experiment.best_before.map(|value| -value);
    }
    let stats = compute(state.experiments.values(), Goal::Maximize);
    close(stats.trajectory[1].gain, 0.01);
    assert_eq!(signed(-0.0), "+0.0000");
    assert_eq!(signed(0.00002), "+2.00e-5");
}
