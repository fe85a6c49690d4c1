//! Knobs: the tunable values of a training script (module constants, dataclass field defaults,
//! argparse defaults) with their file and line, so checks can name what to change and where.

use std::collections::HashMap;

use serde::Serialize;

use super::expr::BinaryOperator;
use super::lexer::{tokenize, Token, Tokenized};
use super::statements::{
    block_header, call_arguments, classify_assignment, evaluate_tokens, is_dataclass_decorator,
    is_decorator, tokens_text, Argument, Assignment, BlockKind,
};
use super::value::Value;

/// One tunable value and where it is set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Knob {
    pub name: String,
    pub value: Value,
    /// The source text of the value expression (comments dropped, whitespace collapsed).
    pub text: String,
    pub file: String,
    /// 1-based line of the assignment (for argparse, of `default=`).
    pub line: usize,
    pub kind: KnobKind,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum KnobKind {
    /// `NAME = value` at module level.
    Module,
    /// `name: type = value` in a `@dataclass` class.
    DataclassField { class: String },
    /// `parser.add_argument(...)`'s default, possibly overridden by the run command.
    Argparse {
        /// The first long flag (`--learning-rate`), else the first flag.
        flag: String,
        /// The other option strings (`-lr`).
        aliases: Vec<String>,
        /// The `type=` text (`float`, `int`, ...), if any.
        value_type: Option<String>,
        /// The `action=` value (`store_true`, ...), if any.
        action: Option<String>,
        /// Whether `nargs` makes the value a list.
        takes_list: bool,
        /// The flag and value from the run command that replaced the default, if any.
        command_value: Option<String>,
    },
}

impl Knob {
    /// Where the value comes from, for messages: `line 47 of train.py`, or the run command.
    pub fn location(&self) -> String {
        match &self.kind {
            KnobKind::Argparse {
                command_value: Some(given),
                ..
            } => format!(
                "the run command ({given}; the default is on line {} of {})",
                self.line, self.file
            ),
            _ => format!("line {} of {}", self.line, self.file),
        }
    }
}

/// Knobs of one Python file, in line order. Values that cannot be evaluated without running
/// Python (calls, attribute lookups, environment reads) are left out. A module name assigned
/// twice keeps its last assignment; one reassigned to something unknown is dropped.
pub fn parse_knobs(file: &str, source: &str) -> Vec<Knob> {
    let tokenized = tokenize(source);
    let mut scanner = Scanner {
        file,
        source,
        module: HashMap::new(),
        knobs: Vec::new(),
    };
    scanner.module_level(&tokenized);
    scanner.argparse(&tokenized);
    let mut knobs: Vec<Knob> = scanner.knobs.into_iter().flatten().collect();
    knobs.sort_by_key(|knob| knob.line);
    knobs
}

struct Scanner<'a> {
    file: &'a str,
    source: &'a str,
    /// Module name -> index into `knobs` of its current value.
    module: HashMap<String, usize>,
    knobs: Vec<Option<Knob>>,
}

