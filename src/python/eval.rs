//! Evaluation of expression trees with Python's semantics for the operators and the few
//! whitelisted built-in functions; overflow and division by zero are errors, never panics.

use std::cmp::Ordering;

use super::builtins::call;
use super::expr::{BinaryOperator, CompareOperator, Expr, ExprError, Node, UnaryOperator};
use super::value::{Number, Value};

/// Longest string or list an expression may build (`'a' * 10**12` must not eat memory).
const MAX_SEQUENCE_LENGTH: usize = 1 << 20;

pub(crate) fn evaluate(
    expression: &Expr,
    source: &str,
    environment: &dyn Fn(&str) -> Option<Value>,
) -> Result<Value, ExprError> {
    Evaluator {
        source,
        environment,
    }
    .evaluate(expression)
}

struct Evaluator<'a> {
    source: &'a str,
    environment: &'a dyn Fn(&str) -> Option<Value>,
}

/// What went wrong in one operation; the evaluator adds the expression's text.
pub(crate) enum Problem {
    DivisionByZero,
    Overflow,
    Invalid(String),
}

pub(crate) type OperationResult = Result<Value, Problem>;

impl Evaluator<'_> {
    fn text(&self, expression: &Expr) -> String {
        let text = self
            .source
            .get(expression.start..expression.end)
            .unwrap_or("");
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if text.chars().count() > 80 {
            format!("{}...", text.chars().take(77).collect::<String>())
        } else {
            text
        }
    }

    fn fail(&self, expression: &Expr, problem: Problem) -> ExprError {
        let text = self.text(expression);
        match problem {
            Problem::DivisionByZero => ExprError::DivisionByZero { expression: text },
            Problem::Overflow => ExprError::Overflow { expression: text },
            Problem::Invalid(problem) => ExprError::Invalid {
                expression: text,
                problem,
            },
        }
    }

    fn evaluate(&self, expression: &Expr) -> Result<Value, ExprError> {
        let result = match &expression.node {
            Node::Literal(value) => Ok(value.clone()),
            Node::Name(name) => {
                return (self.environment)(name)
                    .ok_or_else(|| ExprError::UnknownName { name: name.clone() })
            }
            Node::Unary(UnaryOperator::Not, operand) => {
                Ok(Value::Bool(!self.evaluate(operand)?.is_truthy()))
            }
            Node::Unary(operator, operand) => unary(*operator, self.evaluate(operand)?),
            Node::Binary(operator, left, right) => {
                binary(*operator, &self.evaluate(left)?, &self.evaluate(right)?)
            }
            Node::And(left, right) => {
                let left = self.evaluate(left)?;
                return if left.is_truthy() {
                    self.evaluate(right)
                } else {
                    Ok(left)
                };
            }
            Node::Or(left, right) => {
                let left = self.evaluate(left)?;
                return if left.is_truthy() {
                    Ok(left)
                } else {
                    self.evaluate(right)
                };
            }
            Node::Compare(first, rest) => {
                let mut left = self.evaluate(first)?;
                for (operator, right_expression) in rest {
                    let right = self.evaluate(right_expression)?;
                    match compare(*operator, &left, &right) {
                        Ok(true) => left = right,
                        Ok(false) => return Ok(Value::Bool(false)),
                        Err(problem) => return Err(self.fail(expression, problem)),
                    }
                }
                return Ok(Value::Bool(true));
            }
            Node::Conditional {
                condition,
                then,
                otherwise,
            } => {
                return if self.evaluate(condition)?.is_truthy() {
                    self.evaluate(then)
                } else {
                    self.evaluate(otherwise)
                };
            }
            Node::Call(function, arguments) => {
                let values = arguments
                    .iter()
                    .map(|argument| self.evaluate(argument))
                    .collect::<Result<Vec<_>, _>>()?;
                call(function, values)
            }
            Node::List(items) => {
                return items
                    .iter()
                    .map(|item| self.evaluate(item))
                    .collect::<Result<_, _>>()
                    .map(Value::List)
            }
            Node::Index(container, index) => {
                index_into(self.evaluate(container)?, &self.evaluate(index)?)
            }
        };
        result.map_err(|problem| self.fail(expression, problem))
    }
}

