//! The values of the `{placeholders}` in causes and fixes: the evidence, the project location,
//! and the project's own knobs (a batch-size constant for an OOM, the constants whose values
//! appear in the shapes of a shape mismatch, the learning rates for a divergence).

use std::collections::HashMap;

use regex::Regex;

use super::{KnobHint, Location};

/// Placeholders every template may use (a regex's named groups come on top).
pub(super) const TEMPLATE_VARIABLES: &[&str] = &[
    "match",
    "evidence",
    "exception",
    "message",
    "class",
    "location",
    "source",
    "memory_knob",
    "lr_knob",
    "shapes",
    "shape_knobs",
    "module",
];

/// Quoted log lines are cut to this many characters.
const MAX_QUOTE_CHARS: usize = 240;
const MAX_NAMED_KNOBS: usize = 4;

/// Memory knob name fragments, most effective first.
const MEMORY_KNOB_WORDS: &[&[&str]] = &[
    &["batch"],
    &["seq", "len", "ctx", "context"],
    &["width", "dim", "embd"],
    &["layer", "depth"],
    &["heads"],
];

/// Regexes used to read values out of messages; compiled once with the database.
#[derive(Debug, Clone)]
pub(super) struct Extractors {
    shape: Regex,
}

impl Extractors {
    pub(super) fn new() -> Result<Self, regex::Error> {
        Ok(Self {
            // torch.Size([24, 64]) | [8, 512] | (40) or (2, 3) | 1x2 | "input of size 10"
            shape: Regex::new(
                r"torch\.Size\(\[([\d,\s]*)\]\)|\[(\d+(?:,\s*\d+)*)\]|\((\d+(?:\s*[x,]\s*\d+)*)\)|\b(\d+(?:x\d+)+)\b|input of size (\d+)",
            )?,
        })
    }

    /// The first two shapes quoted in `text`, as written (`1x2`, `[24, 64]`, `(40)`).
    pub(super) fn shapes(&self, text: &str) -> Vec<String> {
        let mut shapes: Vec<String> = Vec::new();
        for captures in self.shape.captures_iter(text) {
            let shape = if let Some(group) = captures.get(1).or_else(|| captures.get(2)) {
                format!("[{}]", group.as_str())
            } else if let Some(group) = captures.get(3) {
                format!("({})", group.as_str())
            } else if let Some(group) = captures.get(4).or_else(|| captures.get(5)) {
                group.as_str().to_string()
            } else {
                continue;
            };
            shapes.push(shape);
            if shapes.len() == 2 {
                break;
            }
        }
        shapes
    }
}

/// Everything a template may refer to, for one diagnosis.
pub(super) struct AdviceContext<'a> {
    pub(super) class: &'a str,
    pub(super) matched_line: &'a str,
    pub(super) evidence: &'a str,
    pub(super) exception: &'a str,
    pub(super) message: &'a str,
    /// The text the deciding pattern matched (shapes are read from it).
    pub(super) decided_text: &'a str,
    pub(super) location: Option<&'a Location>,
    pub(super) captures: HashMap<String, String>,
    pub(super) knobs: &'a [KnobHint],
    pub(super) extractors: &'a Extractors,
}

impl AdviceContext<'_> {
    pub(super) fn value(&self, name: &str) -> String {
        if let Some(captured) = self.captures.get(name) {
            return captured.clone();
        }
        match name {
            "match" => quote(self.matched_line),
            "evidence" => quote(self.evidence),
            "exception" => fallback(self.exception, "error"),
            "message" => quote(self.message),
            "class" => self.class.to_string(),
            "location" => self.location.map_or_else(
                || "the failing line".to_string(),
                |location| format!("{}:{}", location.file, location.line),
            ),
            "source" => self
                .location
                .map_or("the line shown in the traceback", |location| {
                    &location.source
                })
                .to_string(),
            "memory_knob" => memory_knob(self.knobs),
            "lr_knob" => lr_knob(self.knobs),
            "shapes" => {
                let shapes = self.extractors.shapes(self.decided_text);
                if shapes.is_empty() {
                    "in the message".to_string()
                } else {
                    shapes.join(" and ")
                }
            }
            "shape_knobs" => shape_knobs(&self.extractors.shapes(self.decided_text), self.knobs),
            "module" => "the module".to_string(),
            _ => String::new(),
        }
    }
}

fn fallback(text: &str, default: &str) -> String {
    if text.is_empty() {
        default.to_string()
    } else {
        text.to_string()
    }
}

/// A log line, cut to a readable length.
pub(super) fn quote(line: &str) -> String {
    let line = line.trim();
    match line.char_indices().nth(MAX_QUOTE_CHARS) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line.to_string(),
    }
}

fn describe(knob: &KnobHint) -> String {
    format!(
        "{} = {} at {}:{}",
        knob.name, knob.value, knob.file, knob.line
    )
}

fn integer_value(knob: &KnobHint) -> Option<i64> {
    knob.value.trim().replace('_', "").parse().ok()
}

fn memory_rank(knob: &KnobHint) -> Option<(usize, usize)> {
    let name = knob.name.to_ascii_lowercase();
    let group = MEMORY_KNOB_WORDS
        .iter()
        .position(|words| words.iter().any(|word| name.contains(word)))?;
    // Halving the per-device batch keeps the total batch (gradient accumulation makes it up);
    // a total/global batch is the last batch knob to touch.
    let within = if name.contains("device") || name.contains("micro") {
        0
    } else if name.contains("total") || name.contains("global") {
        2
    } else {
        1
    };
    Some((group, within))
}

