//! Recognises the labels agents write in an entry (`Hypothesis:`, `**Risk:**`, `- Expected:`,
//! `### Hypothesis`) and the experiment headings, tolerant of markup, case and synonyms.

use std::sync::OnceLock;

use regex::Regex;

/// What a label line starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Label {
    Hypothesis,
    Expected,
    InspiredBy,
    Risk,
    Direction,
    Again,
    Learning,
    LearningUpdate,
    Abandoned,
    /// `Result:` written inline instead of a `### Result` heading.
    Result,
    /// A label dfh knows but does not store (`Notes:`, `Change:`): it ends the field above.
    Other,
}

impl Label {
    /// The canonical spelling, as `dfh plan` writes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Label::Hypothesis => "Hypothesis",
            Label::Expected => "Expected outcome",
            Label::InspiredBy => "Inspired by",
            Label::Risk => "Risk",
            Label::Direction => "Direction",
            Label::Again => "Again",
            Label::Learning => "Learning",
            Label::LearningUpdate => "Learning (update)",
            Label::Abandoned => "Abandoned",
            Label::Result => "Result",
            Label::Other => "",
        }
    }
}

/// Lower case, `-`/`_` as spaces, runs of spaces collapsed, a trailing `:` dropped.
pub(crate) fn normalize(label: &str) -> String {
    let label = label.trim().trim_end_matches(':');
    let spaced = label.to_lowercase().replace(['-', '_'], " ");
    spaced.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `lookup(&normalize(written))` without allocating: labels are short and ASCII, and this runs
/// for every line of a 10,000-entry log.
pub(crate) fn lookup_label(written: &str) -> Option<Label> {
    let mut buffer = [0u8; 40];
    let mut length = 0;
    let mut pending_space = false;
    for byte in written.trim().trim_end_matches(':').bytes() {
        let byte = match byte {
            b'-' | b'_' => b' ',
            byte => byte,
        };
        if byte.is_ascii_whitespace() {
            pending_space = length > 0;
            continue;
        }
        if !byte.is_ascii() || length + 2 > buffer.len() {
            return None;
        }
        if pending_space {
            buffer[length] = b' ';
            length += 1;
            pending_space = false;
        }
        buffer[length] = byte.to_ascii_lowercase();
        length += 1;
    }
    lookup(std::str::from_utf8(&buffer[..length]).ok()?)
}

pub(crate) fn lookup(normalized: &str) -> Option<Label> {
    let label = match normalized {
        "hypothesis" => Label::Hypothesis,
        "expected outcome" | "expected" | "expected result" | "expected results"
        | "expectation" | "prediction" => Label::Expected,
        "inspired by" | "inspiration" | "motivated by" | "motivation" => Label::InspiredBy,
        "risk" | "risks" => Label::Risk,
        "direction" | "research direction" => Label::Direction,
        "again" => Label::Again,
        "learning" | "learnings" | "lesson" | "lessons" => Label::Learning,
        "learning (update)" | "learning update" => Label::LearningUpdate,
        "abandoned" => Label::Abandoned,
        "result" | "results" => Label::Result,
        "note" | "notes" | "change" | "changes" | "plan" | "implementation" | "details"
        | "status" | "diagnostics" => Label::Other,
        _ => return None,
    };
    Some(label)
}

/// A line's content with blockquote `>` and a list marker (`-`, `*`, `+`, `1.`, `1)`) removed.
pub(crate) fn strip_markers(line: &str) -> &str {
    let mut rest = line.trim();
    while let Some(quoted) = rest.strip_prefix('>') {
        rest = quoted.trim_start();
    }
    for marker in ["- ", "* ", "+ "] {
        if let Some(item) = rest.strip_prefix(marker) {
            return item.trim_start();
        }
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits > 0 && digits < 10 {
        let after = &rest[digits..];
        if let Some(item) = after
            .strip_prefix(". ")
            .or_else(|| after.strip_prefix(") "))
        {
            return item.trim_start();
        }
    }
    rest
}

/// Splits `Label: rest` (plain, `**Label:** rest`, `**Label**: rest`, `*Label*:`, `__Label__:`)
/// into the label as written and the rest. The label is at most 40 bytes of words.
pub(crate) fn split_label(line: &str) -> Option<(&str, &str)> {
    let content = strip_markers(line);
    let opener = ["**", "__", "*", "_"]
        .into_iter()
        .find(|opener| content.starts_with(opener))
        .unwrap_or("");
    let inner = &content[opener.len()..];
    let colon = inner.find(':')?;
    if colon == 0 || colon > 40 {
        return None;
    }
    let before = &inner[..colon];
    let after = &inner[colon + 1..];
    let (label, rest) = if opener.is_empty() {
        (before, after)
    } else if let Some(label) = before.strip_suffix(opener) {
        (label, after)
    } else {
        let rest = after.strip_prefix(opener).unwrap_or(after);
        (before, rest.strip_suffix(opener).unwrap_or(rest))
    };
    let plausible = label.chars().next().is_some_and(char::is_alphabetic)
        && label
            .chars()
            .all(|character| character.is_alphanumeric() || " -_@()./".contains(character));
    plausible.then(|| (label.trim(), rest.trim()))
}

/// What a heading inside docs/hypotheses.md is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeadingKind {
    Experiment {
        number: u32,
        title: String,
    },
    /// `## Experiment — Title` or `## Experiment N — Title`: an entry dfh cannot track.
    ExperimentWithoutNumber,
    Other,
}

/// A regex compiled once. Patterns are constants checked by the tests, so `None` (never
/// expected) only makes the caller see no match instead of panicking.
pub(crate) fn cached(
    cell: &'static OnceLock<Option<Regex>>,
    pattern: &str,
) -> Option<&'static Regex> {
    cell.get_or_init(|| Regex::new(pattern).ok()).as_ref()
}