impl Scanner<'_> {
    fn module_value(&self, name: &str) -> Option<Value> {
        let index = self.module.get(name)?;
        self.knobs
            .get(*index)?
            .as_ref()
            .map(|knob| knob.value.clone())
    }

    fn knob(&self, name: &Token, value: Value, text: String, line: usize, kind: KnobKind) -> Knob {
        Knob {
            name: name.text(self.source).to_string(),
            value,
            text,
            file: self.file.to_string(),
            line,
            kind,
        }
    }

    fn set_module(&mut self, name: &Token, value: Option<Value>, text: String, line: usize) {
        let key = name.text(self.source).to_string();
        if let Some(old) = self.module.remove(&key) {
            if let Some(slot) = self.knobs.get_mut(old) {
                *slot = None;
            }
        }
        if let Some(value) = value {
            let knob = self.knob(name, value, text, line, KnobKind::Module);
            self.module.insert(key, self.knobs.len());
            self.knobs.push(Some(knob));
        }
    }

    fn module_level(&mut self, tokenized: &Tokenized) {
        let mut index = 0;
        let mut dataclass_pending = false;
        while let Some(line) = tokenized.lines.get(index) {
            index += 1;
            if line.indent > 0 {
                continue;
            }
            let tokens = tokenized.line_tokens(line);
            if is_decorator(self.source, tokens) {
                dataclass_pending |= is_dataclass_decorator(self.source, tokens);
                continue;
            }
            let is_dataclass = std::mem::take(&mut dataclass_pending);
            if let Some((BlockKind::Class, class_name)) = block_header(self.source, tokens) {
                let body_start = index;
                while tokenized
                    .lines
                    .get(index)
                    .is_some_and(|line| line.indent > 0)
                {
                    index += 1;
                }
                if is_dataclass {
                    let class = class_name.text(self.source).to_string();
                    self.dataclass_fields(tokenized, body_start..index, &class);
                }
                continue;
            }
            if let Some(assignment) = classify_assignment(self.source, tokens) {
                self.module_assignment(&assignment, line.start_line);
            }
        }
    }

    fn module_assignment(&mut self, assignment: &Assignment, line: usize) {
        let source = self.source;
        let environment = |name: &str| self.module_value(name);
        match assignment {
            Assignment::Plain { targets, value } => {
                let evaluated = evaluate_tokens(source, value, &environment);
                let text = tokens_text(source, value);
                for target in targets {
                    match target.as_slice() {
                        [name] => self.set_module(name, evaluated.clone(), text.clone(), line),
                        names => {
                            let parts = match &evaluated {
                                Some(Value::List(items)) if items.len() == names.len() => {
                                    items.iter().cloned().map(Some).collect()
                                }
                                _ => vec![None; names.len()],
                            };
                            for (name, part) in names.iter().zip(parts) {
                                let part_text = part.as_ref().map(Value::repr).unwrap_or_default();
                                self.set_module(name, part, part_text, line);
                            }
                        }
                    }
                }
            }
            Assignment::Annotated { name, value } => {
                if value.is_empty() {
                    return;
                }
                let evaluated = evaluate_tokens(source, value, &environment);
                self.set_module(name, evaluated, tokens_text(source, value), line);
            }
            Assignment::Augmented {
                name,
                operator,
                value,
            } => {
                let old_text = self
                    .module
                    .get(name.text(source))
                    .and_then(|index| self.knobs.get(*index)?.as_ref())
                    .map(|knob| knob.text.clone());
                let new_text = tokens_text(source, value);
                let combined = old_text.map(|old| combine(&old, *operator, &new_text));
                let evaluated = combined.as_ref().and_then(|text| {
                    let expression = super::expr::Expression::parse(text).ok()?;
                    expression.evaluate(&environment).ok()
                });
                self.set_module(name, evaluated, combined.unwrap_or_default(), line);
            }
        }
    }

    fn dataclass_fields(
        &mut self,
        tokenized: &Tokenized,
        body: std::ops::Range<usize>,
        class: &str,
    ) {
        let Some(field_indent) = tokenized.lines.get(body.start).map(|line| line.indent) else {
            return;
        };
        let mut fields: HashMap<String, Value> = HashMap::new();
        for line in tokenized.lines.get(body).unwrap_or(&[]) {
            if line.indent != field_indent {
                continue;
            }
            let tokens = tokenized.line_tokens(line);
            let Some(Assignment::Annotated { name, value }) =
                classify_assignment(self.source, tokens)
            else {
                continue;
            };
            let value = field_default(self.source, value);
            let environment =
                |key: &str| fields.get(key).cloned().or_else(|| self.module_value(key));
            let Some(evaluated) = evaluate_tokens(self.source, value, &environment) else {
                continue;
            };
            fields.insert(name.text(self.source).to_string(), evaluated.clone());
            let kind = KnobKind::DataclassField {
                class: class.to_string(),
            };
            let text = tokens_text(self.source, value);
            let knob = self.knob(name, evaluated, text, line.start_line, kind);
            self.knobs.push(Some(knob));
        }
    }

    fn argparse(&mut self, tokenized: &Tokenized) {
        for line in &tokenized.lines {
            let tokens = tokenized.line_tokens(line);
            for (index, token) in tokens.iter().enumerate() {
                let is_call = token.is_name(self.source, "add_argument")
                    && tokens
                        .get(index + 1)
                        .is_some_and(|t| t.is_operator(self.source, "("));
                if !is_call {
                    continue;
                }
                let Some(arguments) = call_arguments(self.source, tokens, index + 1) else {
                    continue;
                };
                if let Some(knob) = self.argparse_knob(&arguments, token.line) {
                    self.knobs.push(Some(knob));
                }
            }
        }
    }

    fn argparse_knob(&self, arguments: &[Argument], call_line: usize) -> Option<Knob> {
        let source = self.source;
        let environment = |name: &str| self.module_value(name);
        let string_of = |tokens: &[Token]| match evaluate_tokens(source, tokens, &environment) {
            Some(Value::Str(text)) => Some(text),
            _ => None,
        };
        let keyword = |wanted: &str| {
            arguments
                .iter()
                .find(|argument| argument.keyword.is_some_and(|k| k.text(source) == wanted))
        };
        let flags: Vec<String> = arguments
            .iter()
            .filter(|argument| argument.keyword.is_none())
            .filter_map(|argument| string_of(argument.value))
            .collect();
        if !flags.first().is_some_and(|flag| flag.starts_with('-')) {
            return None;
        }
        let flag = flags
            .iter()
            .find(|flag| flag.starts_with("--"))
            .or_else(|| flags.first())
            .cloned()?;
        let aliases = flags
            .iter()
            .filter(|other| **other != flag)
            .cloned()
            .collect();
        let name = match keyword("dest").and_then(|argument| string_of(argument.value)) {
            Some(dest) => dest,
            None => flag.trim_start_matches('-').replace('-', "_"),
        };
        let value_type = keyword("type").map(|argument| tokens_text(source, argument.value));
        let action = keyword("action").and_then(|argument| string_of(argument.value));
        let takes_list = keyword("nargs")
            .is_some_and(|argument| !matches!(string_of(argument.value).as_deref(), Some("?")));
        let (value, text, line) = match keyword("default") {
            Some(argument) => {
                let value = evaluate_tokens(source, argument.value, &environment)?;
                let value = convert_string_default(value, value_type.as_deref());
                let line = argument.keyword.map_or(call_line, |keyword| keyword.line);
                (value, tokens_text(source, argument.value), line)
            }
            None => {
                let value = match action.as_deref() {
                    Some("store_true") => Value::Bool(false),
                    Some("store_false") => Value::Bool(true),
                    _ => Value::None,
                };
                (value, String::new(), call_line)
            }
        };
        let kind = KnobKind::Argparse {
            flag,
            aliases,
            value_type,
            action,
            takes_list,
            command_value: None,
        };
        Some(Knob {
            name,
            value,
            text,
            file: self.file.to_string(),
            line,
            kind,
        })
    }
}