pub(crate) fn invalid(problem: impl Into<String>) -> Problem {
    Problem::Invalid(problem.into())
}

fn unary(operator: UnaryOperator, value: Value) -> OperationResult {
    let number = value.as_number();
    match (operator, number) {
        (UnaryOperator::Negate, Some(Number::Int(integer))) => integer
            .checked_neg()
            .map(Value::Int)
            .ok_or(Problem::Overflow),
        (UnaryOperator::Negate, Some(Number::Float(float))) => Ok(Value::Float(-float)),
        (UnaryOperator::Plus, Some(Number::Int(integer))) => Ok(Value::Int(integer)),
        (UnaryOperator::Plus, Some(Number::Float(float))) => Ok(Value::Float(float)),
        (UnaryOperator::Invert, Some(Number::Int(integer))) => Ok(Value::Int(!integer)),
        (UnaryOperator::Not, _) => Ok(Value::Bool(!value.is_truthy())),
        _ => {
            let symbol = match operator {
                UnaryOperator::Negate => "-",
                UnaryOperator::Plus => "+",
                UnaryOperator::Invert => "~",
                UnaryOperator::Not => "not",
            };
            Err(invalid(format!(
                "bad operand type for unary {symbol}: '{}'",
                value.type_name()
            )))
        }
    }
}

fn binary(operator: BinaryOperator, left: &Value, right: &Value) -> OperationResult {
    if let (Some(a), Some(b)) = (left.as_number(), right.as_number()) {
        return match (a, b) {
            (Number::Int(a), Number::Int(b)) => integer_operation(operator, a, b),
            (a, b) => float_operation(operator, a.as_float(), b.as_float()),
        };
    }
    let unsupported = || {
        invalid(format!(
            "unsupported operand types for {}: '{}' and '{}'",
            operator.symbol(),
            left.type_name(),
            right.type_name()
        ))
    };
    match (operator, left, right) {
        (BinaryOperator::Add, Value::Str(a), Value::Str(b)) => {
            check_length(a.len().saturating_add(b.len()))?;
            Ok(Value::Str(format!("{a}{b}")))
        }
        (BinaryOperator::Add, Value::List(a), Value::List(b)) => {
            check_length(a.len().saturating_add(b.len()))?;
            Ok(Value::List(a.iter().chain(b).cloned().collect()))
        }
        (BinaryOperator::Multiply, Value::Str(text), count)
        | (BinaryOperator::Multiply, count, Value::Str(text)) => {
            let times = repeat_count(count).ok_or_else(unsupported)?;
            check_length(text.len().saturating_mul(times))?;
            Ok(Value::Str(text.repeat(times)))
        }
        (BinaryOperator::Multiply, Value::List(items), count)
        | (BinaryOperator::Multiply, count, Value::List(items)) => {
            let times = repeat_count(count).ok_or_else(unsupported)?;
            check_length(items.len().saturating_mul(times))?;
            Ok(Value::List(
                items
                    .iter()
                    .cloned()
                    .cycle()
                    .take(items.len() * times)
                    .collect(),
            ))
        }
        _ => Err(unsupported()),
    }
}

fn repeat_count(value: &Value) -> Option<usize> {
    match value.as_number()? {
        Number::Int(count) => Some(usize::try_from(count.max(0)).unwrap_or(usize::MAX)),
        Number::Float(_) => None,
    }
}

fn check_length(length: usize) -> Result<(), Problem> {
    if length > MAX_SEQUENCE_LENGTH {
        return Err(invalid(format!(
            "the result would hold {length} items, too many to build"
        )));
    }
    Ok(())
}

