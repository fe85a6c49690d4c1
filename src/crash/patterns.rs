//! The failure-pattern database: loads `assets/failures.toml` and a project's
//! `checks/failures.toml`, validates every entry with errors that name the file, the entry and
//! the fix, and compiles all regexes once into sets for fast matching.

use std::collections::HashSet;

use regex::{Regex, RegexBuilder, RegexSet, RegexSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use super::advice::{Extractors, TEMPLATE_VARIABLES};
use super::template::Template;
use super::traceback::TracebackParser;
use super::{PatternSource, CLASSES};

const BUILTIN_TOML: &str = include_str!("../../assets/failures.toml");
const BUILTIN_LABEL: &str = "assets/failures.toml (built into dfh)";
pub(super) const DEFAULT_PRIORITY: i64 = 50;
const DEFAULT_PROJECT_CAUSE: &str = "This project's learned failure ({class}): {match}";

/// Why a failure-pattern file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error(
        "{file}: not a valid failure-pattern file: {message}\nhint: each entry is a \
         [[pattern]] table with `class`, `regex` and `fix`, and optionally `priority` and `cause`"
    )]
    Parse { file: String, message: String },
    #[error(transparent)]
    Entry(Box<EntryError>),
    #[error(
        "{file}: the patterns cannot be compiled together: {error}\nhint: shorten the regexes"
    )]
    Set { file: String, error: String },
    #[error("dfh's own traceback grammar does not compile (a bug in dfh): {0}")]
    Grammar(#[from] regex::Error),
}

/// One bad `[[pattern]]` entry: where it is and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: [[pattern]] #{index}{}: {problem}", class_note(.class))]
pub struct EntryError {
    pub file: String,
    pub line: usize,
    /// 1-based position of the entry in the file.
    pub index: usize,
    /// The entry's class, once it is known to be valid.
    pub class: Option<String>,
    pub problem: EntryProblem,
}

fn class_note(class: &Option<String>) -> String {
    class
        .as_ref()
        .map(|class| format!(" (class {class})"))
        .unwrap_or_default()
}

/// What is wrong with a `[[pattern]]` entry.
#[derive(Debug, thiserror::Error)]
pub enum EntryProblem {
    #[error("unknown class {class:?}\nhint: use one of: {known}")]
    UnknownClass { class: String, known: String },
    #[error(
        "regex {regex:?} does not compile: {error}\nhint: the syntax is Rust's regex crate (no \
         look-around, no backreferences)"
    )]
    BadRegex { regex: String, error: String },
    #[error(
        "`{field}` uses unknown placeholder {{{name}}}\nhint: known placeholders: {known}, or a \
         named group of the regex"
    )]
    UnknownPlaceholder {
        field: &'static str,
        name: String,
        known: String,
    },
    #[error("`{field}` is empty\nhint: write the one fix (or cause) an agent should read")]
    EmptyText { field: &'static str },
}

/// One `[[pattern]]` entry as written in a failures.toml file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PatternEntry {
    pub(super) class: Spanned<String>,
    pub(super) regex: Spanned<String>,
    #[serde(default)]
    pub(super) priority: Option<i64>,
    #[serde(default)]
    pub(super) cause: Option<Spanned<String>>,
    pub(super) fix: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PatternFile {
    #[serde(default)]
    pattern: Vec<PatternEntry>,
}

/// A compiled entry.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    pub(super) class: String,
    pub(super) regex: Regex,
    pub(super) priority: i64,
    pub(super) cause: Template,
    pub(super) fix: Template,
    pub(super) source: PatternSource,
}

impl Pattern {
    /// A fallback pattern: any specific match elsewhere in the log beats it.
    pub(super) fn is_fallback(&self) -> bool {
        self.priority <= 0
    }
}

/// The failure patterns, compiled once: the project's entries first, then the built-in ones.
#[derive(Debug, Clone)]
pub struct PatternDb {
    /// Project patterns, then built-in patterns.
    patterns: Vec<Pattern>,
    project_count: usize,
    project_set: RegexSet,
    builtin_set: RegexSet,
    parser: TracebackParser,
    extractors: Extractors,
}

impl PatternDb {
    /// The built-in database alone.
    pub fn builtin() -> Result<Self, PatternError> {
        Self::build(Vec::new(), String::new())
    }

