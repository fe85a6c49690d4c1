//! Reading one cell: numbers and the sentinels that mean "no value", status spellings,
//! a status written at the start of a description, and whether a commit is a git hash.

use super::ImportedStatus;

/// What a numeric cell holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Cell {
    Number(f64),
    /// Empty, `N/A`, `-999`, `FAILED` and the like: the run left no value.
    NoValue,
    /// Text that is neither a number nor a known no-value marker.
    Text,
}

/// Words that loops write instead of a number when a run produced none.
const NO_VALUE_WORDS: &[&str] = &[
    "", "-", "--", "—", "–", "?", "n/a", "na", "n.a.", "none", "null", "nil", "missing", "failed",
    "fail", "failure", "error", "err", "crash", "crashed", "oom", "timeout", "skipped", "pending",
    "tbd", "todo",
];

/// Numbers used as "no value" sentinels (a trading loop writes -999 for a run with no trades).
const NO_VALUE_NUMBERS: &[f64] = &[-999.0, -9999.0, -99999.0, -1e9];

/// Reads a numeric cell. Accepts a trailing `%`, a trailing unit (`301s`, `12.5 GB`) or a
/// comment after the number (`0.987 (new best)`); `nan` and `inf` are numbers here and the
/// caller decides what they mean for the row.
pub(super) fn read_number(cell: &str) -> Cell {
    let trimmed = cell.trim();
    let lower = trimmed.to_lowercase();
    if NO_VALUE_WORDS.contains(&lower.as_str()) {
        return Cell::NoValue;
    }
    let Some(number) = parse_leading_number(&lower) else {
        return Cell::Text;
    };
    if NO_VALUE_NUMBERS.contains(&number) {
        return Cell::NoValue;
    }
    Cell::Number(number)
}

fn parse_leading_number(lower: &str) -> Option<f64> {
    if let Ok(number) = lower.parse::<f64>() {
        return Some(number);
    }
    let first = lower
        .split(|c: char| c.is_whitespace() || c == '(')
        .next()?;
    let without_unit = first.trim_end_matches(|c: char| c.is_ascii_alphabetic() || c == '%');
    let starts_numeric =
        without_unit.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.'));
    if !starts_numeric {
        return None;
    }
    without_unit.parse::<f64>().ok()
}

/// Maps a status spelling to a status; `None` for a blank cell. Unknown spellings are kept
/// verbatim as `Other`.
pub(super) fn read_status(cell: &str) -> Option<ImportedStatus> {
    let trimmed = cell.trim();
    if trimmed.is_empty() {
        return None;
    }
    Some(known_status(trimmed).unwrap_or_else(|| ImportedStatus::Other(trimmed.to_string())))
}

/// The known status that a spelling names, trying the whole cell and then its first word
/// (`keep (new best)`, `discard - worse`).
pub(super) fn known_status(text: &str) -> Option<ImportedStatus> {
    let normalized = normalize(text);
    if let Some(status) = status_of_word(&normalized) {
        return Some(status);
    }
    let first_word = normalized.split('_').find(|word| !word.is_empty())?;
    status_of_word(first_word)
}

fn normalize(text: &str) -> String {
    let lower = text.trim().to_lowercase();
    let mapped: String = lower
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '✅' || c == '❌' {
                c
            } else {
                '_'
            }
        })
        .collect();
    mapped.trim_matches('_').to_string()
}

fn status_of_word(word: &str) -> Option<ImportedStatus> {
    let status = match word {
        "keep" | "kept" | "keeper" | "best" | "new_best" | "baseline" | "improved"
        | "improvement" | "improves" | "win" | "won" | "winner" | "accept" | "accepted"
        | "adopted" | "advance" | "advanced" | "✅" => ImportedStatus::Keep,
        "discard" | "discarded" | "revert" | "reverted" | "rollback" | "rolled_back" | "worse"
        | "miss" | "missed" | "no_improvement" | "not_improved" | "no_gain" | "reject"
        | "rejected" | "regress" | "regressed" | "regression" | "drop" | "dropped" | "lose"
        | "lost" | "❌" => ImportedStatus::Discard,
        "crash" | "crashed" | "fail" | "failed" | "failure" | "error" | "errored" | "oom"
        | "killed" | "exception" | "broken" | "diverged" => ImportedStatus::Crash,
        "timeout" | "timed_out" | "time_out" | "timedout" => ImportedStatus::Timeout,
        _ => return None,
    };
    Some(status)
}