fn integer_operation(operator: BinaryOperator, a: i64, b: i64) -> OperationResult {
    let result = match operator {
        BinaryOperator::Add => a.checked_add(b),
        BinaryOperator::Subtract => a.checked_sub(b),
        BinaryOperator::Multiply => a.checked_mul(b),
        BinaryOperator::Divide => return float_operation(operator, a as f64, b as f64),
        BinaryOperator::FloorDivide | BinaryOperator::Modulo if b == 0 => {
            return Err(Problem::DivisionByZero)
        }
        BinaryOperator::FloorDivide => floor_div(a, b),
        BinaryOperator::Modulo if b == -1 => Some(0),
        BinaryOperator::Modulo => {
            let remainder = a % b;
            Some(if remainder != 0 && (remainder < 0) != (b < 0) {
                remainder + b
            } else {
                remainder
            })
        }
        BinaryOperator::Power => {
            if b < 0 {
                return float_operation(operator, a as f64, b as f64);
            }
            match a {
                0 | 1 => Some(if b == 0 { 1 } else { a }),
                -1 => Some(if b % 2 == 0 { 1 } else { -1 }),
                _ => u32::try_from(b)
                    .ok()
                    .and_then(|exponent| a.checked_pow(exponent)),
            }
        }
    };
    result.map(Value::Int).ok_or(Problem::Overflow)
}

/// Python's `//` on integers rounds toward negative infinity.
fn floor_div(a: i64, b: i64) -> Option<i64> {
    let quotient = a.checked_div(b)?;
    if (a % b != 0) && ((a < 0) != (b < 0)) {
        quotient.checked_sub(1)
    } else {
        Some(quotient)
    }
}

fn float_operation(operator: BinaryOperator, a: f64, b: f64) -> OperationResult {
    let divides = matches!(
        operator,
        BinaryOperator::Divide | BinaryOperator::FloorDivide | BinaryOperator::Modulo
    );
    if divides && b == 0.0 {
        return Err(Problem::DivisionByZero);
    }
    let result = match operator {
        BinaryOperator::Add => a + b,
        BinaryOperator::Subtract => a - b,
        BinaryOperator::Multiply => a * b,
        BinaryOperator::Divide => a / b,
        BinaryOperator::FloorDivide => (a / b).floor(),
        BinaryOperator::Modulo => {
            let remainder = a % b;
            if remainder != 0.0 && (remainder < 0.0) != (b < 0.0) {
                remainder + b
            } else {
                remainder
            }
        }
        BinaryOperator::Power => {
            if a == 0.0 && b < 0.0 {
                return Err(Problem::DivisionByZero);
            }
            if a < 0.0 && b.fract() != 0.0 {
                return Err(invalid(
                    "a negative number to a fractional power is complex",
                ));
            }
            a.powf(b)
        }
    };
    if result.is_finite() || !a.is_finite() || !b.is_finite() {
        Ok(Value::Float(result))
    } else {
        Err(Problem::Overflow)
    }
}

fn compare(operator: CompareOperator, left: &Value, right: &Value) -> Result<bool, Problem> {
    let order = |accept: fn(Ordering) -> bool, symbol: &str| {
        left.python_cmp(right).map(accept).ok_or_else(|| {
            invalid(format!(
                "'{symbol}' is not supported between '{}' and '{}'",
                left.type_name(),
                right.type_name()
            ))
        })
    };
    match operator {
        CompareOperator::Equal | CompareOperator::Is => Ok(left.python_eq(right)),
        CompareOperator::NotEqual | CompareOperator::IsNot => Ok(!left.python_eq(right)),
        CompareOperator::Less => order(Ordering::is_lt, "<"),
        CompareOperator::LessEqual => order(Ordering::is_le, "<="),
        CompareOperator::Greater => order(Ordering::is_gt, ">"),
        CompareOperator::GreaterEqual => order(Ordering::is_ge, ">="),
        CompareOperator::In => contains(right, left),
        CompareOperator::NotIn => contains(right, left).map(|found| !found),
    }
}