/// "DEVICE_BATCH_SIZE = 128 at train.py:42: halve it (to 64)", or generic advice.
pub(super) fn memory_knob(knobs: &[KnobHint]) -> String {
    let best = knobs
        .iter()
        .filter_map(|knob| memory_rank(knob).map(|rank| (rank, knob)))
        .min_by_key(|(rank, knob)| (*rank, knob.line));
    let Some((_, knob)) = best else {
        return "halve the batch size (or the sequence length or model width)".to_string();
    };
    match integer_value(knob) {
        Some(value) if value >= 2 => format!("{}: halve it (to {})", describe(knob), value / 2),
        _ => format!("{}: halve it", describe(knob)),
    }
}

fn is_learning_rate(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "lr"
        || name.ends_with("_lr")
        || name.starts_with("lr_")
        || name.contains("learning_rate")
}

/// "halve MATRIX_LR = 0.04 at train.py:12 (to 0.02)", or generic advice.
pub(super) fn lr_knob(knobs: &[KnobHint]) -> String {
    let mut rates: Vec<&KnobHint> = knobs
        .iter()
        .filter(|knob| is_learning_rate(&knob.name))
        .collect();
    rates.sort_by_key(|knob| (knob.file.clone(), knob.line));
    rates.truncate(MAX_NAMED_KNOBS);
    if rates.is_empty() {
        return "halve the learning rate".to_string();
    }
    let described: Vec<String> = rates
        .iter()
        .map(|knob| match knob.value.trim().parse::<f64>() {
            Ok(value) if value.is_finite() && value > 0.0 => {
                format!("{} (to {})", describe(knob), value / 2.0)
            }
            _ => describe(knob),
        })
        .collect();
    format!("halve {}", join_and(&described))
}

/// The knobs whose integer values appear in the shapes.
pub(super) fn shape_knobs(shapes: &[String], knobs: &[KnobHint]) -> String {
    if shapes.is_empty() {
        return "follow the shapes in the message to the layer that makes them".to_string();
    }
    let numbers: Vec<i64> = shapes
        .iter()
        .flat_map(|shape| {
            shape
                .split(|character: char| !character.is_ascii_digit())
                .filter_map(|digits| digits.parse::<i64>().ok())
        })
        .collect();
    let mut matching: Vec<&KnobHint> = knobs
        .iter()
        .filter(|knob| {
            integer_value(knob).is_some_and(|value| value >= 2 && numbers.contains(&value))
        })
        .collect();
    matching.sort_by_key(|knob| (knob.file.clone(), knob.line));
    matching.truncate(MAX_NAMED_KNOBS);
    match matching.len() {
        0 => "no constant of the project has these values, so follow them to the layer that \
              makes them"
            .to_string(),
        1 => format!("{} appears in them", describe(matching[0])),
        _ => {
            let described: Vec<String> = matching.iter().map(|knob| describe(knob)).collect();
            format!("{} appear in them", join_and(&described))
        }
    }
}

fn join_and(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [only] => only.clone(),
        [head @ .., last] => format!("{} and {last}", head.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn knob(name: &str, value: &str, line: usize) -> KnobHint {
        KnobHint {
            name: name.to_string(),
            value: value.to_string(),
            file: "train.py".to_string(),
            line,
        }
    }

    #[test]
    fn memory_advice_prefers_the_per_device_batch() {
        let knobs = [
            knob("TOTAL_BATCH_SIZE", "2**19", 40),
            knob("MAX_SEQ_LEN", "2048", 10),
            knob("DEVICE_BATCH_SIZE", "128", 42),
            knob("MATRIX_LR", "0.04", 50),
        ];
        assert_eq!(
            memory_knob(&knobs),
            "DEVICE_BATCH_SIZE = 128 at train.py:42: halve it (to 64)"
        );
        assert_eq!(
            memory_knob(&knobs[3..]),
            "halve the batch size (or the sequence length or model width)"
        );
    }

    #[test]
    fn shapes_are_read_in_every_torch_format() {
        let extractors = Extractors::new().unwrap();
        let shapes = |text: &str| extractors.shapes(text);
        assert_eq!(
            shapes("shapes cannot be multiplied (1x2 and 6x64)"),
            ["1x2", "6x64"]
        );
        assert_eq!(
            shapes("The size of tensor a (40) must match the size of tensor b (56) at dim 4"),
            ["(40)", "(56)"]
        );
        assert_eq!(
            shapes("copying a param with shape torch.Size([24, 64]) from checkpoint, the shape in current model is torch.Size([32, 64])."),
            ["[24, 64]", "[32, 64]"]
        );
        assert_eq!(
            shapes("shape '[2, 3]' is invalid for input of size 10"),
            ["[2, 3]", "10"]
        );
    }

    #[test]
    fn shape_knobs_are_those_whose_values_appear() {
        let knobs = [
            knob("N_EMBD", "64", 12),
            knob("N_HEAD", "6", 13),
            knob("FLAG", "1", 14),
        ];
        let shapes = vec!["1x2".to_string(), "6x64".to_string()];
        assert_eq!(
            shape_knobs(&shapes, &knobs),
            "N_EMBD = 64 at train.py:12 and N_HEAD = 6 at train.py:13 appear in them"
        );
    }

    #[test]
    fn long_quotes_are_cut() {
        assert_eq!(quote(&"x".repeat(500)).chars().count(), MAX_QUOTE_CHARS + 3);
    }
}
