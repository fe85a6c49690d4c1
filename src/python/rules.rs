//! checks/rules.toml: declarative pre-train rules over the script's constants, each with a
//! teaching message, plus an optional `[memory]` estimate. Loading validates everything, so a
//! bad rule is named (file:line, rule, key) with its fix before any experiment runs.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::expr::{ExprError, Expression};
use super::template::{MessageTemplate, TemplateError};

pub use super::outcomes::{evaluate_expr_text, evaluate_rules, RuleOutcome};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Error,
    Warning,
}

/// One validated rule: `expr` must be true whenever `when` is.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub name: String,
    pub expr: Expression,
    pub when: Option<Expression>,
    pub message: Option<MessageTemplate>,
    pub severity: Severity,
    /// The rules file's label (`checks/rules.toml`) and the line of this rule's `[[rule]]`.
    pub file: String,
    pub line: usize,
}

/// `[memory] estimate_gb = "<expr>"`: a formula the caller evaluates over the knobs.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryEstimate {
    pub estimate_gb: Expression,
    /// Refuse a run whose estimate exceeds this many GB, when set.
    pub limit_gb: Option<f64>,
    pub file: String,
    pub line: usize,
}

/// Everything a rules file declares.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    pub memory: Option<MemoryEstimate>,
}

#[derive(Debug, Clone, PartialEq, Error)]
pub enum RulesError {
    #[error("{file}:{line}: not valid TOML: {detail}. Fix the syntax: each rule is a [[rule]] table with name, expr and message.")]
    Syntax {
        file: String,
        line: usize,
        detail: String,
    },
    #[error("{file}:{line}: {problem}")]
    Invalid {
        file: String,
        line: usize,
        problem: String,
    },
    #[error("{0}")]
    Expression(Box<BadExpression>),
}