fn contains(container: &Value, item: &Value) -> Result<bool, Problem> {
    match (container, item) {
        (Value::List(items), _) => Ok(items.iter().any(|candidate| candidate.python_eq(item))),
        (Value::Str(text), Value::Str(part)) => Ok(text.contains(part.as_str())),
        (Value::Str(_), _) => Err(invalid(format!(
            "'in <string>' requires a string on the left, not '{}'",
            item.type_name()
        ))),
        _ => Err(invalid(format!(
            "'{}' is not a container for `in`",
            container.type_name()
        ))),
    }
}

fn index_into(container: Value, index: &Value) -> OperationResult {
    let Some(Number::Int(position)) = index.as_number() else {
        return Err(invalid(format!(
            "indices must be integers, not '{}'",
            index.type_name()
        )));
    };
    let pick = |length: usize| -> Option<usize> {
        let length = i64::try_from(length).ok()?;
        let resolved = if position < 0 {
            position.checked_add(length)?
        } else {
            position
        };
        (0..length)
            .contains(&resolved)
            .then(|| usize::try_from(resolved).ok())
            .flatten()
    };
    let out_of_range = || invalid(format!("index {position} is out of range"));
    match container {
        Value::List(mut items) => {
            let at = pick(items.len()).ok_or_else(out_of_range)?;
            Ok(items.swap_remove(at))
        }
        Value::Str(text) => {
            let characters: Vec<char> = text.chars().collect();
            let at = pick(characters.len()).ok_or_else(out_of_range)?;
            Ok(Value::Str(
                characters.get(at).map(char::to_string).unwrap_or_default(),
            ))
        }
        other => Err(invalid(format!(
            "'{}' cannot be indexed",
            other.type_name()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::super::expr::Expression;
    use super::*;

    fn run(text: &str) -> Result<Value, ExprError> {
        let environment = |name: &str| match name {
            "SEQ_LEN" => Some(Value::Int(256)),
            "NUM_HEADS" => Some(Value::Int(16)),
            "LR" => Some(Value::Float(5e-4)),
            "ZERO" => Some(Value::Int(0)),
            "NAME" => Some(Value::Str("gpt".into())),
            _ => None,
        };
        Expression::parse(text)?.evaluate(&environment)
    }

    fn value(text: &str) -> Value {
        run(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn arithmetic_has_python_semantics() {
        assert_eq!(value("-7 // 2"), Value::Int(-4));
        assert_eq!(value("7 // -2"), Value::Int(-4));
        assert_eq!(value("-7 % 3"), Value::Int(2));
        assert_eq!(value("7 % -3"), Value::Int(-2));
        assert_eq!(value("-7.5 // 2"), Value::Float(-4.0));
        assert_eq!(value("7 / 2"), Value::Float(3.5));
        assert_eq!(value("6 / 3"), Value::Float(2.0));
        assert_eq!(value("2 ** 3 ** 2"), Value::Int(512));
        assert_eq!(value("-2 ** 2"), Value::Int(-4));
        assert_eq!(value("2 ** -1"), Value::Float(0.5));
        assert_eq!(value("2**19"), Value::Int(524288));
        assert_eq!(value("40 * 524288"), Value::Int(20971520));
        assert_eq!(value("1 + 2.0"), Value::Float(3.0));
        assert_eq!(value("True + True"), Value::Int(2));
        assert_eq!(value("SEQ_LEN // NUM_HEADS"), Value::Int(16));
        assert_eq!(value("'ab' * 2 + NAME"), Value::Str("ababgpt".into()));
        assert_eq!(
            value("[1, 2] + [3]"),
            Value::List(vec![Value::Int(1), Value::Int(2), Value::Int(3)])
        );
        assert_eq!(value("(1, 2)[-1]"), Value::Int(2));
    }

    #[test]
    fn comparisons_chain_and_logic_short_circuits() {
        assert_eq!(value("0 < NUM_HEADS <= 16"), Value::Bool(true));
        assert_eq!(value("0 < NUM_HEADS < 16"), Value::Bool(false));
        assert_eq!(value("1 < 3 > 2"), Value::Bool(true));
        assert_eq!(value("1 == 1.0"), Value::Bool(true));
        assert_eq!(value("LR in [5e-4, 1e-3]"), Value::Bool(true));
        assert_eq!(value("'z' not in NAME"), Value::Bool(true));
        assert_eq!(value("'p' in NAME"), Value::Bool(true));
        assert_eq!(value("ZERO and 1 // ZERO"), Value::Int(0));
        assert_eq!(value("ZERO or 'fallback'"), Value::Str("fallback".into()));
        assert_eq!(value("not ZERO"), Value::Bool(true));
        assert_eq!(value("1 if ZERO else 2"), Value::Int(2));
        assert_eq!(value("None is None"), Value::Bool(true));
    }

    #[test]
    fn whitelisted_functions_work() {
        assert_eq!(value("min(3, 1, 2)"), Value::Int(1));
        assert_eq!(value("max([1.5, 2])"), Value::Int(2));
        assert_eq!(value("abs(-3)"), Value::Int(3));
        assert_eq!(value("len('abc')"), Value::Int(3));
        assert_eq!(value("int(2.9)"), Value::Int(2));
        assert_eq!(value("int(-2.9)"), Value::Int(-2));
        assert_eq!(value("int('42')"), Value::Int(42));
        assert_eq!(value("float('1e-3')"), Value::Float(1e-3));
        assert_eq!(value("round(2.5)"), Value::Int(2));
        assert_eq!(value("round(3.5)"), Value::Int(4));
        assert_eq!(value("round(0.12345, 2)"), Value::Float(0.12));
    }

    #[test]
    fn errors_name_the_problem() {
        assert_eq!(
            run("SEQ_LEN // ZERO"),
            Err(ExprError::DivisionByZero {
                expression: "SEQ_LEN // ZERO".into()
            })
        );
        assert!(matches!(
            run("1 / 0.0"),
            Err(ExprError::DivisionByZero { .. })
        ));
        assert!(matches!(
            run("5 % 0"),
            Err(ExprError::DivisionByZero { .. })
        ));
        assert_eq!(
            run("SEQ_LEN + MISSING"),
            Err(ExprError::UnknownName {
                name: "MISSING".into()
            })
        );
        assert_eq!(
            run("1 + 2 ** 64"),
            Err(ExprError::Overflow {
                expression: "2 ** 64".into()
            })
        );
        assert!(matches!(
            run("9223372036854775807 + 1"),
            Err(ExprError::Overflow { .. })
        ));
        assert_eq!(
            run("-9223372036854775807 - 1 // -1"),
            Ok(Value::Int(-9223372036854775806))
        );
        assert!(matches!(
            run("(-9223372036854775807 - 1) // -1"),
            Err(ExprError::Overflow { .. })
        ));
        assert!(matches!(run("1e308 * 10"), Err(ExprError::Overflow { .. })));
        assert!(matches!(run("int(1e300)"), Err(ExprError::Overflow { .. })));
        assert!(matches!(
            run("'a' * 10 ** 12"),
            Err(ExprError::Invalid { .. })
        ));
        let error = run("NAME - 1").unwrap_err().to_string();
        assert_eq!(
            error,
            "cannot evaluate `NAME - 1`: unsupported operand types for -: 'str' and 'int'"
        );
        assert!(matches!(run("1 < 'a'"), Err(ExprError::Invalid { .. })));
        assert!(matches!(run("max([])"), Err(ExprError::Invalid { .. })));
        assert!(matches!(run("[1][5]"), Err(ExprError::Invalid { .. })));
    }
}