    /// The project's patterns (the text of its checks/failures.toml, named `file_label` in
    /// errors) tried before the built-in ones.
    pub fn with_project(project_toml: &str, file_label: &str) -> Result<Self, PatternError> {
        let project = load(project_toml, file_label, PatternSource::Project)?;
        Self::build(project, file_label.to_string())
    }

    fn build(project: Vec<Pattern>, project_label: String) -> Result<Self, PatternError> {
        let builtin = load(BUILTIN_TOML, BUILTIN_LABEL, PatternSource::Builtin)?;
        let project_set = regex_set(&project, &project_label)?;
        let builtin_set = regex_set(&builtin, BUILTIN_LABEL)?;
        let project_count = project.len();
        let mut patterns = project;
        patterns.extend(builtin);
        Ok(Self {
            patterns,
            project_count,
            project_set,
            builtin_set,
            parser: TracebackParser::new()?,
            extractors: Extractors::new()?,
        })
    }

    /// Number of project entries and of built-in entries.
    pub fn counts(&self) -> (usize, usize) {
        (self.project_count, self.patterns.len() - self.project_count)
    }

    pub fn parser(&self) -> &TracebackParser {
        &self.parser
    }

    pub(super) fn extractors(&self) -> &Extractors {
        &self.extractors
    }

    /// The deciding pattern for `text`: any project match beats every built-in one; among
    /// matches of one source the highest priority wins, then the earlier entry.
    pub(super) fn best_match(&self, text: &str) -> Option<&Pattern> {
        self.best_project_match(text)
            .or_else(|| self.best_in(&self.builtin_set, self.project_count, text))
    }

    pub(super) fn best_project_match(&self, text: &str) -> Option<&Pattern> {
        self.best_in(&self.project_set, 0, text)
    }

    fn best_in(&self, set: &RegexSet, offset: usize, text: &str) -> Option<&Pattern> {
        set.matches(text)
            .iter()
            .map(|index| (offset + index, &self.patterns[offset + index]))
            .min_by_key(|(index, pattern)| (std::cmp::Reverse(pattern.priority), *index))
            .map(|(_, pattern)| pattern)
    }
}

/// Compiles a regex the way the database does (multi-line).
pub(super) fn compile_regex(regex: &str) -> Result<Regex, regex::Error> {
    RegexBuilder::new(regex).multi_line(true).build()
}

fn regex_set(patterns: &[Pattern], file: &str) -> Result<RegexSet, PatternError> {
    RegexSetBuilder::new(patterns.iter().map(|pattern| pattern.regex.as_str()))
        .multi_line(true)
        .build()
        .map_err(|error| PatternError::Set {
            file: file.to_string(),
            error: error.to_string(),
        })
}

/// Parses a failures.toml text into its raw entries.
pub(super) fn parse_entries(text: &str, file: &str) -> Result<Vec<PatternEntry>, PatternError> {
    toml::from_str::<PatternFile>(text)
        .map(|parsed| parsed.pattern)
        .map_err(|error| PatternError::Parse {
            file: file.to_string(),
            message: error.to_string().trim_end().to_string(),
        })
}

fn load(text: &str, file: &str, source: PatternSource) -> Result<Vec<Pattern>, PatternError> {
    parse_entries(text, file)?
        .into_iter()
        .enumerate()
        .map(|(index, entry)| compile_entry(text, file, index + 1, entry, source))
        .collect()
}

