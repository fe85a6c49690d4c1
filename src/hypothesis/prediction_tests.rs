//! The prediction extraction table and its edge cases.

use super::labels::cached;
use super::prediction::{
    extract_prediction, find_statement, PredictionKind, Statement, IDENTIFIER, IDENTIFIER_PATTERN,
    NUMBER, NUMBER_PATTERN,
};
use super::prediction_words::Direction;

type Rounded = Option<(f64, PredictionKind)>;

#[test]
fn patterns_compile() {
    assert!(cached(&NUMBER, NUMBER_PATTERN).is_some());
    assert!(cached(&IDENTIFIER, IDENTIFIER_PATTERN).is_some());
}

fn predicted(text: &str, best: Option<f64>, minimize: bool) -> Rounded {
    let prediction = extract_prediction(text, "val_bpb", best, minimize)?;
    Some(((prediction.value * 1e6).round() / 1e6, prediction.kind))
}

#[test]
fn extraction_table() {
    use PredictionKind::{Absolute, Bound, Delta, Relative};
    let best = Some(0.991);
    let table: &[(&str, bool, Rounded)] = &[
        ("val_bpb ~0.985", true, Some((0.985, Absolute))),
        (
            "val_bpb improves from 0.991 to 0.985.",
            true,
            Some((0.985, Absolute)),
        ),
        (
            "val_bpb improves from 0.991 to ~0.985.",
            true,
            Some((0.985, Absolute)),
        ),
        (
            "Improves from 0.991 to 0.985",
            true,
            Some((0.985, Absolute)),
        ),
        ("val_bpb: 0.985", true, Some((0.985, Absolute))),
        ("val_bpb 0.991 → 0.985", true, Some((0.985, Absolute))),
        ("≈0.985", true, Some((0.985, Absolute))),
        ("val_bpb drops to about 0.98", true, Some((0.98, Absolute))),
        (
            "VAL_BPB around 0.987 or better",
            true,
            Some((0.987, Absolute)),
        ),
        ("val bpb of 0.986", true, Some((0.986, Absolute))),
        ("val_bpb drops below 0.99", true, Some((0.99, Bound))),
        ("val_bpb < 0.99", true, Some((0.99, Bound))),
        ("val_bpb improves by 0.004", true, Some((0.987, Delta))),
        ("val_bpb improves by 0.004", false, Some((0.995, Delta))),
        ("val_bpb drops by 0.004", false, Some((0.987, Delta))),
        (
            "an improvement of 0.004 in val_bpb",
            true,
            Some((0.987, Delta)),
        ),
        ("val_bpb 0.004 lower", true, Some((0.987, Delta))),
        ("val_bpb 1% lower", true, Some((0.98109, Relative))),
        ("val_bpb improves by 1%", true, Some((0.98109, Relative))),
        (
            "val_bpb improves by 0.004 to 0.986",
            true,
            Some((0.986, Absolute)),
        ),
        ("0.985", true, Some((0.985, Absolute))),
        (
            "val_bpb ~0.985 at step 2000 with 2 layers",
            true,
            Some((0.985, Absolute)),
        ),
        ("val_bpb −0.004", true, Some((0.987, Delta))),
        (
            "val_bpb +0.002 (a little worse)",
            true,
            Some((0.993, Delta)),
        ),
        ("2 layers train faster", true, None),
        ("3x the lr gives a lower val_bpb", true, None),
        ("val_bpb improves", true, None),
        ("val_bpb drops; pass@1 stays at 0.15", true, None),
        (
            "Energy calibration score improves from 0.72 to ~0.78",
            true,
            None,
        ),
        ("a 2-layer head lowers val_bpb", true, None),
        ("warmup to 200 steps lowers val_bpb", true, None),
        ("increase lr to 0.01 lowers val_bpb", true, None),
        (
            "val_bpb changes somewhere between 0.98 and 0.99",
            true,
            None,
        ),
        ("", true, None),
    ];
    for (text, minimize, expected) in table {
        assert_eq!(predicted(text, best, *minimize), *expected, "{text}");
    }
}

#[test]
fn a_change_needs_a_best_value() {
    assert_eq!(predicted("val_bpb improves by 0.004", None, true), None);
    assert_eq!(
        find_statement("val_bpb improves by 0.004", "val_bpb"),
        Some(Statement::Change {
            amount: 0.004,
            percent: false,
            direction: Direction::Improve
        })
    );
}

#[test]
fn metric_names_with_digits_are_not_values() {
    let prediction = extract_prediction("pass@1 rises to 0.17", "pass@1", Some(0.15), false);
    assert_eq!(prediction.map(|prediction| prediction.value), Some(0.17));
    let change = extract_prediction("pass@1 rises by 0.02", "pass@1", Some(0.15), false);
    assert_eq!(
        change.map(|prediction| (prediction.value * 100.0).round()),
        Some(17.0)
    );
}
