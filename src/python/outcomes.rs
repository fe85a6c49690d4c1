//! Evaluating rules against knobs: pass, fail with the rule's teaching message and the
//! file:line to change, or a configuration error that names the rule's own mistake.

use std::collections::HashMap;

use serde::Serialize;

use super::expr::{ExprError, Expression};
use super::knobs::{Knob, KnobKind};
use super::rules::{Rule, Severity};
use super::suggest::close_names;
use super::value::Value;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum RuleOutcome {
    Pass {
        rule: String,
    },
    /// The rule's `when` was false, so it does not apply.
    Skipped {
        rule: String,
    },
    Fail {
        rule: String,
        message: String,
        /// Where the first constant the rule names is set (else the rule itself).
        file: String,
        line: usize,
        severity: Severity,
    },
    /// The rule itself is wrong (an unknown name, a type error); the message says how.
    ConfigError {
        rule: String,
        message: String,
    },
}

/// Knobs by the names expressions use. Later knobs win over earlier ones of the same name, so
/// pass read-only files first and the editable script last; a dataclass field's bare name
/// yields to a module constant or argparse value of that name, and `Class.field` always works.
struct KnobTable<'k> {
    by_name: HashMap<String, &'k Knob>,
    files: Vec<&'k str>,
}

impl<'k> KnobTable<'k> {
    fn new(knobs: &'k [Knob]) -> Self {
        let mut by_name: HashMap<String, &Knob> = HashMap::new();
        let mut files: Vec<&str> = Vec::new();
        for knob in knobs {
            if !files.contains(&knob.file.as_str()) {
                files.push(&knob.file);
            }
            if let KnobKind::DataclassField { class } = &knob.kind {
                by_name.insert(format!("{class}.{}", knob.name), knob);
                let taken = by_name
                    .get(&knob.name)
                    .is_some_and(|other| !matches!(other.kind, KnobKind::DataclassField { .. }));
                if taken {
                    continue;
                }
            }
            by_name.insert(knob.name.clone(), knob);
        }
        KnobTable { by_name, files }
    }

    fn value(&self, name: &str) -> Option<Value> {
        self.by_name.get(name).map(|knob| knob.value.clone())
    }

    fn knob(&self, name: &str) -> Option<&'k Knob> {
        self.by_name.get(name).copied()
    }

    /// `train.py`, `train.py or prepare.py`, `a.py, b.py or c.py`.
    fn files_phrase(&self) -> String {
        match self.files.as_slice() {
            [] => "any scanned file (none had constants)".to_string(),
            [only] => (*only).to_string(),
            [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
        }
    }
}

/// Evaluates a formula (such as `[memory] estimate_gb`) over the knobs.
pub fn evaluate_expr_text(text: &str, knobs: &[Knob]) -> Result<Value, ExprError> {
    let table = KnobTable::new(knobs);
    Expression::parse(text)?.evaluate(&|name| table.value(name))
}

/// One outcome per rule, in order. When knobs share a name, the later one in `knobs` wins:
/// pass the read-only files' knobs first and the editable script's last.
pub fn evaluate_rules(rules: &[Rule], knobs: &[Knob]) -> Vec<RuleOutcome> {
    let table = KnobTable::new(knobs);
    rules
        .iter()
        .map(|rule| evaluate_rule(rule, &table))
        .collect()
}

fn evaluate_rule(rule: &Rule, table: &KnobTable) -> RuleOutcome {
    let lookup = |name: &str| table.value(name);
    if let Some(when) = &rule.when {
        match when.evaluate(&lookup) {
            Ok(value) if !value.is_truthy() => {
                return RuleOutcome::Skipped {
                    rule: rule.name.clone(),
                }
            }
            Ok(_) => {}
            Err(error) => return config_error(rule, table, "when", when, error),
        }
    }
    match rule.expr.evaluate(&lookup) {
        Ok(value) if value.is_truthy() => RuleOutcome::Pass {
            rule: rule.name.clone(),
        },
        Ok(_) => failure(rule, table),
        Err(error) => config_error(rule, table, "expr", &rule.expr, error),
    }
}