/// `field(default=X)` reads as `X`; anything else as itself.
fn field_default<'t>(source: &str, value: &'t [Token]) -> &'t [Token] {
    let is_field = match value {
        [name, open, ..] => name.is_name(source, "field") && open.is_operator(source, "("),
        _ => false,
    };
    if !is_field {
        return value;
    }
    let arguments = call_arguments(source, value, 1).unwrap_or_default();
    arguments
        .iter()
        .find(|argument| {
            argument
                .keyword
                .is_some_and(|k| k.text(source) == "default")
        })
        .map_or(&[][..], |argument| argument.value)
}

/// argparse passes a string default through `type`, as it does a command-line value.
fn convert_string_default(value: Value, value_type: Option<&str>) -> Value {
    match (&value, value_type) {
        (Value::Str(text), Some(value_type)) => {
            super::flags::convert(text, Some(value_type), &Value::None).unwrap_or(value)
        }
        _ => value,
    }
}

fn combine(old: &str, operator: BinaryOperator, new: &str) -> String {
    format!("({old}) {} ({new})", operator.symbol())
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const FIXTURE: &str = include_str!("../../tests/fixtures/gpt_train.py");

    fn find<'k>(knobs: &'k [Knob], name: &str) -> &'k Knob {
        knobs
            .iter()
            .find(|knob| knob.name == name)
            .unwrap_or_else(|| panic!("no knob {name} in {knobs:#?}"))
    }

    fn value_line(knobs: &[Knob], name: &str) -> (Value, usize) {
        let knob = find(knobs, name);
        (knob.value.clone(), knob.line)
    }

    #[test]
    fn module_constants_of_the_fixture() {
        let knobs = parse_knobs("train.py", FIXTURE);
        let module: Vec<(&str, String, usize)> = knobs
            .iter()
            .filter(|knob| knob.kind == KnobKind::Module)
            .map(|knob| (knob.name.as_str(), knob.value.to_string(), knob.line))
            .collect();
        let expected = [
            ("DEPTH", "8", 20),
            ("N_EMBD", "512", 21),
            ("N_HEAD", "8", 22),
            ("HEAD_DIM", "64", 23),
            ("SEQ_LEN", "1024", 24),
            ("ROTARY_DIM", "64", 25),
            ("TOTAL_BATCH_SIZE", "524288", 26),
            ("TOTAL_TOKENS", "20971520", 27),
            ("LEARNING_RATE", "0.0006", 28),
            ("WEIGHT_DECAY", "0.1", 29),
            ("BETAS", "[0.9, 0.95]", 30),
            ("WARMUP_ITERS", "100", 31),
            ("DTYPE", "bfloat16", 34),
            ("COMPILE", "True", 35),
            ("EVAL_SCHEDULE", "[100, 500, 1000]", 36),
            ("batch_size", "12", 41),
            ("MAX_STEPS", "1706", 42),
            ("HELP", "usage:\ndef not_a_function(): pass\n", 43),
        ];
        let expected: Vec<(&str, String, usize)> = expected
            .iter()
            .map(|(n, v, l)| (*n, v.to_string(), *l))
            .collect();
        assert_eq!(module, expected);
        assert_eq!(find(&knobs, "TOTAL_BATCH_SIZE").text, "2**19");
        assert_eq!(find(&knobs, "EVAL_SCHEDULE").text, "[ 100, 500, 1_000, ]");
        assert_eq!(find(&knobs, "LEARNING_RATE").value, Value::Float(6e-4));
    }

    #[test]
    fn dataclass_fields_of_the_fixture() {
        let knobs = parse_knobs("train.py", FIXTURE);
        let fields: Vec<(&str, String, usize)> = knobs
            .iter()
            .filter(|knob| {
                knob.kind
                    == KnobKind::DataclassField {
                        class: "GPTConfig".into(),
                    }
            })
            .map(|knob| (knob.name.as_str(), knob.value.to_string(), knob.line))
            .collect();
        let expected = [
            ("block_size", "1024", 50),
            ("vocab_size", "50304", 51),
            ("n_layer", "12", 52),
            ("n_head", "8", 53),
            ("n_embd", "768", 54),
            ("dropout", "0.0", 55),
            ("bias", "True", 56),
            ("head_dim", "96", 57),
            ("init_std", "0.02", 58),
        ];
        let expected: Vec<(&str, String, usize)> = expected
            .iter()
            .map(|(n, v, l)| (*n, v.to_string(), *l))
            .collect();
        assert_eq!(fields, expected);
    }

    #[test]
    fn argparse_defaults_of_the_fixture() {
        let knobs = parse_knobs("train.py", FIXTURE);
        assert_eq!(
            value_line(&knobs, "learning_rate"),
            (Value::Float(5e-4), 172)
        );
        assert_eq!(value_line(&knobs, "batch_size"), (Value::Int(12), 41));
        let batch = knobs
            .iter()
            .find(|k| k.name == "batch_size" && matches!(k.kind, KnobKind::Argparse { .. }))
            .unwrap();
        assert_eq!((batch.value.clone(), batch.line), (Value::Int(32), 173));
        assert_eq!(value_line(&knobs, "warmup_steps"), (Value::Int(200), 178));
        assert_eq!(value_line(&knobs, "compile"), (Value::Bool(false), 180));
        assert_eq!(
            value_line(&knobs, "run_name"),
            (Value::Str("baseline".into()), 181)
        );
        assert_eq!(value_line(&knobs, "eval_every"), (Value::Int(250), 182));
        assert!(knobs.iter().all(|knob| knob.name != "data_path"));
        let KnobKind::Argparse {
            flag,
            aliases,
            value_type,
            ..
        } = &find(&knobs, "learning_rate").kind
        else {
            panic!("learning_rate is not an argparse knob");
        };
        assert_eq!(
            (flag.as_str(), aliases.as_slice()),
            ("--learning-rate", &["-lr".to_string()][..])
        );
        assert_eq!(value_type.as_deref(), Some("float"));
    }

    #[test]
    fn unevaluable_values_are_skipped_and_reassignment_keeps_the_last() {
        let knobs = parse_knobs("train.py", FIXTURE);
        for skipped in ["DEVICE", "DATA_DIR", "tags", "args", "config", "parser"] {
            assert!(
                knobs.iter().all(|knob| knob.name != skipped),
                "{skipped} is a knob"
            );
        }
        let source = "A = 1\nB = A * 2\nA = 5\nDEVICE = 'cpu'\nDEVICE = torch.device(DEVICE)\n\
                      C = A + B\nC += 1\nX, Y = 3, 4\nif True:\n    Z = 1\n";
        let knobs = parse_knobs("t.py", source);
        let shown: Vec<(String, String, usize)> = knobs
            .iter()
            .map(|k| (k.name.clone(), k.value.to_string(), k.line))
            .collect();
        let expected = [
            ("B", "2", 2),
            ("A", "5", 3),
            ("C", "8", 7),
            ("X", "3", 8),
            ("Y", "4", 8),
        ];
        let expected: Vec<(String, String, usize)> = expected
            .iter()
            .map(|(n, v, l)| (n.to_string(), v.to_string(), *l))
            .collect();
        assert_eq!(shown, expected);
    }

    #[test]
    fn location_names_line_and_file() {
        let knobs = parse_knobs("train.py", "\n\nROTARY_DIM = 64\n");
        assert_eq!(knobs[0].location(), "line 3 of train.py");
    }
}
