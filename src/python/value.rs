//! Python-like values that knobs hold and rule expressions compute, with Python's printing.

use std::cmp::Ordering;
use std::fmt;

use serde::Serialize;

/// A value of the small Python subset that knobs and rules use. Tuples are lists.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Float(f64),
    Str(String),
    Bool(bool),
    None,
    List(Vec<Value>),
}

/// A number after Python's promotion of `bool` to `int`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    pub(crate) fn as_float(self) -> f64 {
        match self {
            Number::Int(integer) => integer as f64,
            Number::Float(float) => float,
        }
    }
}

impl Value {
    /// The Python type name, as Python's own error messages spell it.
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bool(_) => "bool",
            Value::None => "NoneType",
            Value::List(_) => "list",
        }
    }

    /// Python truthiness: zero, empty and `None` are false.
    pub fn is_truthy(&self) -> bool {
        match self {
            Value::Int(integer) => *integer != 0,
            Value::Float(float) => *float != 0.0,
            Value::Str(text) => !text.is_empty(),
            Value::Bool(flag) => *flag,
            Value::None => false,
            Value::List(items) => !items.is_empty(),
        }
    }

    pub(crate) fn as_number(&self) -> Option<Number> {
        match self {
            Value::Int(integer) => Some(Number::Int(*integer)),
            Value::Float(float) => Some(Number::Float(*float)),
            Value::Bool(flag) => Some(Number::Int(i64::from(*flag))),
            _ => None,
        }
    }

    /// The value as a float when it is a number (`bool` counts as `int`, as in Python).
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_float)
    }

    /// Python's `repr`: like `Display`, but strings keep their quotes.
    pub fn repr(&self) -> String {
        match self {
            Value::Str(text) => quote(text),
            other => other.to_string(),
        }
    }

    /// Python's `==`: numbers compare by value across int, float and bool.
    pub fn python_eq(&self, other: &Value) -> bool {
        match (self.as_number(), other.as_number()) {
            (Some(left), Some(right)) => numbers_equal(left, right),
            _ => match (self, other) {
                (Value::List(left), Value::List(right)) => {
                    left.len() == right.len() && left.iter().zip(right).all(|(a, b)| a.python_eq(b))
                }
                (Value::Str(left), Value::Str(right)) => left == right,
                (Value::None, Value::None) => true,
                _ => false,
            },
        }
    }

    /// Python's ordering for `<`, `min`, `max`; `None` when Python raises `TypeError`.
    pub fn python_cmp(&self, other: &Value) -> Option<Ordering> {
        match (self.as_number(), other.as_number()) {
            (Some(Number::Int(left)), Some(Number::Int(right))) => Some(left.cmp(&right)),
            (Some(left), Some(right)) => left.as_float().partial_cmp(&right.as_float()),
            _ => match (self, other) {
                (Value::Str(left), Value::Str(right)) => Some(left.cmp(right)),
                (Value::List(left), Value::List(right)) => {
                    for (a, b) in left.iter().zip(right) {
                        if !a.python_eq(b) {
                            return a.python_cmp(b);
                        }
                    }
                    Some(left.len().cmp(&right.len()))
                }
                _ => None,
            },
        }
    }
}

fn numbers_equal(left: Number, right: Number) -> bool {
    match (left, right) {
        (Number::Int(a), Number::Int(b)) => a == b,
        (a, b) => a.as_float() == b.as_float(),
    }
}

/// Shows numbers as Python prints them and strings without quotes, for messages.
impl fmt::Display for Value {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(integer) => write!(formatter, "{integer}"),
            Value::Float(float) => formatter.write_str(&python_float(*float)),
            Value::Str(text) => formatter.write_str(text),
            Value::Bool(true) => formatter.write_str("True"),
            Value::Bool(false) => formatter.write_str("False"),
            Value::None => formatter.write_str("None"),
            Value::List(items) => {
                let shown: Vec<String> = items.iter().map(Value::repr).collect();
                write!(formatter, "[{}]", shown.join(", "))
            }
        }
    }
}

/// Python's `repr(float)`: shortest round-trip digits, scientific below 1e-4 and from 1e16.
pub fn python_float(float: f64) -> String {
    if float.is_nan() {
        return "nan".to_string();
    }
    if float.is_infinite() {
        return if float > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if float == 0.0 {
        return if float.is_sign_negative() {
            "-0.0"
        } else {
            "0.0"
        }
        .to_string();
    }
    let scientific = format!("{float:e}");
    let (mantissa, exponent_text) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent_text.parse().unwrap_or(0);
    if (-4..16).contains(&exponent) {
        let plain = format!("{float}");
        if plain.contains('.') {
            plain
        } else {
            format!("{plain}.0")
        }
    } else {
        let sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
    }
}

fn quote(text: &str) -> String {
    let delimiter = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push(delimiter);
    for character in text.chars() {
        match character {
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            '\r' => quoted.push_str("\\r"),
            c if c == delimiter => {
                quoted.push('\\');
                quoted.push(c);
            }
            c => quoted.push(c),
        }
    }
    quoted.push(delimiter);
    quoted
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_like_python_repr() {
        assert_eq!(python_float(5e-4), "0.0005");
        assert_eq!(python_float(1e-5), "1e-05");
        assert_eq!(python_float(1.0), "1.0");
        assert_eq!(python_float(3e-4), "0.0003");
        assert_eq!(python_float(1e16), "1e+16");
        assert_eq!(python_float(1.5e16), "1.5e+16");
        assert_eq!(python_float(123456789.5), "123456789.5");
        assert_eq!(python_float(-2.5e-7), "-2.5e-07");
        assert_eq!(python_float(f64::INFINITY), "inf");
    }

    #[test]
    fn display_shows_strings_bare_and_lists_as_repr() {
        assert_eq!(Value::Int(64).to_string(), "64");
        assert_eq!(Value::Str("cuda".into()).to_string(), "cuda");
        assert_eq!(Value::Str("cuda".into()).repr(), "'cuda'");
        let list = Value::List(vec![Value::Float(0.9), Value::Str("a".into()), Value::None]);
        assert_eq!(list.to_string(), "[0.9, 'a', None]");
        assert_eq!(Value::Bool(true).to_string(), "True");
    }

    #[test]
    fn equality_and_order_follow_python() {
        assert!(Value::Int(1).python_eq(&Value::Float(1.0)));
        assert!(Value::Bool(true).python_eq(&Value::Int(1)));
        assert!(!Value::Str("1".into()).python_eq(&Value::Int(1)));
        assert_eq!(
            Value::Int(2).python_cmp(&Value::Float(2.5)),
            Some(Ordering::Less)
        );
        assert_eq!(Value::Str("a".into()).python_cmp(&Value::Int(1)), None);
        let short = Value::List(vec![Value::Int(1)]);
        let long = Value::List(vec![Value::Int(1), Value::Int(0)]);
        assert_eq!(short.python_cmp(&long), Some(Ordering::Less));
    }
}