fn failure(rule: &Rule, table: &KnobTable) -> RuleOutcome {
    let names = rule.expr.names();
    let message = match &rule.message {
        Some(template) => {
            let locate = |name: &str| table.knob(name).map(Knob::location);
            match template.render(&|name| table.value(name), &locate) {
                Ok(message) => message,
                Err(error) => {
                    let message = problem_message(rule, table, "message", &error, &names);
                    return RuleOutcome::ConfigError {
                        rule: rule.name.clone(),
                        message,
                    };
                }
            }
        }
        None => format!(
            "rule '{}' failed: `{}` is false, with {}.",
            rule.name,
            rule.expr.text(),
            describe_values(table, &names)
        ),
    };
    let first_knob = names.iter().find_map(|name| table.knob(name));
    let (file, line) = match first_knob {
        Some(knob) => (knob.file.clone(), knob.line),
        None => (rule.file.clone(), rule.line),
    };
    RuleOutcome::Fail {
        rule: rule.name.clone(),
        message,
        file,
        line,
        severity: rule.severity,
    }
}

fn config_error(
    rule: &Rule,
    table: &KnobTable,
    key: &str,
    expression: &Expression,
    error: ExprError,
) -> RuleOutcome {
    let message = problem_message(rule, table, key, &error, &expression.names());
    RuleOutcome::ConfigError {
        rule: rule.name.clone(),
        message,
    }
}

fn problem_message(
    rule: &Rule,
    table: &KnobTable,
    key: &str,
    error: &ExprError,
    names: &[String],
) -> String {
    let ExprError::UnknownName { name } = error else {
        return format!(
            "rule '{}' in {} (line {}) cannot be checked: its `{key}` fails with: {error}; with {}. \
             Fix the rule or the constants it reads.",
            rule.name,
            rule.file,
            rule.line,
            describe_values(table, names)
        );
    };
    let mut known: Vec<&str> = table.by_name.keys().map(String::as_str).collect();
    known.sort_unstable();
    let close = close_names(name, known.iter().copied(), 5);
    let listing = if !close.is_empty() {
        format!("known constants near it: {}", close.join(", "))
    } else if known.is_empty() {
        "no constants were found at all".to_string()
    } else {
        let shown: Vec<&str> = known.iter().take(12).copied().collect();
        let more = known.len().saturating_sub(shown.len());
        let tail = if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        };
        format!("known constants: {}{tail}", shown.join(", "))
    };
    format!(
        "rule '{}' in {} names {name}, which is not a constant of {}; {listing}. Fix the rule's \
         `{key}` at line {} of {}, or define {name}.",
        rule.name,
        rule.file,
        table.files_phrase(),
        rule.line,
        rule.file
    )
}

