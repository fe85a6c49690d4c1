//! Reads the predicted metric value out of an `Expected outcome` line ("val_bpb improves from
//! 0.991 to ~0.985", "improves by 0.004", "1% lower", "drops below 0.99"), so calibration can
//! compare what the agent expected with what happened. Counts ("2 layers", "3x the lr", "step
//! 200") and other metrics' values are not predictions.

use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

use super::labels::cached;
use super::prediction_words::{
    direction_of, has_any, Direction, Marker, FOLLOWERS, MARKERS, METRIC_MARK, OTHER_METRIC_WORDS,
    SETTING_WORDS,
};

/// How the expected outcome stated its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum PredictionKind {
    /// "val_bpb ~0.985", "from 0.991 to 0.985".
    Absolute,
    /// "drops below 0.99": a one-sided prediction; `value` is the bound.
    Bound,
    /// "improves by 0.004": `value` is the best so far moved by `stated`.
    Delta,
    /// "1% lower": `value` is the best so far moved by `stated` percent.
    Relative,
}

/// A predicted metric value; `stated` is the number as written (0.004 for "by 0.004").
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Prediction {
    pub value: f64,
    pub kind: PredictionKind,
    pub stated: f64,
}

/// What the text states, before the best value turns a change into a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Statement {
    Value {
        value: f64,
        kind: PredictionKind,
    },
    Change {
        amount: f64,
        percent: bool,
        direction: Direction,
    },
}

/// The predicted value of `metric` stated in `expected`. `best` is the best value so far (a
/// stated change needs it); `goal_minimize` says which way "improves" goes.
pub fn extract_prediction(
    expected: &str,
    metric: &str,
    best: Option<f64>,
    goal_minimize: bool,
) -> Option<Prediction> {
    let value_of = |statement| match statement {
        Statement::Value { value, kind } => Some(Prediction {
            value,
            kind,
            stated: value,
        }),
        Statement::Change {
            amount,
            percent,
            direction,
        } => {
            let best = best?;
            let sign = match (direction, goal_minimize) {
                (Direction::Up, _) | (Direction::Improve, false) | (Direction::Worsen, true) => 1.0,
                _ => -1.0,
            };
            let (change, kind) = if percent {
                (best.abs() * amount / 100.0, PredictionKind::Relative)
            } else {
                (amount, PredictionKind::Delta)
            };
            let value = best + sign * change;
            value.is_finite().then_some(Prediction {
                value,
                kind,
                stated: amount,
            })
        }
    };
    find_statement(expected, metric).and_then(value_of)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Role {
    /// The value it starts from: never the prediction.
    From,
    Bare,
    Change,
    Bound,
    Strong,
}

fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|character: char| !(character.is_alphanumeric() || character == '_'))
        .filter(|word| !word.is_empty())
}

pub(crate) static NUMBER: OnceLock<Option<Regex>> = OnceLock::new();
pub(crate) const NUMBER_PATTERN: &str = r"[-+−]?(?:\d+(?:\.\d+)?|\.\d+)(?:e[-+]?\d+)?";
pub(crate) static IDENTIFIER: OnceLock<Option<Regex>> = OnceLock::new();
pub(crate) const IDENTIFIER_PATTERN: &str = r"[a-z][a-z0-9]*_[a-z0-9_]+|[a-z]+@[a-z0-9]+";

pub(crate) fn find_statement(expected: &str, metric: &str) -> Option<Statement> {
    let lower = expected.to_lowercase();
    let (marked, mentioned) = mark_metric(&lower, &metric.trim().to_lowercase());
    let clauses = split_clauses(&marked);
    let scope: Vec<&str> = if mentioned {
        clauses
            .into_iter()
            .filter(|clause| clause.contains(METRIC_MARK))
            .collect()
    } else {
        let identifiers = cached(&IDENTIFIER, IDENTIFIER_PATTERN)?;
        let names_other = identifiers.is_match(&marked)
            || words(&marked).any(|word| OTHER_METRIC_WORDS.contains(&word));
        if names_other {
            return None;
        }
        clauses
    };
    let mut best: Option<(Role, Statement)> = None;
    let mut bare_count = 0;
    for clause in scope {
        for (role, statement) in candidates(clause) {
            if role == Role::Bare {
                bare_count += 1;
            }
            if best.is_none_or(|(best_role, _)| role > best_role) {
                best = Some((role, statement));
            }
        }
    }
    match best {
        Some((Role::Bare, _)) if bare_count > 1 => None,
        Some((Role::From, _)) | None => None,
        Some((_, statement)) => Some(statement),
    }
}

/// Replaces each mention of the metric (as a whole token; `_` also written as space or `-`)
/// with one marker character.
fn mark_metric(lower: &str, metric: &str) -> (String, bool) {
    if metric.is_empty() {
        return (lower.to_string(), false);
    }
    let spellings = [
        metric.to_string(),
        metric.replace('_', " "),
        metric.replace('_', "-"),
    ];
    let is_word = |character: char| character.is_alphanumeric() || "_@".contains(character);
    let mut marked = String::with_capacity(lower.len());
    let mut mentioned = false;
    let mut rest = lower;
    'scan: while !rest.is_empty() {
        for spelling in &spellings {
            if let Some(after) = rest.strip_prefix(spelling.as_str()) {
                let before_ok = !marked.chars().next_back().is_some_and(is_word);
                let after_ok = !after.chars().next().is_some_and(is_word);
                if before_ok && after_ok {
                    marked.push(' ');
                    marked.push(METRIC_MARK);
                    marked.push(' ');
                    mentioned = true;
                    rest = after;
                    continue 'scan;
                }
            }
        }
        let mut characters = rest.chars();
        if let Some(character) = characters.next() {
            marked.push(character);
        }
        rest = characters.as_str();
    }
    (marked, mentioned)
}