static UNNUMBERED_HEADING: OnceLock<Option<Regex>> = OnceLock::new();
const UNNUMBERED_HEADING_PATTERN: &str =
    r"(?i)^(?:experiment|exp)\.?\s*(?:$|[—–:|#-]|(?:n|x|nn|\?+|<\w*>|#n)(?:\s|$|[—–:|-]))";

/// `Experiment 14 — Title`, `Exp. #14: Title`, `Expt No. 14 - Title` -> ("14", "Title").
/// Written by hand: a regex here cost a tenth of the time of parsing a 10,000-entry log.
fn numbered_heading(text: &str) -> Option<(&str, &str)> {
    let word_length = ["experiment", "expt", "exp"].into_iter().find_map(|word| {
        let start = text.get(..word.len())?;
        start.eq_ignore_ascii_case(word).then_some(word.len())
    })?;
    let mut rest = &text[word_length..];
    rest = rest.strip_prefix('.').unwrap_or(rest).trim_start();
    if let Some(after) = rest.strip_prefix('#') {
        rest = after.trim_start();
    } else if rest
        .get(..3)
        .is_some_and(|start| start.eq_ignore_ascii_case("no."))
    {
        rest = rest[3..].trim_start();
    }
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let after = &rest[digits..];
    let joined = after
        .chars()
        .next()
        .is_some_and(|next| next.is_alphanumeric() || next == '_');
    if digits == 0 || joined {
        return None;
    }
    let title = after
        .trim_start()
        .trim_start_matches(['—', '–', ':', '.', '|', '-'])
        .trim_start();
    Some((&rest[..digits], title))
}

