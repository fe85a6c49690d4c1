//! The immune memory: `dfh crash learn` appends a validated failure pattern to the project's
//! checks/failures.toml, leaving every byte already there untouched.

use super::advice::TEMPLATE_VARIABLES;
use super::patterns::{compile_regex, parse_entries, PatternDb, PatternError};
use super::template::Template;
use super::traceback::TracebackParser;
use super::CLASSES;

const PROJECT_FILE: &str = "checks/failures.toml";

/// Why a pattern cannot be learned.
#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("unknown class {class:?}\nhint: use one of: {known}")]
    UnknownClass { class: String, known: String },
    #[error(
        "the pattern {regex:?} is not a valid regex: {error}\nhint: the syntax is Rust's regex \
         crate; escape metacharacters such as ( ) [ ] . with a backslash"
    )]
    InvalidRegex { regex: String, error: String },
    #[error(
        "the pattern {regex:?} does not match the log it was learned from\nhint: use the \
         distinctive part of the error line, with metacharacters escaped"
    )]
    NoMatch { regex: String },
    #[error(
        "{PROJECT_FILE} already has class {class} with the pattern {regex:?}\nhint: nothing to \
         learn; edit that entry to change its fix"
    )]
    Duplicate { class: String, regex: String },
    #[error("the fix is empty\nhint: write the one fix an agent should apply next time")]
    EmptyFix,
    #[error(
        "the fix uses unknown placeholder {{{name}}}\nhint: known placeholders: {known}, or a \
         named group of the pattern"
    )]
    UnknownPlaceholder { name: String, known: String },
    #[error("{PROJECT_FILE} must be fixed before a pattern can be added to it: {0}")]
    Existing(#[source] PatternError),
}

/// Returns `existing_project_toml` with one `[[pattern]]` entry appended, after checking the
/// class, the regex, that it matches `sample_log` (when given) and that it is not a duplicate.
pub fn learn(
    existing_project_toml: &str,
    class: &str,
    pattern: &str,
    fix: &str,
    sample_log: Option<&str>,
) -> Result<String, LearnError> {
    if !CLASSES.contains(&class) {
        return Err(LearnError::UnknownClass {
            class: class.to_string(),
            known: CLASSES.join(", "),
        });
    }
    let regex = compile_regex(pattern).map_err(|error| LearnError::InvalidRegex {
        regex: pattern.to_string(),
        error: error.to_string(),
    })?;
    if fix.trim().is_empty() {
        return Err(LearnError::EmptyFix);
    }
    let groups: Vec<&str> = regex.capture_names().flatten().collect();
    let template = Template::parse(fix);
    let unknown = template
        .variables()
        .find(|name| !TEMPLATE_VARIABLES.contains(name) && !groups.contains(name));
    if let Some(name) = unknown {
        return Err(LearnError::UnknownPlaceholder {
            name: name.to_string(),
            known: TEMPLATE_VARIABLES.join(", "),
        });
    }
    if let Some(log) = sample_log {
        // The advisor matches cleaned lines (launcher prefixes removed); accept either form.
        let cleaned = TracebackParser::new()
            .map(|parser| parser.parse(log).meaningful_text())
            .unwrap_or_default();
        if !regex.is_match(log) && !regex.is_match(&cleaned) {
            return Err(LearnError::NoMatch {
                regex: pattern.to_string(),
            });
        }
    }
    PatternDb::with_project(existing_project_toml, PROJECT_FILE).map_err(LearnError::Existing)?;
    let entries =
        parse_entries(existing_project_toml, PROJECT_FILE).map_err(LearnError::Existing)?;
    if entries
        .iter()
        .any(|entry| entry.class.get_ref() == class && entry.regex.get_ref() == pattern)
    {
        return Err(LearnError::Duplicate {
            class: class.to_string(),
            regex: pattern.to_string(),
        });
    }
    let mut text = existing_project_toml.to_string();
    if !text.is_empty() {
        if !text.ends_with('\n') {
            text.push('\n');
        }
        text.push('\n');
    }
    text.push_str(&format!(
        "[[pattern]]\nclass = {}\nregex = {}\nfix = {}\n",
        toml_string(class),
        toml_string(pattern),
        toml_string(fix)
    ));
    Ok(text)
}