/// A status that opens a description, as in `keep — depth=6` or `discard: worse`: the word must
/// be followed by a separator (dash, colon, comma, bar, bracket) so that a description that
/// merely starts with "improved" is not read as a status.
pub(super) fn status_in_description(description: &str) -> Option<ImportedStatus> {
    let trimmed = description.trim_start().trim_start_matches(['[', '(']);
    let word_end = trimmed.find(|c: char| !(c.is_alphanumeric() || c == '_'))?;
    let (word, rest) = trimmed.split_at(word_end);
    let bracketed = rest.starts_with([']', ')']);
    let separated = bracketed
        || rest
            .trim_start()
            .starts_with(['—', '–', '-', ':', ',', '|', ';']);
    if !separated {
        return None;
    }
    status_of_word(&normalize(word))
}

/// A git object name: 7 to 64 hexadecimal characters and nothing else.
pub(super) fn is_hex_commit(text: &str) -> bool {
    (7..=64).contains(&text.len()) && text.chars().all(|c| c.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sentinels() {
        assert_eq!(read_number("1.879448"), Cell::Number(1.879448));
        assert_eq!(read_number(" -0.014182 "), Cell::Number(-0.014182));
        assert_eq!(read_number("-999.000"), Cell::NoValue);
        assert_eq!(read_number("-999"), Cell::NoValue);
        assert_eq!(read_number("N/A"), Cell::NoValue);
        assert_eq!(read_number("NA"), Cell::NoValue);
        assert_eq!(read_number("FAILED"), Cell::NoValue);
        assert_eq!(read_number(""), Cell::NoValue);
        assert_eq!(read_number("301s"), Cell::Number(301.0));
        assert_eq!(read_number("79.4%"), Cell::Number(79.4));
        assert_eq!(read_number("0.987 (new best)"), Cell::Number(0.987));
        assert_eq!(read_number("val_bpb"), Cell::Text);
        assert!(matches!(read_number("nan"), Cell::Number(value) if value.is_nan()));
    }

    #[test]
    fn status_spellings() {
        for keep in [
            "keep", "KEEP", "kept", "best", "baseline", "BASELINE", "improved", "WIN",
        ] {
            assert_eq!(read_status(keep), Some(ImportedStatus::Keep), "{keep}");
        }
        for discard in [
            "discard",
            "REVERT",
            "reverted",
            "worse",
            "MISS",
            "no_improvement",
        ] {
            assert_eq!(
                read_status(discard),
                Some(ImportedStatus::Discard),
                "{discard}"
            );
        }
        for crash in ["crash", "fail", "failed", "error", "CRASH"] {
            assert_eq!(read_status(crash), Some(ImportedStatus::Crash), "{crash}");
        }
        assert_eq!(read_status("timeout"), Some(ImportedStatus::Timeout));
        assert_eq!(read_status("timed out"), Some(ImportedStatus::Timeout));
        assert_eq!(read_status("keep (new best)"), Some(ImportedStatus::Keep));
        assert_eq!(read_status("no improvement"), Some(ImportedStatus::Discard));
        assert_eq!(
            read_status("size_violation"),
            Some(ImportedStatus::Other("size_violation".to_string()))
        );
        assert_eq!(
            read_status("MATCH"),
            Some(ImportedStatus::Other("MATCH".to_string()))
        );
        assert_eq!(read_status("  "), None);
    }

    #[test]
    fn status_opening_a_description() {
        assert_eq!(
            status_in_description("keep — depth=6"),
            Some(ImportedStatus::Keep)
        );
        assert_eq!(
            status_in_description("discard: worse"),
            Some(ImportedStatus::Discard)
        );
        assert_eq!(
            status_in_description("[crash] OOM"),
            Some(ImportedStatus::Crash)
        );
        assert_eq!(
            status_in_description("baseline — ridge"),
            Some(ImportedStatus::Keep)
        );
        assert_eq!(status_in_description("improved the loader a lot"), None);
        assert_eq!(status_in_description("keep"), None);
        assert_eq!(status_in_description("—"), None);
    }

    #[test]
    fn hex_commits() {
        assert!(is_hex_commit("69401db"));
        assert!(!is_hex_commit("exp0"));
        assert!(!is_hex_commit("PENDING"));
        assert!(!is_hex_commit("69401db-dirty"));
        assert!(!is_hex_commit("abc"));
    }
}
