//! Values given on the run command line (`python3 train.py --lr 1e-3`) replace the argparse
//! defaults they override, so checks judge the values the run will really use.

use std::path::Path;

use super::expr::Expression;
use super::knobs::{Knob, KnobKind};
use super::value::Value;

/// Applies the run command's flags to the argparse knobs of the script it runs.
///
/// Flags are read after the first `*.py` word (so `torchrun --nproc_per_node=8` stays out)
/// up to a shell operator. Long flags may be abbreviated, as argparse allows. A value that
/// the knob's `type=` cannot convert is left alone: argparse rejects it when the run starts.
/// When the script has no argparse at all, `--name=value` sets a module constant of the same
/// type, as nanoGPT's configurator does.
pub fn apply_command_flags(knobs: &mut [Knob], command: &str) {
    let words = shell_words(command);
    let script_position = words.iter().position(|word| word.ends_with(".py"));
    let script = script_position
        .and_then(|position| words.get(position))
        .map(String::as_str);
    let start = script_position.map_or(0, |position| position + 1);
    let arguments: Vec<&str> = words
        .iter()
        .skip(start)
        .map(String::as_str)
        .take_while(|word| !matches!(*word, "&&" | "||" | ";" | "|" | ">" | "2>" | "&"))
        .collect();
    let in_script = |knob: &Knob| match script {
        Some(script) => Path::new(&knob.file).file_name() == Path::new(script).file_name(),
        None => true,
    };
    let mut targets: Vec<usize> = (0..knobs.len())
        .filter(|index| {
            knobs
                .get(*index)
                .is_some_and(|knob| in_script(knob) && is_argparse(knob))
        })
        .collect();
    if targets.is_empty() {
        targets = (0..knobs.len())
            .filter(|index| knobs.get(*index).is_some_and(is_argparse))
            .collect();
    }
    if targets.is_empty() {
        apply_configurator_style(knobs, &arguments, &in_script);
        return;
    }
    let mut position = 0;
    while let Some(word) = arguments.get(position) {
        position += 1;
        if *word == "--" {
            break;
        }
        if !word.starts_with('-') || is_number(word) {
            continue;
        }
        let (flag, explicit) = match word.split_once('=') {
            Some((flag, value)) => (flag, Some(value)),
            None => (*word, None),
        };
        let Some(index) = find_flag(knobs, &targets, flag) else {
            continue;
        };
        let Some(knob) = knobs.get_mut(index) else {
            continue;
        };
        let KnobKind::Argparse {
            value_type,
            action,
            takes_list,
            command_value,
            ..
        } = &mut knob.kind
        else {
            continue;
        };
        let switched = match action.as_deref() {
            Some("store_true") => Some(Value::Bool(true)),
            Some("store_false") => Some(Value::Bool(false)),
            Some("count") => Some(Value::Int(match knob.value {
                Value::Int(count) => count.saturating_add(1),
                _ => 1,
            })),
            Some("store_const" | "append_const" | "help" | "version") => continue,
            _ => None,
        };
        if let Some(value) = switched {
            knob.text = value.to_string();
            knob.value = value;
            *command_value = Some(flag.to_string());
            continue;
        }
        let mut given: Vec<&str> = explicit.into_iter().collect();
        if given.is_empty() {
            while let Some(next) = arguments.get(position) {
                if next.starts_with('-') && !is_number(next) {
                    break;
                }
                given.push(next);
                position += 1;
                if !*takes_list {
                    break;
                }
            }
        }
        let converted: Option<Vec<Value>> = given
            .iter()
            .map(|text| convert(text, value_type.as_deref(), &knob.value))
            .collect();
        let value = match (converted, *takes_list) {
            (Some(values), true) => Value::List(values),
            (Some(mut values), false) if values.len() == 1 => values.remove(0),
            _ => continue,
        };
        knob.text = given.join(" ");
        knob.value = value;
        *command_value = Some(format!("{flag} {}", given.join(" ")));
    }
}

fn is_argparse(knob: &Knob) -> bool {
    matches!(knob.kind, KnobKind::Argparse { .. })
}

fn is_number(word: &str) -> bool {
    word.parse::<f64>().is_ok()
}

/// The knob with exactly this flag, else the only one whose long flag starts with it.
fn find_flag(knobs: &[Knob], targets: &[usize], flag: &str) -> Option<usize> {
    let flags_of = |index: &usize| -> Vec<String> {
        match knobs.get(*index).map(|knob| &knob.kind) {
            Some(KnobKind::Argparse { flag, aliases, .. }) => {
                std::iter::once(flag).chain(aliases).cloned().collect()
            }
            _ => Vec::new(),
        }
    };
    if let Some(index) = targets
        .iter()
        .find(|index| flags_of(index).iter().any(|f| f == flag))
    {
        return Some(*index);
    }
    if !flag.starts_with("--") {
        return None;
    }
    let matches: Vec<&usize> = targets
        .iter()
        .filter(|index| flags_of(index).iter().any(|f| f.starts_with(flag)))
        .collect();
    match matches.as_slice() {
        [only] => Some(**only),
        _ => None,
    }
}

/// nanoGPT's `configurator.py`: `--key=value` overrides a global of the same type.
fn apply_configurator_style(
    knobs: &mut [Knob],
    arguments: &[&str],
    in_script: &dyn Fn(&Knob) -> bool,
) {
    for word in arguments {
        let Some((name, text)) = word
            .strip_prefix("--")
            .and_then(|rest| rest.split_once('='))
        else {
            continue;
        };
        let value = literal(text).unwrap_or_else(|| Value::Str(text.to_string()));
        let knob = knobs
            .iter_mut()
            .rev()
            .find(|knob| knob.name == name && knob.kind == KnobKind::Module && in_script(knob));
        if let Some(knob) = knob {
            if std::mem::discriminant(&knob.value) == std::mem::discriminant(&value) {
                knob.value = value;
                knob.text = text.to_string();
            }
        }
    }
}

