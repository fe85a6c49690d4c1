//! Whether the imported metric is minimized or maximized: from its name when the name says,
//! otherwise from how the kept rows moved.

use super::names::{is_pass_at, name_words, normalize_name};
use super::{GoalHint, ImportedStatus};

const MINIMIZE_WORDS: &[&str] = &[
    "loss",
    "bpb",
    "bpc",
    "rmse",
    "mse",
    "mae",
    "error",
    "err",
    "perplexity",
    "ppl",
    "wer",
    "cer",
    "nll",
    "fid",
    "latency",
    "time",
    "seconds",
    "regret",
    "cost",
    "distance",
];

const MAXIMIZE_WORDS: &[&str] = &[
    "score",
    "auc",
    "accuracy",
    "acc",
    "f1",
    "bleu",
    "rouge",
    "reward",
    "sharpe",
    "r2",
    "precision",
    "recall",
    "ndcg",
    "map",
    "iou",
    "dice",
    "psnr",
    "ssim",
    "return",
    "throughput",
    "winrate",
    "success",
];

/// The goal that a metric name states: the first word of the name that says one.
pub(super) fn goal_from_name(metric: &str) -> Option<GoalHint> {
    let name = normalize_name(metric);
    let goal = name_words(&name).find_map(|word| {
        if MINIMIZE_WORDS.contains(&word) {
            Some(GoalHint::Minimize)
        } else if MAXIMIZE_WORDS.contains(&word) || is_pass_at(word) {
            Some(GoalHint::Maximize)
        } else {
            None
        }
    });
    goal
}

/// The goal that the rows show. A hill climb keeps only improvements, so consecutive kept
/// values move in the goal's direction; when they do not agree clearly, kept values sit on
/// the better side of discarded ones. `None` when neither says.
pub(super) fn goal_from_rows<'a>(
    rows: impl Iterator<Item = (&'a ImportedStatus, Option<f64>)>,
) -> Option<GoalHint> {
    let mut kept = Vec::new();
    let mut discarded = Vec::new();
    for (status, value) in rows {
        match (status, value) {
            (ImportedStatus::Keep, Some(value)) if value.is_finite() => kept.push(value),
            (ImportedStatus::Discard, Some(value)) if value.is_finite() => discarded.push(value),
            _ => {}
        }
    }
    let (mut down, mut up) = (0usize, 0usize);
    for pair in kept.windows(2) {
        if let [before, after] = pair {
            if after < before {
                down += 1;
            } else if after > before {
                up += 1;
            }
        }
    }
    if down > 0 && down >= 3 * up {
        return Some(GoalHint::Minimize);
    }
    if up > 0 && up >= 3 * down {
        return Some(GoalHint::Maximize);
    }
    let kept_median = median(&mut kept)?;
    let discarded_median = median(&mut discarded)?;
    if kept_median < discarded_median {
        Some(GoalHint::Minimize)
    } else if kept_median > discarded_median {
        Some(GoalHint::Maximize)
    } else {
        None
    }
}

fn median(values: &mut [f64]) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goal_from_metric_names() {
        assert_eq!(goal_from_name("val_bpb"), Some(GoalHint::Minimize));
        assert_eq!(goal_from_name("rmse"), Some(GoalHint::Minimize));
        assert_eq!(goal_from_name("perplexity"), Some(GoalHint::Minimize));
        assert_eq!(goal_from_name("roc_auc"), Some(GoalHint::Maximize));
        assert_eq!(
            goal_from_name("compression_score"),
            Some(GoalHint::Maximize)
        );
        assert_eq!(goal_from_name("pass@1"), Some(GoalHint::Maximize));
        assert_eq!(goal_from_name("F1"), Some(GoalHint::Maximize));
        assert_eq!(goal_from_name("column6"), None);
    }

    #[test]
    fn goal_from_kept_trend_and_from_kept_against_discarded() {
        let keep = ImportedStatus::Keep;
        let discard = ImportedStatus::Discard;
        let falling = [(&keep, Some(3.0)), (&keep, Some(2.0)), (&keep, Some(1.0))];
        assert_eq!(
            goal_from_rows(falling.into_iter()),
            Some(GoalHint::Minimize)
        );
        let rising = [
            (&keep, Some(1.0)),
            (&discard, Some(0.5)),
            (&keep, Some(2.0)),
            (&keep, Some(4.0)),
        ];
        assert_eq!(goal_from_rows(rising.into_iter()), Some(GoalHint::Maximize));
        let mixed = [
            (&keep, Some(0.8)),
            (&keep, Some(0.9)),
            (&keep, Some(0.7)),
            (&discard, Some(1.2)),
        ];
        assert_eq!(goal_from_rows(mixed.into_iter()), Some(GoalHint::Minimize));
        let unknown = [(&keep, Some(1.0)), (&ImportedStatus::Crash, None)];
        assert_eq!(goal_from_rows(unknown.into_iter()), None);
    }
}