fn line_of(text: &str, byte: usize) -> usize {
    text.as_bytes()[..byte.min(text.len())]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

fn compile_entry(
    text: &str,
    file: &str,
    index: usize,
    entry: PatternEntry,
    source: PatternSource,
) -> Result<Pattern, PatternError> {
    let entry_error = |byte: usize, class: Option<&str>, problem| {
        PatternError::Entry(Box::new(EntryError {
            file: file.to_string(),
            line: line_of(text, byte),
            index,
            class: class.map(str::to_string),
            problem,
        }))
    };
    let class = entry.class.get_ref().as_str();
    if !CLASSES.contains(&class) {
        let problem = EntryProblem::UnknownClass {
            class: class.to_string(),
            known: CLASSES.join(", "),
        };
        return Err(entry_error(entry.class.span().start, None, problem));
    }
    let regex = compile_regex(entry.regex.get_ref()).map_err(|error| {
        let problem = EntryProblem::BadRegex {
            regex: entry.regex.get_ref().clone(),
            error: error.to_string(),
        };
        entry_error(entry.regex.span().start, Some(class), problem)
    })?;
    let groups: HashSet<&str> = regex.capture_names().flatten().collect();
    let fix_start = entry.fix.span().start;
    let cause = match &entry.cause {
        Some(cause) => (cause.span().start, cause.get_ref().as_str()),
        None => (fix_start, DEFAULT_PROJECT_CAUSE),
    };
    let mut templates = Vec::new();
    for (field, (start, template_text)) in
        [("cause", cause), ("fix", (fix_start, entry.fix.get_ref()))]
    {
        if template_text.trim().is_empty() {
            return Err(entry_error(
                start,
                Some(class),
                EntryProblem::EmptyText { field },
            ));
        }
        let template = Template::parse(template_text);
        let unknown = template
            .variables()
            .find(|name| !TEMPLATE_VARIABLES.contains(name) && !groups.contains(name));
        if let Some(name) = unknown {
            let problem = EntryProblem::UnknownPlaceholder {
                field,
                name: name.to_string(),
                known: TEMPLATE_VARIABLES.join(", "),
            };
            return Err(entry_error(start, Some(class), problem));
        }
        templates.push(template);
    }
    let fix = templates.pop().unwrap_or_else(|| Template::parse(""));
    let cause = templates.pop().unwrap_or_else(|| Template::parse(""));
    Ok(Pattern {
        class: class.to_string(),
        regex,
        priority: entry.priority.unwrap_or(DEFAULT_PRIORITY),
        cause,
        fix,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_database_loads_and_covers_every_class() {
        let database = PatternDb::builtin().unwrap();
        let covered: HashSet<&str> = database.patterns.iter().map(|p| p.class.as_str()).collect();
        for class in CLASSES {
            assert!(covered.contains(class), "no built-in pattern for {class}");
        }
    }

    #[test]
    fn project_entries_win_over_builtin_ones() {
        let project = "[[pattern]]\nclass = \"other\"\nregex = 'CUDA out of memory'\nfix = \"x\"\n";
        let database = PatternDb::with_project(project, "checks/failures.toml").unwrap();
        assert_eq!(database.counts().0, 1);
        let best = database
            .best_match("RuntimeError: CUDA out of memory")
            .unwrap();
        assert_eq!(
            (best.class.as_str(), best.source),
            ("other", PatternSource::Project)
        );
    }

    fn load_error(text: &str) -> String {
        PatternDb::with_project(text, "checks/failures.toml")
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_bad_class_is_named_with_file_line_and_entry() {
        let text = "[[pattern]]\nclass = \"other\"\nregex = 'a'\nfix = \"x\"\n\n[[pattern]]\nclass = \"oom\"\nregex = 'b'\nfix = \"y\"\n";
        let message = load_error(text);
        assert!(
            message.starts_with("checks/failures.toml:7: [[pattern]] #2: unknown class \"oom\"")
        );
        assert!(message.contains("oom_gpu, oom_host"));
    }

    #[test]
    fn a_bad_regex_quotes_the_regex_error() {
        let message = load_error("[[pattern]]\nclass = \"other\"\nregex = 'a(b'\nfix = \"x\"\n");
        assert!(message.starts_with("checks/failures.toml:3: [[pattern]] #1 (class other)"));
        assert!(message.contains("unclosed group"), "{message}");
    }

    #[test]
    fn unknown_fields_placeholders_and_missing_fix_are_refused() {
        let unknown_field =
            load_error("[[pattern]]\nclass = \"other\"\nregex = 'a'\nfix = \"x\"\nfixx = \"y\"\n");
        assert!(
            unknown_field.contains("unknown field `fixx`"),
            "{unknown_field}"
        );
        let placeholder =
            load_error("[[pattern]]\nclass = \"other\"\nregex = 'a'\nfix = \"{nope}\"\n");
        assert!(
            placeholder.contains("unknown placeholder {nope}"),
            "{placeholder}"
        );
        let missing = load_error("[[pattern]]\nclass = \"other\"\nregex = 'a'\n");
        assert!(missing.contains("missing field `fix`"), "{missing}");
    }

    #[test]
    fn named_groups_are_placeholders() {
        let text = "[[pattern]]\nclass = \"other\"\nregex = 'lost (?P<thing>\\w+)'\nfix = \"find {thing}\"\n";
        assert!(PatternDb::with_project(text, "f").is_ok());
    }
}
