//! The vocabulary of column names: which names mean a commit, a status, a description,
//! memory, seconds, or the metric, and how a name is normalized before it is compared.

/// Metric names in order of preference: the first one a header holds is the metric.
pub(super) const KNOWN_METRICS: &[&str] = &[
    "val_bpb",
    "val_loss",
    "val_bpc",
    "eval_loss",
    "test_loss",
    "valid_loss",
    "bpb",
    "bpc",
    "pass@1",
    "pass_at_1",
    "pass@k",
    "score",
    "roc_auc",
    "auc",
    "rmse",
    "mse",
    "mae",
    "accuracy",
    "val_accuracy",
    "val_acc",
    "acc",
    "f1",
    "perplexity",
    "val_ppl",
    "ppl",
    "error",
    "error_rate",
    "wer",
    "cer",
    "bleu",
    "reward",
    "sharpe",
    "metric",
    "value",
    "loss",
];

/// Words that mark a column name as a metric (`compression_score`, `test_rmse`).
pub(super) const METRIC_WORDS: &[&str] = &[
    "bpb",
    "bpc",
    "loss",
    "score",
    "rmse",
    "mse",
    "mae",
    "auc",
    "accuracy",
    "acc",
    "f1",
    "perplexity",
    "ppl",
    "error",
    "err",
    "wer",
    "cer",
    "bleu",
    "rouge",
    "reward",
    "sharpe",
    "r2",
    "nll",
    "fid",
    "metric",
    "ndcg",
    "precision",
    "recall",
    "iou",
    "dice",
    "psnr",
    "ssim",
];

/// Words that mark a column as bookkeeping, never the metric.
pub(super) const NOT_METRIC_WORDS: &[&str] = &[
    "idx",
    "index",
    "id",
    "exp",
    "experiment",
    "run",
    "trial",
    "iteration",
    "iter",
    "iters",
    "step",
    "steps",
    "epoch",
    "epochs",
    "tokens",
    "tok",
    "params",
    "param",
    "num",
    "count",
    "seed",
    "timestamp",
    "date",
    "datetime",
    "lr",
    "batch",
    "size",
    "mfu",
    "throughput",
    "per",
    "gb",
    "mb",
    "depth",
    "width",
    "layers",
    "heads",
    "dim",
    "version",
    "n",
    "commit",
    "hash",
    "sha",
];

/// Words that make a metric-like name a side figure rather than the metric.
const SIDE_FIGURE_WORDS: &[&str] = &["delta", "diff", "std", "stderr", "var", "train", "gain"];

pub(super) const COMMIT_NAMES: &[&str] = &[
    "commit",
    "git_commit",
    "commit_hash",
    "commit_id",
    "hash",
    "sha",
    "git_sha",
    "sha1",
    "git_hash",
    "rev",
    "revision",
];
pub(super) const STATUS_NAMES: &[&str] = &[
    "status",
    "outcome",
    "decision",
    "verdict",
    "state",
    "result_status",
    "keep_discard",
];
pub(super) const DESCRIPTION_NAMES: &[&str] = &[
    "description",
    "desc",
    "notes",
    "note",
    "idea",
    "change",
    "changes",
    "comment",
    "comments",
    "summary",
    "hypothesis",
    "message",
    "msg",
    "details",
    "title",
    "rationale",
    "what",
];

/// Whether a header name says "description" (`description`, `notes`, `idea`, `desc_long`).
pub(super) fn is_description_name(name: &str) -> bool {
    let name = normalize_name(name);
    DESCRIPTION_NAMES.contains(&name.as_str()) || name.starts_with("desc")
}

/// Lowercase with every run of other characters turned into one `_` (`@` kept for `pass@1`).
pub(super) fn normalize_name(name: &str) -> String {
    let mut normalized = String::new();
    for character in name.trim().to_lowercase().chars() {
        if character.is_alphanumeric() || character == '@' {
            normalized.push(character);
        } else if !normalized.ends_with('_') {
            normalized.push('_');
        }
    }
    normalized.trim_matches('_').to_string()
}

pub(super) fn name_words(normalized: &str) -> impl Iterator<Item = &str> {
    normalized.split('_').filter(|word| !word.is_empty())
}

pub(super) fn is_memory_name(name: &str) -> bool {
    name.contains("mem") || name.contains("vram")
}

pub(super) fn memory_scale(words: &[&str]) -> f64 {
    if words.iter().any(|word| matches!(*word, "mb" | "mib")) {
        1.0 / 1024.0
    } else {
        1.0
    }
}

pub(super) fn seconds_scale(words: &[&str]) -> Option<f64> {
    if words.contains(&"per") {
        return None;
    }
    words.iter().find_map(|word| match *word {
        "seconds" | "second" | "secs" | "sec" | "s" | "duration" | "elapsed" | "runtime"
        | "time" | "wall" => Some(1.0),
        "ms" => Some(0.001),
        "minutes" | "minute" | "mins" | "min" => Some(60.0),
        "hours" | "hour" | "hrs" | "h" => Some(3600.0),
        _ => None,
    })
}

/// How much a column name looks like the metric; `None` when it cannot be the metric.
pub(super) fn name_score(name: &str, has_numbers: bool) -> Option<i32> {
    if let Some(rank) = KNOWN_METRICS.iter().position(|known| *known == name) {
        return Some(1000 - i32::try_from(rank).unwrap_or(0));
    }
    if !has_numbers {
        return None;
    }
    let words: Vec<&str> = name_words(name).collect();
    let metric_word = words
        .iter()
        .any(|word| METRIC_WORDS.contains(word) || is_pass_at(word));
    if metric_word {
        let side_figure = words.iter().any(|word| SIDE_FIGURE_WORDS.contains(word));
        return Some(if side_figure { 400 } else { 500 });
    }
    let bookkeeping = words.iter().any(|word| NOT_METRIC_WORDS.contains(word))
        || is_memory_name(name)
        || seconds_scale(&words).is_some();
    (!bookkeeping).then_some(100)
}

/// `pass@1`, `pass@10`, `pass@k`.
pub(super) fn is_pass_at(word: &str) -> bool {
    word.strip_prefix("pass@")
        .is_some_and(|rest| !rest.is_empty())
}