/// Splits at `;`, line breaks and sentence ends (`.`, `!`, `?` before a space or the end), but
/// not at a decimal point.
fn split_clauses(text: &str) -> Vec<&str> {
    let mut clauses = Vec::new();
    let mut start = 0;
    let mut characters = text.char_indices().peekable();
    while let Some((position, character)) = characters.next() {
        let next = characters.peek().map(|&(_, next)| next);
        let ends = match character {
            ';' | '\n' => true,
            '.' | '!' | '?' => next.is_none_or(char::is_whitespace),
            _ => false,
        };
        if ends {
            clauses.push(&text[start..position]);
            start = position + character.len_utf8();
        }
    }
    clauses.push(&text[start..]);
    clauses
}

fn candidates(clause: &str) -> Vec<(Role, Statement)> {
    let Some(number) = cached(&NUMBER, NUMBER_PATTERN) else {
        return Vec::new();
    };
    let clause_direction = words(clause).find_map(direction_of);
    let mut found = Vec::new();
    for matched in number.find_iter(clause) {
        let before = clause[..matched.start()].chars().next_back();
        if before
            .is_some_and(|character| character.is_alphanumeric() || "_@./#-".contains(character))
        {
            continue;
        }
        let written = matched.as_str().replace('−', "-");
        let Ok(value) = written.parse::<f64>() else {
            continue;
        };
        if !value.is_finite() {
            continue;
        }
        let after = &clause[matched.end()..];
        let percent = after.starts_with('%');
        let after = after.strip_prefix('%').unwrap_or(after);
        if !percent && unit_follows(after) {
            continue;
        }
        let next_word = words(after).next().unwrap_or("");
        let (markers, stop_word) = peel(&clause[..matched.start()]);
        if SETTING_WORDS.contains(&stop_word) {
            continue;
        }
        let next_direction = direction_of(next_word);
        let has = |marker| markers.contains(&marker);
        // "val_bpb −0.004": a signed number with nothing but the metric before it is a change.
        let signed = written.starts_with(['-', '+']);
        let signed_alone = signed
            && !has_any(
                &markers,
                &[Marker::Approximately, Marker::Arrow, Marker::To],
            );
        let leads_on = ["→", "->", "=>", "to "]
            .iter()
            .any(|arrow| after.trim_start().starts_with(arrow));
        let mut role = if has(Marker::From) || leads_on {
            Role::From
        } else if has(Marker::Bound) {
            Role::Bound
        } else if has(Marker::By) || next_direction.is_some() || signed_alone {
            Role::Change
        } else if has(Marker::Approximately)
            || has(Marker::Arrow)
            || has(Marker::To)
            || has(Marker::Metric)
        {
            Role::Strong
        } else {
            Role::Bare
        };
        if percent && role != Role::From {
            let relative =
                role == Role::Change || (role == Role::Bare && clause_direction.is_some());
            if !relative {
                continue;
            }
            role = Role::Change;
        }
        let statement = match role {
            Role::Change => {
                let signed = written.starts_with('-').then_some(Direction::Down);
                let signed = signed.or(written.starts_with('+').then_some(Direction::Up));
                let direction = signed
                    .or(next_direction)
                    .or(clause_direction)
                    .unwrap_or(Direction::Improve);
                Statement::Change {
                    amount: value.abs(),
                    percent,
                    direction,
                }
            }
            Role::Bound => Statement::Value {
                value,
                kind: PredictionKind::Bound,
            },
            _ => Statement::Value {
                value,
                kind: PredictionKind::Absolute,
            },
        };
        found.push((role, statement));
    }
    found
}

/// True when the text after a number makes it a count or a setting: "x", "2-layer", "layers".
fn unit_follows(after: &str) -> bool {
    let mut characters = after.chars();
    match characters.next() {
        Some(character) if character.is_alphabetic() || character == '×' => return true,
        Some('-') if characters.next().is_some_and(char::is_alphabetic) => return true,
        _ => {}
    }
    let trimmed = after.trim_start();
    if trimmed.starts_with('×') || trimmed.starts_with(METRIC_MARK) {
        return trimmed.starts_with('×');
    }
    let word: String = trimmed
        .chars()
        .take_while(|character| character.is_alphabetic())
        .collect();
    !word.is_empty() && direction_of(&word).is_none() && !FOLLOWERS.contains(&word.as_str())
}

/// Peels markers ("to about ~", "by", "val_bpb:") off the end of the text before a number;
/// returns them, nearest first, and the word where peeling stopped.
fn peel(prefix: &str) -> (Vec<Marker>, &str) {
    let mut markers = Vec::new();
    let mut rest = prefix;
    'peel: for _ in 0..6 {
        rest = rest.trim_end();
        if let Some(before) = rest.strip_suffix(METRIC_MARK) {
            markers.push(Marker::Metric);
            rest = before;
            continue;
        }
        for &(word, marker) in MARKERS {
            if let Some(before) = rest.strip_suffix(word) {
                let needs_boundary = word.starts_with(|character: char| character.is_alphabetic());
                let bounded = !before
                    .chars()
                    .next_back()
                    .is_some_and(char::is_alphanumeric);
                if !needs_boundary || bounded {
                    markers.push(marker);
                    rest = before;
                    continue 'peel;
                }
            }
        }
        break;
    }
    let stop_word = words(rest).last().filter(|_| {
        rest.trim_end()
            .ends_with(|character: char| character.is_alphanumeric())
    });
    (markers, stop_word.unwrap_or(""))
}