/// `A = 64 (line 47 of train.py), B = 3 (line 2 of prepare.py)`.
fn describe_values(table: &KnobTable, names: &[String]) -> String {
    let described: Vec<String> = names
        .iter()
        .filter_map(|name| table.knob(name).map(|knob| (name, knob)))
        .map(|(name, knob)| format!("{name} = {} ({})", knob.value.repr(), knob.location()))
        .collect();
    if described.is_empty() {
        "no constants".to_string()
    } else {
        described.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::super::knobs::parse_knobs;
    use super::super::rules::load_rules;
    use super::*;

    const ROTARY_RULES: &str = r#"
[[rule]]
name = "rotary-dim"
expr = "ROTARY_DIM == SEQ_LEN // NUM_HEADS"          # must be true
message = "ROTARY_DIM is {ROTARY_DIM} but should be SEQ_LEN // NUM_HEADS = {SEQ_LEN // NUM_HEADS}. Update ROTARY_DIM on {line:ROTARY_DIM}."
"#;

    /// A train.py whose line 47 sets ROTARY_DIM, and a prepare.py with the sequence length.
    fn seed_knobs(rotary_dim: i64) -> Vec<Knob> {
        let prepare = "MAX_SEQ_LEN = 256\nSEQ_LEN = MAX_SEQ_LEN\n";
        let mut train = "# filler\n".repeat(44);
        train.push_str("NUM_HEADS = 16\nN_EMBD = 1024\n");
        train.push_str(&format!(
            "ROTARY_DIM = {rotary_dim}  # rotary embedding width\n"
        ));
        let mut knobs = parse_knobs("prepare.py", prepare);
        knobs.extend(parse_knobs("train.py", &train));
        knobs
    }

    #[test]
    fn the_seed_rotary_message_renders_exactly() {
        let rules = load_rules(ROTARY_RULES, "checks/rules.toml").unwrap();
        let outcomes = evaluate_rules(&rules, &seed_knobs(64));
        assert_eq!(
            outcomes,
            [RuleOutcome::Fail {
                rule: "rotary-dim".into(),
                message: "ROTARY_DIM is 64 but should be SEQ_LEN // NUM_HEADS = 16. Update \
                          ROTARY_DIM on line 47 of train.py."
                    .into(),
                file: "train.py".into(),
                line: 47,
                severity: Severity::Error,
            }]
        );
        let fixed = evaluate_rules(&rules, &seed_knobs(16));
        assert_eq!(
            fixed,
            [RuleOutcome::Pass {
                rule: "rotary-dim".into()
            }]
        );
    }

    #[test]
    fn unknown_constants_are_config_errors_with_suggestions() {
        let text = "[[rule]]\nname = \"heads\"\nexpr = \"N_EMBD % NUM_HEAD == 0\"\n";
        let rules = load_rules(text, "checks/rules.toml").unwrap();
        let outcomes = evaluate_rules(&rules, &seed_knobs(64));
        assert_eq!(
            outcomes,
            [RuleOutcome::ConfigError {
                rule: "heads".into(),
                message:
                    "rule 'heads' in checks/rules.toml names NUM_HEAD, which is not a \
                          constant of prepare.py or train.py; known constants near it: NUM_HEADS. \
                          Fix the rule's `expr` at line 1 of checks/rules.toml, or define NUM_HEAD."
                        .into()
            }]
        );
        let far = load_rules("[[rule]]\nname = \"x\"\nexpr = \"QQQQ > 1\"\n", "r.toml").unwrap();
        let RuleOutcome::ConfigError { message, .. } = &evaluate_rules(&far, &seed_knobs(1))[0]
        else {
            panic!("expected a config error");
        };
        assert!(
            message
                .contains("known constants: MAX_SEQ_LEN, NUM_HEADS, N_EMBD, ROTARY_DIM, SEQ_LEN."),
            "{message}"
        );
    }

    #[test]
    fn when_default_messages_and_evaluation_problems() {
        let text = r#"
[[rule]]
name = "only-big"
expr = "ROTARY_DIM <= 8"
when = "N_EMBD > 4096"

[[rule]]
name = "even"
expr = "ROTARY_DIM % 2 == 0 and ROTARY_DIM <= SEQ_LEN // 32"
severity = "warning"

[[rule]]
name = "zero"
expr = "SEQ_LEN // (NUM_HEADS - 16) > 0"
"#;
        let rules = load_rules(text, "checks/rules.toml").unwrap();
        let outcomes = evaluate_rules(&rules, &seed_knobs(64));
        assert_eq!(
            outcomes[0],
            RuleOutcome::Skipped {
                rule: "only-big".into()
            }
        );
        assert_eq!(
            outcomes[1],
            RuleOutcome::Fail {
                rule: "even".into(),
                message: "rule 'even' failed: `ROTARY_DIM % 2 == 0 and ROTARY_DIM <= SEQ_LEN // \
                          32` is false, with ROTARY_DIM = 64 (line 47 of train.py), SEQ_LEN = 256 \
                          (line 2 of prepare.py)."
                    .into(),
                file: "train.py".into(),
                line: 47,
                severity: Severity::Warning,
            }
        );
        let RuleOutcome::ConfigError { message, .. } = &outcomes[2] else {
            panic!("expected a config error, got {:?}", outcomes[2]);
        };
        assert!(
            message.contains("division by zero in `SEQ_LEN // (NUM_HEADS - 16)`"),
            "{message}"
        );
        assert!(
            message.contains("NUM_HEADS = 16 (line 45 of train.py)"),
            "{message}"
        );
    }

    #[test]
    fn later_files_win_and_dataclass_fields_yield() {
        let mut knobs = parse_knobs(
            "model.py",
            "@dataclass\nclass GPTConfig:\n    n_layer: int = 12\n",
        );
        knobs.extend(parse_knobs("prepare.py", "SEQ_LEN = 128\n"));
        knobs.extend(parse_knobs("train.py", "SEQ_LEN = 512\nn_layer = 6\n"));
        assert_eq!(evaluate_expr_text("SEQ_LEN", &knobs), Ok(Value::Int(512)));
        assert_eq!(evaluate_expr_text("n_layer", &knobs), Ok(Value::Int(6)));
        assert_eq!(
            evaluate_expr_text("GPTConfig.n_layer * 2", &knobs),
            Ok(Value::Int(24))
        );
        assert_eq!(
            evaluate_expr_text("SEQ_LEN * 4 / 1e3", &knobs).map(|v| v.to_string()),
            Ok("2.048".to_string())
        );
        assert!(matches!(
            evaluate_expr_text("SEQ_LEN +", &knobs),
            Err(ExprError::Parse { .. })
        ));
    }
}