pub(crate) fn classify_heading(text: &str) -> HeadingKind {
    let text = text.trim();
    if !text
        .get(..3)
        .is_some_and(|start| start.eq_ignore_ascii_case("exp"))
    {
        return HeadingKind::Other;
    }
    if let Some((digits, title)) = numbered_heading(text) {
        return match digits.parse::<u32>() {
            Ok(number) => HeadingKind::Experiment {
                number,
                title: title.to_string(),
            },
            Err(_) => HeadingKind::ExperimentWithoutNumber,
        };
    }
    let unnumbered = cached(&UNNUMBERED_HEADING, UNNUMBERED_HEADING_PATTERN);
    if unnumbered.is_some_and(|pattern| pattern.is_match(text)) {
        return HeadingKind::ExperimentWithoutNumber;
    }
    HeadingKind::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label_of(line: &str) -> Option<(Label, &str)> {
        let (label, rest) = split_label(line)?;
        let label_kind = lookup_label(label);
        assert_eq!(label_kind, lookup(&normalize(label)), "{line}");
        Some((label_kind?, rest))
    }

    #[test]
    fn recognises_label_spellings() {
        let cases = [
            ("Hypothesis: x", Label::Hypothesis),
            ("**Hypothesis:** x", Label::Hypothesis),
            ("**Hypothesis**: x", Label::Hypothesis),
            ("*Hypothesis*: x", Label::Hypothesis),
            ("__Hypothesis__: x", Label::Hypothesis),
            ("- Hypothesis: x", Label::Hypothesis),
            ("* **Risk:** x", Label::Risk),
            ("1. Expected: x", Label::Expected),
            ("expected outcome: x", Label::Expected),
            ("Expected Outcome: x", Label::Expected),
            ("> Inspired-by: x", Label::InspiredBy),
            ("Inspired by: x", Label::InspiredBy),
            ("Motivation: x", Label::InspiredBy),
            ("Learning (update): x", Label::LearningUpdate),
            ("  Direction:   x  ", Label::Direction),
        ];
        for (line, expected) in cases {
            assert_eq!(label_of(line), Some((expected, "x")), "{line}");
        }
    }

    #[test]
    fn prose_with_colons_is_not_a_label() {
        for line in [
            "The lr: 3e-4 works",
            "see https://x.org",
            "Hypothesis",
            "time 10:30 is",
        ] {
            assert_eq!(label_of(line), None, "{line}");
        }
    }

    #[test]
    fn heading_patterns_compile() {
        assert!(cached(&UNNUMBERED_HEADING, UNNUMBERED_HEADING_PATTERN).is_some());
    }

    #[test]
    fn classifies_headings() {
        let experiment = |number: u32, title: &str| HeadingKind::Experiment {
            number,
            title: title.to_string(),
        };
        assert_eq!(
            classify_heading("Experiment 14 — Deeper head"),
            experiment(14, "Deeper head")
        );
        assert_eq!(
            classify_heading("Experiment 14 – Deeper head"),
            experiment(14, "Deeper head")
        );
        assert_eq!(
            classify_heading("Experiment 14 - Deeper head"),
            experiment(14, "Deeper head")
        );
        assert_eq!(
            classify_heading("Exp 14: Deeper head"),
            experiment(14, "Deeper head")
        );
        assert_eq!(
            classify_heading("experiment #14 Deeper head"),
            experiment(14, "Deeper head")
        );
        assert_eq!(classify_heading("Experiment 14"), experiment(14, ""));
        assert_eq!(
            classify_heading("Expt. No. 14 -- Deeper"),
            experiment(14, "Deeper")
        );
        assert_eq!(
            classify_heading("EXPERIMENT 14:Deeper"),
            experiment(14, "Deeper")
        );
        assert_eq!(classify_heading("Experiment 14a — x"), HeadingKind::Other);
        assert_eq!(
            classify_heading("Experiment 99999999999 — x"),
            HeadingKind::ExperimentWithoutNumber
        );
        assert_eq!(
            classify_heading("Experiment — Deeper"),
            HeadingKind::ExperimentWithoutNumber
        );
        assert_eq!(
            classify_heading("Experiment N — Title"),
            HeadingKind::ExperimentWithoutNumber
        );
        assert_eq!(
            classify_heading("Experiment"),
            HeadingKind::ExperimentWithoutNumber
        );
        assert_eq!(classify_heading("Experimental setup"), HeadingKind::Other);
        assert_eq!(classify_heading("Exp. design notes"), HeadingKind::Other);
        assert_eq!(classify_heading("Experiments so far"), HeadingKind::Other);
    }
}