fn toml_string(text: &str) -> String {
    toml::Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::super::corpus_tests::builtin_database;
    use super::super::{diagnose, ExitInfo, PatternSource, ProjectFiles};
    use super::*;

    const EXISTING: &str = "# learned failures\n[[pattern]]\nclass = \"other\"\nregex = 'flux capacitor'\nfix = \"recharge\"";

    #[test]
    fn a_learned_pattern_classifies_a_log_that_was_unclassified() {
        let log = "step 10 loss 2.1\nfatal: shard 7 of the tokenized corpus is truncated\n";
        let exit = ExitInfo {
            code: Some(1),
            ..ExitInfo::default()
        };
        let project = ProjectFiles::default();
        let before = diagnose(log, &exit, builtin_database(), &project, &[]);
        assert_eq!(before.class, "unclassified");
        assert!(before
            .fix
            .contains("dfh crash learn --class C --pattern RE --fix TEXT --from N"));

        let pattern = r"shard \d+ of the tokenized corpus is truncated";
        let fix = "Re-run prepare.py to rebuild the shards (it is read-only: ask the human).";
        let learned = learn(EXISTING, "file_not_found", pattern, fix, Some(log)).unwrap();
        assert!(
            learned.starts_with(EXISTING),
            "existing text must be kept byte for byte"
        );
        let database = PatternDb::with_project(&learned, "checks/failures.toml").unwrap();
        let after = diagnose(log, &exit, &database, &project, &[]);
        assert_eq!(after.class, "file_not_found");
        assert_eq!(after.pattern_source, PatternSource::Project);
        assert_eq!(after.fix, fix);
        assert!(after
            .cause
            .contains("shard 7 of the tokenized corpus is truncated"));
    }

    #[test]
    fn learning_into_the_scaffolded_header_keeps_it() {
        let header = "# This project's learned failure patterns.\n#   dfh crash learn --class CLASS --pattern REGEX --fix \"what to do\" --from N\n";
        let learned = learn(
            header,
            "oom_gpu",
            "my custom allocator is full",
            "halve it",
            None,
        )
        .unwrap();
        assert!(learned.starts_with(header));
        assert_eq!(parse_entries(&learned, "f").unwrap().len(), 1);
    }

    #[test]
    fn a_duplicate_is_refused() {
        let error = learn(EXISTING, "other", "flux capacitor", "again", None).unwrap_err();
        assert!(matches!(error, LearnError::Duplicate { .. }), "{error}");
    }

    #[test]
    fn an_invalid_regex_is_refused_with_the_regex_error() {
        let error = learn("", "other", "unclosed (group", "fix", None).unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("\"unclosed (group\" is not a valid regex"),
            "{message}"
        );
        assert!(message.contains("unclosed group"), "{message}");
    }

    #[test]
    fn an_unknown_class_lists_the_known_ones() {
        let message = learn("", "oom", "x", "fix", None).unwrap_err().to_string();
        assert!(message.contains("unknown class \"oom\""));
        assert!(message.contains("oom_gpu, oom_host"));
    }

    #[test]
    fn a_pattern_that_misses_its_sample_log_is_refused() {
        let error = learn("", "other", "never here", "fix", Some("some log")).unwrap_err();
        assert!(matches!(error, LearnError::NoMatch { .. }));
    }

    #[test]
    fn an_invalid_existing_file_is_named() {
        let message = learn("[[pattern]]\nclass = 3\n", "other", "x", "fix", None)
            .unwrap_err()
            .to_string();
        assert!(message.contains("checks/failures.toml"), "{message}");
    }

    #[test]
    fn awkward_characters_survive_the_round_trip() {
        let pattern = r#"can't "open" \d+ C:\\path"#;
        let learned = learn("", "other", pattern, "fix \"it\"\nnow", None).unwrap();
        let entries = parse_entries(&learned, "f").unwrap();
        assert_eq!(entries[0].regex.get_ref(), pattern);
        assert_eq!(entries[0].fix.get_ref(), "fix \"it\"\nnow");
    }
}
