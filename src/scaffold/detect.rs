//! Detection of what `dfh init` would otherwise ask: the run command, the metric, and which
//! files are editable or read-only. Every detected value can be given with a flag instead.

use std::path::Path;

use regex::Regex;

use crate::config::Goal;

/// What init found in the repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Detected {
    pub command: String,
    pub training_file: Option<String>,
    pub readonly: Vec<String>,
    pub metric: Option<(String, Goal)>,
}

/// Looks at the repository root and guesses the configuration.
pub fn detect(root: &Path) -> Detected {
    let training_file = training_file(root);
    let script = training_file.clone().unwrap_or_else(|| "train.py".into());
    let command = if root.join("pyproject.toml").exists() && root.join("uv.lock").exists() {
        format!("uv run {script}")
    } else {
        format!("python3 {script}")
    };
    let readonly: Vec<String> = ["prepare.py"]
        .into_iter()
        .filter(|file| root.join(file).exists() && Some(*file) != training_file.as_deref())
        .map(String::from)
        .collect();
    let mut sources: Vec<String> = training_file.iter().cloned().collect();
    sources.extend(readonly.iter().cloned());
    let metric = sources
        .iter()
        .filter_map(|file| std::fs::read_to_string(root.join(file)).ok())
        .find_map(|text| metric_in(&text));
    Detected {
        command,
        training_file,
        readonly,
        metric,
    }
}

fn training_file(root: &Path) -> Option<String> {
    if root.join("train.py").exists() {
        return Some("train.py".into());
    }
    let mut candidates: Vec<(u64, String)> = std::fs::read_dir(root)
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().to_str()?.to_string();
            let size = entry.metadata().ok()?.len();
            (name.ends_with(".py") && name.contains("train")).then_some((size, name))
        })
        .collect();
    candidates.sort();
    candidates.pop().map(|(_, name)| name)
}

/// The metric a script prints as `name: value`, preferring validation metrics.
pub fn metric_in(source: &str) -> Option<(String, Goal)> {
    let printed = Regex::new(r#"print\(\s*f?["']\s*([A-Za-z_][A-Za-z0-9_@/.]*)\s*:"#).ok()?;
    // dfh_diag's `summary(val_bpb=...)` prints the same `name: value` line.
    let summarized = Regex::new(r"summary\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*=").ok()?;
    let mut names: Vec<String> = printed
        .captures_iter(source)
        .chain(summarized.captures_iter(source))
        .filter_map(|captures| captures.get(1).map(|name| name.as_str().to_string()))
        .collect();
    names.dedup();
    let score = |name: &str| {
        let lower = name.to_ascii_lowercase();
        let mut score = 0;
        if lower.starts_with("val") || lower.contains("valid") || lower.starts_with("test") {
            score += 4;
        }
        if goal_of(&lower).is_some() {
            score += 2;
        }
        if lower.contains("train") || lower.contains("seconds") || lower.contains("time") {
            score -= 5;
        }
        score
    };
    let best = names.iter().max_by_key(|name| score(name))?;
    if score(best) < 2 {
        return None;
    }
    Some((
        best.clone(),
        goal_of(&best.to_ascii_lowercase()).unwrap_or(Goal::Minimize),
    ))
}

/// Lower-is-better and higher-is-better metric names.
pub fn goal_of(lower_name: &str) -> Option<Goal> {
    const MINIMIZE: &[&str] = &[
        "loss",
        "bpb",
        "ppl",
        "perplexity",
        "error",
        "rmse",
        "mse",
        "mae",
        "nll",
        "wer",
        "cer",
    ];
    const MAXIMIZE: &[&str] = &[
        "acc",
        "pass@",
        "score",
        "auc",
        "f1",
        "bleu",
        "rouge",
        "reward",
        "map",
        "precision",
        "recall",
    ];
    if MINIMIZE.iter().any(|word| lower_name.contains(word)) {
        Some(Goal::Minimize)
    } else if MAXIMIZE.iter().any(|word| lower_name.contains(word)) {
        Some(Goal::Maximize)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_autoresearch_metric() {
        let source = r#"
print(f"step {step} loss: {loss:.4f}")
print("---")
print(f"val_bpb:          {val_bpb:.6f}")
print(f"training_seconds: {t:.1f}")
"#;
        assert_eq!(metric_in(source), Some(("val_bpb".into(), Goal::Minimize)));
        assert_eq!(
            metric_in("print(f'pass@1: {p}')\nprint(f'train_loss: {l}')"),
            Some(("pass@1".into(), Goal::Maximize))
        );
        assert_eq!(metric_in("print('hello: world')"), None);
    }
}
