//! The built-in functions rule expressions may call (`min max abs len int float round`),
//! with Python's behaviour and errors instead of panics.

use super::eval::{invalid, OperationResult, Problem};
use super::value::{Number, Value};

pub(crate) fn call(function: &str, arguments: Vec<Value>) -> OperationResult {
    let wrong_count = |expected: &str| {
        invalid(format!(
            "{function}() takes {expected}, but {} were given",
            arguments.len()
        ))
    };
    match function {
        "min" | "max" => {
            let candidates = match arguments.as_slice() {
                [] => return Err(wrong_count("at least 1 argument")),
                [Value::List(items)] => items.clone(),
                [single] => {
                    return Err(invalid(format!("'{}' is not iterable", single.type_name())))
                }
                _ => arguments,
            };
            extreme(function, candidates)
        }
        "abs" | "len" | "int" | "float" if arguments.len() != 1 => {
            Err(wrong_count("exactly 1 argument"))
        }
        "abs" => unary_abs(&arguments[0]),
        "len" => match &arguments[0] {
            Value::Str(text) => Ok(Value::Int(text.chars().count() as i64)),
            Value::List(items) => Ok(Value::Int(items.len() as i64)),
            other => Err(invalid(format!(
                "object of type '{}' has no len()",
                other.type_name()
            ))),
        },
        "int" => to_int(&arguments[0]),
        "float" => to_float(&arguments[0]),
        "round" => match arguments.as_slice() {
            [value] => round_to_int(value),
            [value, digits] => round_to_digits(value, digits),
            _ => Err(wrong_count("1 or 2 arguments")),
        },
        other => Err(invalid(format!("function `{other}` is not allowed"))),
    }
}

fn extreme(function: &str, candidates: Vec<Value>) -> OperationResult {
    let mut best: Option<Value> = None;
    for candidate in candidates {
        best = Some(match best {
            None => candidate,
            Some(current) => {
                let order = candidate.python_cmp(&current).ok_or_else(|| {
                    invalid(format!(
                        "{function}() cannot compare '{}' with '{}'",
                        candidate.type_name(),
                        current.type_name()
                    ))
                })?;
                let better = if function == "min" {
                    order.is_lt()
                } else {
                    order.is_gt()
                };
                if better {
                    candidate
                } else {
                    current
                }
            }
        });
    }
    best.ok_or_else(|| invalid(format!("{function}() of an empty sequence")))
}

fn unary_abs(value: &Value) -> OperationResult {
    match value.as_number() {
        Some(Number::Int(integer)) => integer
            .checked_abs()
            .map(Value::Int)
            .ok_or(Problem::Overflow),
        Some(Number::Float(float)) => Ok(Value::Float(float.abs())),
        None => Err(invalid(format!(
            "bad operand type for abs(): '{}'",
            value.type_name()
        ))),
    }
}

fn float_to_int(float: f64) -> OperationResult {
    if !float.is_finite() {
        return Err(invalid(format!("cannot convert {float} to an integer")));
    }
    let truncated = float.trunc();
    // 2^63 is exactly representable; anything at or past it does not fit.
    if !(-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0).contains(&truncated) {
        return Err(Problem::Overflow);
    }
    Ok(Value::Int(truncated as i64))
}

fn to_int(value: &Value) -> OperationResult {
    match value {
        Value::Str(text) => {
            let cleaned: String = text.trim().chars().filter(|c| *c != '_').collect();
            cleaned
                .parse::<i64>()
                .map(Value::Int)
                .map_err(|_| invalid(format!("invalid literal for int() with base 10: '{text}'")))
        }
        other => match other.as_number() {
            Some(Number::Int(integer)) => Ok(Value::Int(integer)),
            Some(Number::Float(float)) => float_to_int(float),
            None => Err(invalid(format!(
                "int() cannot convert '{}'",
                other.type_name()
            ))),
        },
    }
}

fn to_float(value: &Value) -> OperationResult {
    match value {
        Value::Str(text) => text
            .trim()
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| invalid(format!("could not convert string to float: '{text}'"))),
        other => other
            .as_f64()
            .map(Value::Float)
            .ok_or_else(|| invalid(format!("float() cannot convert '{}'", other.type_name()))),
    }
}

fn round_to_int(value: &Value) -> OperationResult {
    match value.as_number() {
        Some(Number::Int(integer)) => Ok(Value::Int(integer)),
        Some(Number::Float(float)) => float_to_int(float.round_ties_even()),
        None => Err(invalid(format!(
            "round() cannot round '{}'",
            value.type_name()
        ))),
    }
}

fn round_to_digits(value: &Value, digits: &Value) -> OperationResult {
    let Some(Number::Int(digits)) = digits.as_number() else {
        return Err(invalid("round() needs an integer number of digits"));
    };
    match value.as_number() {
        Some(Number::Int(integer)) if digits >= 0 => Ok(Value::Int(integer)),
        Some(number) => {
            let scale = 10f64.powi(i32::try_from(digits.clamp(-308, 308)).unwrap_or(0));
            let float = number.as_float();
            let rounded = (float * scale).round_ties_even() / scale;
            let rounded = if rounded.is_finite() { rounded } else { float };
            match number {
                Number::Int(_) => float_to_int(rounded),
                Number::Float(_) => Ok(Value::Float(rounded)),
            }
        }
        None => Err(invalid(format!(
            "round() cannot round '{}'",
            value.type_name()
        ))),
    }
}