/// An expression or message template in the rules file that does not parse.
#[derive(Debug, Clone, PartialEq, Error)]
#[error("{file}:{line}: {subject}: `{key}` does not parse at column {column}: expected {expected}, found {found}. In `{text}`.")]
pub struct BadExpression {
    pub file: String,
    pub line: usize,
    /// `rule 'name'` or `[memory]`.
    pub subject: String,
    pub key: String,
    pub text: String,
    pub column: usize,
    pub expected: String,
    pub found: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesFileSpec {
    #[serde(default)]
    rule: Vec<RuleSpec>,
    memory: Option<MemorySpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    name: String,
    expr: String,
    message: Option<String>,
    when: Option<String>,
    #[serde(default)]
    severity: Severity,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemorySpec {
    estimate_gb: String,
    limit_gb: Option<f64>,
}

const RULE_KEYS: [&str; 5] = ["name", "expr", "message", "when", "severity"];
const MEMORY_KEYS: [&str; 2] = ["estimate_gb", "limit_gb"];
const TOP_LEVEL_KEYS: [&str; 2] = ["rule", "memory"];

/// The rules of a rules file; see [`load_rule_set`] for the `[memory]` table too.
pub fn load_rules(toml_text: &str, file_label: &str) -> Result<Vec<Rule>, RulesError> {
    load_rule_set(toml_text, file_label).map(|set| set.rules)
}

/// Parses and validates a whole rules file: keys, types, expressions and message templates.
pub fn load_rule_set(toml_text: &str, file_label: &str) -> Result<RuleSet, RulesError> {
    let sections = Sections::scan(toml_text);
    let spec: RulesFileSpec = toml::from_str(toml_text).map_err(|error| {
        let line = error
            .span()
            .map_or(1, |span| line_of(toml_text, span.start));
        let message = error.message().trim().to_string();
        if toml_text.parse::<toml::Table>().is_err() {
            return RulesError::Syntax {
                file: file_label.to_string(),
                line,
                detail: message,
            };
        }
        let subject = sections.subject_at(toml_text, line);
        let problem = format!("{subject}: {message}; {}", hint(&message, &subject));
        RulesError::Invalid {
            file: file_label.to_string(),
            line,
            problem,
        }
    })?;
    let mut rules: Vec<Rule> = Vec::with_capacity(spec.rule.len());
    for (index, rule) in spec.rule.into_iter().enumerate() {
        let line = sections.rules.get(index).copied().unwrap_or(1);
        let subject = format!("rule '{}'", rule.name);
        let invalid = |line: usize, problem: String| RulesError::Invalid {
            file: file_label.to_string(),
            line,
            problem,
        };
        if rule.name.trim().is_empty() {
            return Err(invalid(line, format!(
                "the [[rule]] at line {line} has an empty name; give it a short id, e.g. name = \"rotary-dim\""
            )));
        }
        if let Some(first) = rules.iter().find(|existing| existing.name == rule.name) {
            return Err(invalid(
                line,
                format!(
                    "{subject} is defined twice (lines {} and {line}); give each rule its own name",
                    first.line
                ),
            ));
        }
        let key_line = |key: &str| key_line(toml_text, line, key);
        let parse = |key: &str, text: &str| {
            Expression::parse(text).map_err(|error| {
                expression_error(file_label, key_line(key), &subject, key, text, error)
            })
        };
        let expr = parse("expr", &rule.expr)?;
        let when = rule
            .when
            .as_deref()
            .map(|text| parse("when", text))
            .transpose()?;
        let message = match rule.message.as_deref() {
            None => None,
            Some(text) => Some(MessageTemplate::parse(text).map_err(|error| {
                template_error(file_label, key_line("message"), &subject, text, error)
            })?),
        };
        rules.push(Rule {
            name: rule.name,
            expr,
            when,
            message,
            severity: rule.severity,
            file: file_label.to_string(),
            line,
        });
    }
    let memory = match spec.memory {
        None => None,
        Some(memory) => {
            let line = sections.memory.unwrap_or(1);
            let estimate_gb = Expression::parse(&memory.estimate_gb).map_err(|error| {
                let line = key_line(toml_text, line, "estimate_gb");
                let text = &memory.estimate_gb;
                expression_error(file_label, line, "[memory]", "estimate_gb", text, error)
            })?;
            let limit_gb = memory.limit_gb;
            Some(MemoryEstimate {
                estimate_gb,
                limit_gb,
                file: file_label.to_string(),
                line,
            })
        }
    };
    Ok(RuleSet { rules, memory })
}

fn expression_error(
    file: &str,
    line: usize,
    subject: &str,
    key: &str,
    text: &str,
    error: ExprError,
) -> RulesError {
    let (column, expected, found) = match error {
        ExprError::Parse {
            column,
            expected,
            found,
        } => (column, expected, found),
        other => (1, "an expression".to_string(), other.to_string()),
    };
    RulesError::Expression(Box::new(BadExpression {
        file: file.to_string(),
        line,
        subject: subject.to_string(),
        key: key.to_string(),
        text: text.to_string(),
        column,
        expected,
        found,
    }))
}

fn template_error(
    file: &str,
    line: usize,
    subject: &str,
    text: &str,
    error: TemplateError,
) -> RulesError {
    let TemplateError {
        column,
        expected,
        found,
    } = error;
    RulesError::Expression(Box::new(BadExpression {
        file: file.to_string(),
        line,
        subject: subject.to_string(),
        key: "message".to_string(),
        text: text.to_string(),
        column,
        expected,
        found,
    }))
}

/// The fix for a serde error message about the rules file.
fn hint(message: &str, subject: &str) -> String {
    let quoted = message.split('`').nth(1).unwrap_or("");
    if message.starts_with("unknown field") {
        let (allowed, what): (&[&str], &str) = if subject.starts_with("rule") {
            (&RULE_KEYS, "a rule's keys are")
        } else if subject == "[memory]" {
            (&MEMORY_KEYS, "[memory] keys are")
        } else {
            (
                &TOP_LEVEL_KEYS,
                "the file holds [[rule]] tables and one [memory] table; top-level keys are",
            )
        };
        let closest = super::suggest::close_names(quoted, allowed.iter().copied(), 1);
        let guess = closest
            .first()
            .map(|name| format!("did you mean `{name}`? "))
            .unwrap_or_default();
        return format!("{guess}{what} {}", allowed.join(", "));
    }
    if message.starts_with("missing field") {
        return match quoted {
            "expr" => "add expr = \"...\": a condition over the script's constants that must hold, e.g. expr = \"ROTARY_DIM == SEQ_LEN // NUM_HEADS\"".to_string(),
            "name" => "add name = \"...\": a short id such as \"rotary-dim\" that failures are reported by".to_string(),
            "estimate_gb" => "add estimate_gb = \"...\": a formula over the constants giving GB, e.g. \"N_EMBD * DEPTH * 12 * 4 / 1e9\"".to_string(),
            other => format!("add `{other}`"),
        };
    }
    if message.contains("unknown variant") {
        return "severity is \"error\" (the default) or \"warning\"".to_string();
    }
    if message.starts_with("invalid type") {
        return "write expressions and messages as quoted strings, e.g. expr = \"DEPTH <= 12\"; each rule goes under its own [[rule]] header".to_string();
    }
    "see the [[rule]] format: name, expr, message, when, severity".to_string()
}

/// Lines of the `[[rule]]` and `[memory]` headers.
struct Sections {
    rules: Vec<usize>,
    memory: Option<usize>,
}

impl Sections {
    fn scan(text: &str) -> Sections {
        let mut sections = Sections {
            rules: Vec::new(),
            memory: None,
        };
        for (index, line) in text.lines().enumerate() {
            match header_name(line) {
                Some(("[[", "rule")) => sections.rules.push(index + 1),
                Some(("[", "memory")) => sections.memory = Some(index + 1),
                _ => {}
            }
        }
        sections
    }

    /// What a line belongs to, for messages: `rule 'name'`, `[memory]` or `the file`.
    fn subject_at(&self, text: &str, line: usize) -> String {
        let last_header = |headers: &[usize]| headers.iter().rposition(|start| *start <= line);
        let memory_start = self.memory.filter(|start| *start <= line).unwrap_or(0);
        match last_header(&self.rules) {
            Some(index)
                if self
                    .rules
                    .get(index)
                    .is_some_and(|start| *start > memory_start) =>
            {
                let start = self.rules.get(index).copied().unwrap_or(1);
                match rule_name_in_section(text, start) {
                    Some(name) => format!("rule '{name}'"),
                    None => format!("the [[rule]] at line {start}"),
                }
            }
            _ if memory_start > 0 => "[memory]".to_string(),
            _ => "the file".to_string(),
        }
    }
}

/// `[[rule]]` -> ("[[", "rule"), `[memory]` -> ("[", "memory").
fn header_name(line: &str) -> Option<(&'static str, &str)> {
    let line = line.trim();
    let line = line.split('#').next().unwrap_or(line).trim();
    if let Some(inner) = line
        .strip_prefix("[[")
        .and_then(|rest| rest.strip_suffix("]]"))
    {
        return Some(("[[", inner.trim()));
    }
    let inner = line
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))?;
    Some(("[", inner.trim()))
}

