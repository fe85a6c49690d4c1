//! The words that give a number its role in an expected outcome: markers before it ("~",
//! "from", "by", "below"), words that make it a setting ("step", "lr"), words that may follow a
//! metric value, and the words of a direction of change.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Improve,
    Worsen,
    Up,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Marker {
    Approximately,
    Arrow,
    Bound,
    By,
    To,
    From,
    Metric,
}

pub(crate) const METRIC_MARK: char = '\u{1}';

pub(crate) const MARKERS: &[(&str, Marker)] = &[
    ("~", Marker::Approximately),
    ("≈", Marker::Approximately),
    ("approximately", Marker::Approximately),
    ("approx.", Marker::Approximately),
    ("approx", Marker::Approximately),
    ("about", Marker::Approximately),
    ("around", Marker::Approximately),
    ("roughly", Marker::Approximately),
    ("circa", Marker::Approximately),
    ("nearly", Marker::Approximately),
    ("near", Marker::Approximately),
    ("almost", Marker::Approximately),
    ("perhaps", Marker::Approximately),
    ("maybe", Marker::Approximately),
    ("→", Marker::Arrow),
    ("->", Marker::Arrow),
    ("=>", Marker::Arrow),
    ("less than", Marker::Bound),
    ("lower than", Marker::Bound),
    ("fewer than", Marker::Bound),
    ("more than", Marker::Bound),
    ("higher than", Marker::Bound),
    ("greater than", Marker::Bound),
    ("better than", Marker::Bound),
    ("worse than", Marker::Bound),
    ("at most", Marker::Bound),
    ("at least", Marker::Bound),
    ("below", Marker::Bound),
    ("under", Marker::Bound),
    ("beneath", Marker::Bound),
    ("above", Marker::Bound),
    ("over", Marker::Bound),
    ("beyond", Marker::Bound),
    ("exceeds", Marker::Bound),
    ("exceed", Marker::Bound),
    ("<=", Marker::Bound),
    (">=", Marker::Bound),
    ("≤", Marker::Bound),
    ("≥", Marker::Bound),
    ("<", Marker::Bound),
    (">", Marker::Bound),
    ("improvement of", Marker::By),
    ("reduction of", Marker::By),
    ("decrease of", Marker::By),
    ("increase of", Marker::By),
    ("gain of", Marker::By),
    ("drop of", Marker::By),
    ("change of", Marker::By),
    ("delta", Marker::By),
    ("δ", Marker::By),
    ("by", Marker::By),
    ("from", Marker::From),
    ("to", Marker::To),
    ("reaches", Marker::To),
    ("reaching", Marker::To),
    ("reach", Marker::To),
    ("hits", Marker::To),
    ("hit", Marker::To),
    ("becomes", Marker::To),
    ("become", Marker::To),
    ("is", Marker::To),
    ("be", Marker::To),
    ("of", Marker::To),
    ("at", Marker::To),
    ("=", Marker::To),
    (":", Marker::To),
];

/// Words before a number that make it a setting, not a metric value ("step 200", "lr to 0.01").
pub(crate) const SETTING_WORDS: &[&str] = &[
    "step",
    "steps",
    "epoch",
    "epochs",
    "layer",
    "layers",
    "head",
    "heads",
    "seed",
    "seeds",
    "lr",
    "batch",
    "dim",
    "width",
    "depth",
    "rank",
    "experiment",
    "experiments",
    "exp",
    "iteration",
    "iterations",
    "warmup",
    "size",
    "top",
    "k",
    "n",
    "d",
    "dropout",
    "decay",
];

/// Words that may follow a metric value ("0.985 or better", "0.985 bpb").
pub(crate) const FOLLOWERS: &[&str] = &[
    "to",
    "and",
    "or",
    "from",
    "with",
    "at",
    "after",
    "before",
    "in",
    "on",
    "when",
    "if",
    "vs",
    "versus",
    "than",
    "while",
    "which",
    "because",
    "but",
    "as",
    "for",
    "by",
    "within",
    "over",
    "under",
    "is",
    "should",
    "would",
    "will",
    "expected",
    "predicted",
    "then",
    "so",
    "since",
    "given",
    "due",
    "range",
    "ish",
    "level",
    "mark",
    "region",
    "bits",
    "bpb",
    "nats",
    "points",
    "point",
    "pts",
    "val",
    "validation",
    "i",
    "we",
    "it",
    "this",
    "the",
    "a",
];

/// Names of other metrics: an outcome that names one of these but not our metric predicts
/// something else ("energy calibration score improves to 0.78").
pub(crate) const OTHER_METRIC_WORDS: &[&str] = &[
    "loss",
    "accuracy",
    "score",
    "perplexity",
    "calibration",
    "auc",
    "bleu",
    "rouge",
    "f1",
];

pub(crate) fn has_any(markers: &[Marker], wanted: &[Marker]) -> bool {
    markers.iter().any(|marker| wanted.contains(marker))
}

pub(crate) fn direction_of(word: &str) -> Option<Direction> {
    let direction = match word {
        "improve" | "improves" | "improved" | "improving" | "improvement" | "better" | "gain"
        | "gains" => Direction::Improve,
        "worse" | "worsens" | "regress" | "regresses" | "degrade" | "degrades" | "hurt"
        | "hurts" => Direction::Worsen,
        "lower" | "drop" | "drops" | "decrease" | "decreases" | "reduce" | "reduces"
        | "reduction" | "fall" | "falls" | "down" | "decline" | "declines" | "shrink"
        | "shrinks" | "less" | "smaller" => Direction::Down,
        "higher" | "increase" | "increases" | "rise" | "rises" | "up" | "raise" | "raises"
        | "grow" | "grows" | "more" | "larger" | "greater" => Direction::Up,
        _ => return None,
    };
    Some(direction)
}
