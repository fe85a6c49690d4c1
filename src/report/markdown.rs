//! report/morning.md: the narrative as markdown, to be read in five minutes. The sentences are
//! shared with the HTML page so both say the same thing.

use serde::Serialize;

use super::narrative::Narrative;
use crate::decide::round;

/// The narrative's sentences in plain text (the page escapes them, markdown neutralises tags).
#[derive(Debug, Clone, Serialize)]
pub struct Sentences {
    pub overview: String,
    pub best: String,
    pub distillation: String,
    pub failures: String,
    pub stuck: String,
    pub calibration: String,
}

/// Seconds as `2 h 14 min`, `5 min 3 s` or `12 s`.
pub fn duration(seconds: f64) -> String {
    let total = seconds.max(0.0).round() as u64;
    let (hours, minutes, rest) = (total / 3600, total / 60 % 60, total % 60);
    if hours > 0 {
        format!("{hours} h {minutes} min")
    } else if minutes > 0 {
        format!("{minutes} min {rest} s")
    } else {
        format!("{rest} s")
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

pub fn sentences(narrative: &Narrative) -> Sentences {
    let counts = &narrative.counts;
    let mut overview = if counts.ran == 0 {
        "No experiment finished in this period.".to_string()
    } else {
        format!(
            "{} ran ({}–{}) in {}: {} kept, {} discarded, {} crashed or timed out",
            plural(counts.ran, "experiment", "experiments"),
            narrative.first.unwrap_or_default(),
            narrative.last.unwrap_or_default(),
            duration(counts.seconds),
            counts.kept,
            counts.discarded,
            counts.crashed,
        )
    };
    if counts.abandoned > 0 {
        overview.push_str(&format!(", {} abandoned", counts.abandoned));
    }
    if counts.ran > 0 {
        overview.push('.');
    }
    if counts.rejected > 0 {
        overview.push_str(&format!(
            " Pre-train checks rejected {} before any training time was spent.",
            plural(counts.rejected, "change", "changes")
        ));
    }
    let best = &narrative.best;
    let metric = &narrative.metric;
    let best_sentence = match (best.from, best.to, best.to_experiment) {
        (_, None, _) => "No best result yet: the baseline has not been kept.".to_string(),
        (Some(from), Some(to), Some(to_experiment)) if best.by.is_empty() => format!(
            "The best stayed at {metric} {} (#{to_experiment}); nothing beat it{}.",
            round(to),
            if from == to { "" } else { " in this period" }
        ),
        (from, Some(to), Some(to_experiment)) => {
            let by: Vec<String> = best
                .by
                .iter()
                .map(|(number, title, gain)| format!("#{number} {title} ({})", signed(*gain)))
                .collect();
            format!(
                "Best {metric}: {}{} → {} (#{to_experiment}). Biggest gains: {}.",
                from.map(round).unwrap_or_else(|| "none".into()),
                best.from_experiment
                    .map(|number| format!(" (#{number})"))
                    .unwrap_or_default(),
                round(to),
                by.join("; ")
            )
        }
        _ => String::new(),
    };
    let distillation = if narrative.distillations.is_empty() {
        "No distillation happened in this period: docs/strategy.md is as it was.".to_string()
    } else {
        narrative
            .distillations
            .iter()
            .map(|distillation| {
                let after = distillation
                    .after_experiment
                    .map(|number| format!("after experiment {number}"))
                    .unwrap_or_else(|| format!("at {}", distillation.at));
                let summary = if distillation.summary.is_empty() {
                    "no summary recorded".to_string()
                } else {
                    distillation.summary.clone()
                };
                format!("Distillation {after}: {summary}")
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut failures: Vec<String> = narrative
        .failure_modes
        .iter()
        .map(|mode| {
            format!(
                "New failure mode {} ({}, first in #{}){}",
                mode.class,
                plural(mode.count, "time", "times"),
                mode.first_experiment,
                mode.fix
                    .as_ref()
                    .map(|fix| format!(": {fix}"))
                    .unwrap_or_default()
            )
        })
        .collect();
    if !narrative.rejections.is_empty() {
        let stages: Vec<String> = narrative
            .rejections
            .iter()
            .map(|(stage, count)| format!("{count} at {stage}"))
            .collect();
        failures.push(format!("Rejected before training: {}.", stages.join(", ")));
    }
    failures.push(format!(
        "The crash advisor's project memory (checks/failures.toml) holds {}.",
        plural(
            narrative.learned_patterns,
            "learned pattern",
            "learned patterns"
        )
    ));
    if narrative.failure_modes.is_empty() {
        failures.insert(0, "No new failure mode appeared.".into());
    }
    let stuck = if narrative.stuck.is_empty() {
        "No direction is stuck.".to_string()
    } else {
        narrative
            .stuck
            .iter()
            .map(|stuck| {
                format!(
                    "{}: {} in a row without a keep{}",
                    stuck.direction,
                    stuck.without_keep,
                    stuck
                        .last_keep
                        .map(|number| format!(" (last keep #{number})"))
                        .unwrap_or_else(|| " (never kept)".into())
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    let calibration = match &narrative.calibration {
        None => "No experiment stated a numeric prediction to check.".to_string(),
        Some(calibration) => format!(
            "{} checked: {} of {} that promised a gain delivered one; predictions were {} by {} on average (mean absolute error {}).",
            plural(calibration.predictions, "prediction", "predictions"),
            calibration.delivered,
            calibration.promised,
            if calibration.optimism >= 0.0 { "optimistic" } else { "pessimistic" },
            round(calibration.optimism.abs()),
            round(calibration.mean_absolute_error)
        ),
    };
    Sentences {
        overview,
        best: best_sentence,
        distillation,
        failures: failures.join("\n"),
        stuck,
        calibration,
    }
}

/// A gain with its sign: `+0.1`.
pub fn signed(value: f64) -> String {
    if value > 0.0 {
        format!("+{}", round(value))
    } else {
        round(value)
    }
}

/// Agent- or user-written text made inert in markdown: one line, no HTML tags.
pub fn inert(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn markdown(narrative: &Narrative) -> String {
    let sentences = sentences(narrative);
    let mut out = String::new();
    out.push_str(&format!(
        "# Morning read: {}, {}\n\n",
        inert(&narrative.metric),
        inert(&narrative.since)
    ));
    out.push_str(&format!("{}\n\n", inert(&sentences.overview)));
    out.push_str(&format!("{}\n\n", inert(&sentences.best)));
    out.push_str("## The research story\n\n");
    if narrative.story.is_empty() {
        out.push_str("Nothing was kept, and no failure left a learning.\n\n");
    }
    for entry in &narrative.story {
        let marker = if entry.instructive {
            " (instructive failure)"
        } else {
            ""
        };
        out.push_str(&format!(
            "### #{} — {}{marker}\n",
            entry.number,
            inert(&entry.title)
        ));
        for (label, text) in [
            ("Hypothesis", &entry.hypothesis),
            ("Inspired by", &entry.inspired_by),
            ("Result", &entry.result),
            ("Learning", &entry.learning),
        ] {
            if !text.is_empty() {
                out.push_str(&format!("- **{label}:** {}\n", inert(text)));
            }
        }
        out.push('\n');
    }
    if narrative.story_left_out > 0 {
        out.push_str(&format!(
            "…and {} more (kept experiments with smaller gains, older failures): see the table in index.html.\n\n",
            narrative.story_left_out
        ));
    }
    for (heading, text) in [
        ("Strategy changes", &sentences.distillation),
        ("Failures and what the harness learned", &sentences.failures),
        ("Stuck directions", &sentences.stuck),
        ("Prediction calibration", &sentences.calibration),
    ] {
        out.push_str(&format!("## {heading}\n\n"));
        for line in text.lines() {
            out.push_str(&format!("- {}\n", inert(line)));
        }
        out.push('\n');
    }
    out
}
