//! Finds the references inside an `Inspired by` field, in prose too: paths (`docs/papers/x.md`,
//! `papers/x.md#method`, `../x.md`, `/etc/x`), URLs, and experiments (`Experiment 9`, `exp 9`,
//! `#9`, `Experiments 3, 5 and 9`). Resolving them is citation.rs's job.

use std::sync::OnceLock;

use regex::Regex;

use super::labels::cached;

const DOCUMENT_EXTENSIONS: &[&str] = &[".md", ".markdown", ".txt", ".pdf", ".rst"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reference {
    Path {
        written: String,
        path: String,
        anchor: Option<String>,
    },
    Url(String),
    Experiment {
        written: String,
        number: Option<u32>,
    },
}

static TOKEN: OnceLock<Option<Regex>> = OnceLock::new();
const TOKEN_PATTERN: &str = r#"[^\s;,()\[\]<>"'`*]+"#;
static EXPERIMENT: OnceLock<Option<Regex>> = OnceLock::new();
const EXPERIMENT_PATTERN: &str = r"(?i)\b(?:experiments?|exps?|expts?)\.?\s*(?:#\s*|no\.?\s*)?(\d+(?:\s*(?:,|&|/|and|or)\s*#?\d+)*)\b|(?:^|[^\w#&])#(\d+)\b";
static DIGITS: OnceLock<Option<Regex>> = OnceLock::new();
const DIGITS_PATTERN: &str = r"\d+";

/// Every reference in the text, in order of kind (paths and URLs first, then experiments).
pub(crate) fn references(text: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    let mut blanked = text.as_bytes().to_vec();
    if let Some(token) = cached(&TOKEN, TOKEN_PATTERN) {
        for matched in token.find_iter(text) {
            let written = matched.as_str().trim_end_matches(['.', ':', '!', '?']);
            let reference = if written.contains("://") {
                Reference::Url(written.to_string())
            } else if looks_like_path(written) {
                let (path, anchor) = match written.split_once('#') {
                    Some((path, anchor)) => (path, Some(anchor.to_string())),
                    None => (written, None),
                };
                Reference::Path {
                    written: written.to_string(),
                    path: path.to_string(),
                    anchor,
                }
            } else {
                continue;
            };
            found.push(reference);
            // Blank paths and URLs so their digits and anchors are not read as experiments.
            blanked[matched.range()].fill(b' ');
        }
    }
    let blanked = String::from_utf8_lossy(&blanked);
    let (Some(experiment), Some(digits)) = (
        cached(&EXPERIMENT, EXPERIMENT_PATTERN),
        cached(&DIGITS, DIGITS_PATTERN),
    ) else {
        return found;
    };
    for captures in experiment.captures_iter(&blanked) {
        let Some(numbers) = captures.get(1).or_else(|| captures.get(2)) else {
            continue;
        };
        let single = digits.find_iter(numbers.as_str()).count() == 1;
        let whole = captures.get(0).map_or("", |whole| whole.as_str());
        let whole = match (captures.get(2), whole.find('#')) {
            (Some(_), Some(hash)) => &whole[hash..],
            _ => whole,
        };
        for number in digits.find_iter(numbers.as_str()) {
            let written = if single {
                whole.trim().to_string()
            } else {
                format!("Experiment {}", number.as_str())
            };
            found.push(Reference::Experiment {
                written,
                number: number.as_str().parse().ok(),
            });
        }
    }
    found
}

fn looks_like_path(token: &str) -> bool {
    let path = token.split('#').next().unwrap_or(token).to_lowercase();
    let has_extension = DOCUMENT_EXTENSIONS
        .iter()
        .any(|extension| path.len() > extension.len() && path.ends_with(extension));
    let rooted = ["docs/", "papers/", "./", "../", "~/", "/", "\\"]
        .iter()
        .any(|prefix| path.starts_with(prefix) && path.len() > prefix.len());
    has_extension || rooted || is_windows_absolute(&path)
}

pub(crate) fn is_windows_absolute(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.len() > 2
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && b"/\\".contains(&bytes[2])
}
