//! The typed record of one hypothesis entry in docs/hypotheses.md, and the problem type every
//! parser and validator message uses.

use serde::Serialize;

/// The log every entry lives in, relative to the project root.
pub const HYPOTHESES_FILE: &str = "docs/hypotheses.md";

/// A problem with a place in docs/hypotheses.md. `Display` prefixes `docs/hypotheses.md:LINE: `.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

impl Problem {
    pub(crate) fn new(line: usize, message: impl Into<String>) -> Self {
        Problem {
            line,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            formatter,
            "{HYPOTHESES_FILE}:{}: {}",
            self.line, self.message
        )
    }
}

/// One labelled field: its text with the label removed and wrapped lines joined by one space,
/// and the 1-based line of its label.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub text: String,
    pub line: usize,
}

/// The outcome word a `### Result` block states (`· keep ·` or `Status: keep`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ResultStatus {
    Keep,
    Discard,
    Crash,
    Timeout,
}

/// The `### Result` block of an entry: its heading line, its last line with content, and its
/// lines (trimmed, `Learning:` lines excluded) joined by `\n`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResultBlock {
    pub line: usize,
    pub end_line: usize,
    pub text: String,
    pub status: Option<ResultStatus>,
}

/// One `## Experiment N — Title` entry. Fields are `None` when their label is absent; a label
/// present with no text gives a `Field` with empty text (validation names both cases).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub number: u32,
    pub title: String,
    /// Line of the heading.
    pub line: usize,
    pub hypothesis: Option<Field>,
    pub expected: Option<Field>,
    pub inspired_by: Option<Field>,
    pub risk: Option<Field>,
    pub direction: Option<Field>,
    pub again: Option<Field>,
    pub result: Option<ResultBlock>,
    /// The latest learning: a `Learning (update):` line supersedes the one before it.
    pub learning: Option<Field>,
    /// Learnings that a later `Learning (update):` superseded, oldest first.
    pub earlier_learnings: Vec<Field>,
    pub abandoned: Option<Field>,
    /// Last line of the entry that holds content (trailing blank lines and `---` excluded).
    pub end_line: usize,
    /// Structural problems found while parsing this entry (duplicate labels, a second result).
    pub problems: Vec<Problem>,
}

/// The whole parsed log: entries in file order, and problems that belong to no entry (a
/// heading without a number, a number used twice).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HypothesisLog {
    pub entries: Vec<Entry>,
    pub problems: Vec<Problem>,
}

impl HypothesisLog {
    /// The entry numbered `number` (the first, when a number is used twice).
    pub fn entry(&self, number: u32) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.number == number)
    }

    /// The number a new entry should take: one past the highest in the file.
    pub fn next_number(&self) -> u32 {
        self.entries
            .iter()
            .map(|entry| entry.number)
            .max()
            .map_or(1, |highest| highest.saturating_add(1))
    }
}