fn section_lines(text: &str, header_line: usize) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .skip(header_line)
        .take_while(|(_, line)| header_name(line).is_none())
        .map(|(index, line)| (index + 1, line))
}

fn key_of(line: &str) -> Option<(&str, &str)> {
    let (key, value) = line.split_once('=')?;
    Some((key.trim().trim_matches('"'), value.trim()))
}

fn rule_name_in_section(text: &str, header_line: usize) -> Option<String> {
    section_lines(text, header_line)
        .filter_map(|(_, line)| key_of(line))
        .find(|(key, _)| *key == "name")
        .and_then(|(_, value)| {
            value.parse::<toml::Value>().ok().or_else(|| {
                format!("v = {value}")
                    .parse::<toml::Table>()
                    .ok()?
                    .remove("v")
            })
        })
        .and_then(|value| value.as_str().map(str::to_string))
}

/// The line of `key` in the section starting at `header_line`, else the header's line.
fn key_line(text: &str, header_line: usize, key: &str) -> usize {
    section_lines(text, header_line)
        .find(|(_, line)| key_of(line).is_some_and(|(found, _)| found == key))
        .map_or(header_line, |(number, _)| number)
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |before| before.matches('\n').count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LABEL: &str = "checks/rules.toml";

    fn error(text: &str) -> String {
        match load_rule_set(text, LABEL) {
            Err(error) => error.to_string(),
            Ok(set) => panic!("expected an error, loaded {set:?}"),
        }
    }

    #[test]
    fn loads_rules_and_memory() {
        let text = r#"
# pre-train checks
[[rule]]
name = "rotary-dim"
expr = "ROTARY_DIM == SEQ_LEN // NUM_HEADS"
message = "ROTARY_DIM is {ROTARY_DIM}. Update ROTARY_DIM on {line:ROTARY_DIM}."

[[rule]]
name = "depth"
expr = "DEPTH <= 12"
when = "DEVICE_GB < 24"
severity = "warning"

[memory]
estimate_gb = "N_EMBD * N_EMBD * DEPTH * 12 * 4 / 1e9"
limit_gb = 24
"#;
        let set = load_rule_set(text, LABEL).unwrap();
        assert_eq!(set.rules.len(), 2);
        assert_eq!(
            (set.rules[0].name.as_str(), set.rules[0].line),
            ("rotary-dim", 3)
        );
        assert_eq!(set.rules[0].severity, Severity::Error);
        assert_eq!(
            (set.rules[1].line, set.rules[1].severity),
            (8, Severity::Warning)
        );
        assert_eq!(set.rules[1].when.as_ref().unwrap().names(), ["DEVICE_GB"]);
        let memory = set.memory.unwrap();
        assert_eq!((memory.limit_gb, memory.line), (Some(24.0), 14));
        assert_eq!(memory.estimate_gb.names(), ["N_EMBD", "DEPTH"]);
        assert!(load_rules("", LABEL).unwrap().is_empty());
    }

    #[test]
    fn unknown_keys_name_the_rule_and_the_fix() {
        let text = "[[rule]]\nname = \"a\"\nexpr = \"A > 0\"\n\n[[rule]]\nname = \"rotary\"\nexprs = \"A\"\n";
        assert_eq!(
            error(text),
            "checks/rules.toml:7: rule 'rotary': unknown field `exprs`, expected one of `name`, \
             `expr`, `message`, `when`, `severity`; did you mean `expr`? a rule's keys are name, \
             expr, message, when, severity"
        );
        let top = error("[[rules]]\nname = \"a\"\n");
        assert!(
            top.starts_with("checks/rules.toml:1: the file: unknown field `rules`"),
            "{top}"
        );
        assert!(top.contains("did you mean `rule`?"), "{top}");
        let memory = error("[memory]\nestimate = \"1\"\n");
        assert!(
            memory.starts_with("checks/rules.toml:2: [memory]: unknown field `estimate`"),
            "{memory}"
        );
        assert!(memory.contains("did you mean `estimate_gb`?"), "{memory}");
    }

    #[test]
    fn missing_and_mistyped_keys_say_the_fix() {
        let missing = error("[[rule]]\nname = \"depth\"\nmessage = \"too deep\"\n");
        assert!(
            missing.starts_with(
                "checks/rules.toml:1: rule 'depth': missing field `expr`; add expr = "
            ),
            "{missing}"
        );
        let typed = error("[[rule]]\nname = \"depth\"\nexpr = 3\n");
        assert!(
            typed.starts_with("checks/rules.toml:3: rule 'depth': invalid type"),
            "{typed}"
        );
        assert!(typed.contains("quoted strings"), "{typed}");
        let severity = error("[[rule]]\nname = \"d\"\nexpr = \"1\"\nseverity = \"fatal\"\n");
        assert!(
            severity.contains("\"error\" (the default) or \"warning\""),
            "{severity}"
        );
        let duplicate =
            error("[[rule]]\nname = \"d\"\nexpr = \"1\"\n[[rule]]\nname = \"d\"\nexpr = \"2\"\n");
        assert_eq!(duplicate, "checks/rules.toml:4: rule 'd' is defined twice (lines 1 and 4); give each rule its own name");
        let syntax = error("[[rule]]\nname = \"d\nexpr = \"1\"\n");
        assert!(
            syntax.starts_with("checks/rules.toml:2: not valid TOML"),
            "{syntax}"
        );
    }

    #[test]
    fn bad_expressions_name_rule_column_and_expectation() {
        let text = "[[rule]]\nname = \"rotary-dim\"\nexpr = \"ROTARY_DIM == SEQ_LEN //\"\n";
        assert_eq!(
            error(text),
            "checks/rules.toml:3: rule 'rotary-dim': `expr` does not parse at column 25: expected \
             a value (a number, string, name or `(`), found the end of the expression. In \
             `ROTARY_DIM == SEQ_LEN //`."
        );
        let when = error("[[rule]]\nname = \"w\"\nexpr = \"1\"\nwhen = \"os.getenv('X')\"\n");
        assert!(when.starts_with("checks/rules.toml:4: rule 'w': `when` does not parse at column 1: expected a call of min, max"), "{when}");
        let message = error("[[rule]]\nname = \"m\"\nexpr = \"1\"\nmessage = \"is {A +}\"\n");
        assert!(
            message
                .starts_with("checks/rules.toml:4: rule 'm': `message` does not parse at column 8"),
            "{message}"
        );
        let memory = error("[memory]\nestimate_gb = \"DEPTH *\"\n");
        assert!(
            memory.starts_with(
                "checks/rules.toml:2: [memory]: `estimate_gb` does not parse at column 8"
            ),
            "{memory}"
        );
    }
}