/// A Python literal (`1e-3`, `'a'`, `[1, 2]`, `True`), as `ast.literal_eval` reads it.
fn literal(text: &str) -> Option<Value> {
    let expression = Expression::parse(text).ok()?;
    expression.evaluate(&|_| None).ok()
}

/// A command-line string converted as argparse's `type=` would; without a type, as a literal
/// when it reads as one (else as a string), so `--batch_size 32` stays a number.
pub(crate) fn convert(text: &str, value_type: Option<&str>, current: &Value) -> Option<Value> {
    match value_type {
        Some("int") => {
            let cleaned: String = text.trim().chars().filter(|c| *c != '_').collect();
            cleaned.parse::<i64>().ok().map(Value::Int)
        }
        Some("float") => text.trim().parse::<f64>().ok().map(Value::Float),
        Some("str") => Some(Value::Str(text.to_string())),
        // Python's bool('False') is True: argparse's `type=bool` keeps that surprise.
        Some("bool") => Some(Value::Bool(!text.is_empty())),
        _ => {
            let lowered = text.to_ascii_lowercase();
            let boolean_like = matches!(current, Value::Bool(_)) || value_type.is_some();
            if boolean_like && matches!(lowered.as_str(), "true" | "yes" | "1" | "on") {
                return Some(Value::Bool(true));
            }
            if boolean_like && matches!(lowered.as_str(), "false" | "no" | "0" | "off") {
                return Some(Value::Bool(false));
            }
            Some(literal(text).unwrap_or_else(|| Value::Str(text.to_string())))
        }
    }
}

/// Splits a command line into words as a POSIX shell would for simple commands.
fn shell_words(command: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut in_word = false;
    let mut characters = command.chars();
    while let Some(character) = characters.next() {
        match character {
            '\'' => {
                in_word = true;
                for quoted in characters.by_ref() {
                    if quoted == '\'' {
                        break;
                    }
                    current.push(quoted);
                }
            }
            '"' => {
                in_word = true;
                while let Some(quoted) = characters.next() {
                    match quoted {
                        '"' => break,
                        '\\' => current.extend(characters.next()),
                        other => current.push(other),
                    }
                }
            }
            '\\' => {
                in_word = true;
                current.extend(characters.next());
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut current));
                    in_word = false;
                }
            }
            other => {
                in_word = true;
                current.push(other);
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::super::knobs::parse_knobs;
    use super::*;

    const FIXTURE: &str = include_str!("../../tests/fixtures/gpt_train.py");

    fn argparse_value(knobs: &[Knob], name: &str) -> Value {
        knobs
            .iter()
            .find(|knob| knob.name == name && is_argparse(knob))
            .map(|knob| knob.value.clone())
            .unwrap_or_else(|| panic!("no argparse knob {name}"))
    }

    #[test]
    fn command_flags_override_argparse_defaults() {
        let mut knobs = parse_knobs("train.py", FIXTURE);
        let command = "torchrun --nproc_per_node=8 train.py --learning-rate 1e-3 \
                       --batch_size=64 --compile --warmup 10 --run 'my run' data/ && echo --eval-every 7";
        apply_command_flags(&mut knobs, command);
        assert_eq!(argparse_value(&knobs, "learning_rate"), Value::Float(1e-3));
        assert_eq!(argparse_value(&knobs, "batch_size"), Value::Int(64));
        assert_eq!(argparse_value(&knobs, "compile"), Value::Bool(true));
        assert_eq!(argparse_value(&knobs, "warmup_steps"), Value::Int(10));
        assert_eq!(
            argparse_value(&knobs, "run_name"),
            Value::Str("my run".into())
        );
        assert_eq!(argparse_value(&knobs, "eval_every"), Value::Int(250));
        let module_batch = knobs.iter().find(|k| k.name == "batch_size").unwrap();
        assert_eq!(module_batch.value, Value::Int(12));
        let learning_rate = knobs.iter().find(|k| k.name == "learning_rate").unwrap();
        assert_eq!(
            learning_rate.location(),
            "the run command (--learning-rate 1e-3; the default is on line 172 of train.py)"
        );
    }

    #[test]
    fn short_flags_and_bad_values() {
        let mut knobs = parse_knobs("train.py", FIXTURE);
        apply_command_flags(&mut knobs, "python3 train.py -lr 0.01 --batch_size many");
        assert_eq!(argparse_value(&knobs, "learning_rate"), Value::Float(0.01));
        assert_eq!(argparse_value(&knobs, "batch_size"), Value::Int(32));
    }

    #[test]
    fn configurator_style_overrides_module_constants_of_the_same_type() {
        let source = "batch_size = 12\nlearning_rate = 6e-4\ndataset = 'owt'\n";
        let mut knobs = parse_knobs("train.py", source);
        apply_command_flags(
            &mut knobs,
            "python train.py config/x.py --batch_size=32 --learning_rate=3 --dataset='shakespeare'",
        );
        let values: Vec<String> = knobs.iter().map(|knob| knob.value.to_string()).collect();
        assert_eq!(values, ["32", "0.0006", "shakespeare"]);
    }

    #[test]
    fn shell_words_follow_quotes() {
        assert_eq!(
            shell_words(r#"a 'b c' "d \"e\"" f\ g"#),
            ["a", "b c", "d \"e\"", "f g"]
        );
    }
}
