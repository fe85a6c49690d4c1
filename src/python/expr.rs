//! The safe rule expression language: a Python expression subset parsed from tokens into a
//! tree. No attribute access and only whitelisted calls, so evaluating it cannot do harm.

use thiserror::Error;

use super::eval;
use super::lexer::tokenize_expression;
use super::parser::parse_tokens;
use super::value::Value;

/// Functions an expression may call.
pub const ALLOWED_FUNCTIONS: [&str; 7] = ["min", "max", "abs", "len", "int", "float", "round"];

#[derive(Debug, Clone, PartialEq, Error)]
pub enum ExprError {
    #[error("column {column}: expected {expected}, found {found}")]
    Parse {
        column: usize,
        expected: String,
        found: String,
    },
    #[error("name `{name}` is not defined")]
    UnknownName { name: String },
    #[error("division by zero in `{expression}`")]
    DivisionByZero { expression: String },
    #[error("overflow in `{expression}`: the result does not fit in a 64-bit number")]
    Overflow { expression: String },
    #[error("cannot evaluate `{expression}`: {problem}")]
    Invalid { expression: String, problem: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UnaryOperator {
    Negate,
    Plus,
    Invert,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BinaryOperator {
    Add,
    Subtract,
    Multiply,
    Divide,
    FloorDivide,
    Modulo,
    Power,
}

impl BinaryOperator {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOperator::Add => "+",
            BinaryOperator::Subtract => "-",
            BinaryOperator::Multiply => "*",
            BinaryOperator::Divide => "/",
            BinaryOperator::FloorDivide => "//",
            BinaryOperator::Modulo => "%",
            BinaryOperator::Power => "**",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CompareOperator {
    Less,
    LessEqual,
    Greater,
    GreaterEqual,
    Equal,
    NotEqual,
    In,
    NotIn,
    Is,
    IsNot,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Literal(Value),
    Name(String),
    Unary(UnaryOperator, Box<Expr>),
    Binary(BinaryOperator, Box<Expr>, Box<Expr>),
    Compare(Box<Expr>, Vec<(CompareOperator, Expr)>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Conditional {
        condition: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    Call(String, Vec<Expr>),
    List(Vec<Expr>),
    Index(Box<Expr>, Box<Expr>),
}

/// A parsed expression node with its byte span in the source it came from.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expr {
    pub node: Node,
    pub start: usize,
    pub end: usize,
    pub depth: u32,
}

impl Expr {
    /// Names the expression reads, in order of first appearance (dotted names whole).
    pub fn names(&self) -> Vec<String> {
        let mut names = Vec::new();
        self.collect_names(&mut names);
        names
    }

    fn collect_names(&self, names: &mut Vec<String>) {
        let children: Vec<&Expr> = match &self.node {
            Node::Literal(_) => Vec::new(),
            Node::Name(name) => {
                if !names.contains(name) {
                    names.push(name.clone());
                }
                Vec::new()
            }
            Node::Unary(_, operand) => vec![operand],
            Node::Binary(_, left, right)
            | Node::And(left, right)
            | Node::Or(left, right)
            | Node::Index(left, right) => vec![left, right],
            Node::Compare(first, rest) => std::iter::once(&**first)
                .chain(rest.iter().map(|(_, e)| e))
                .collect(),
            Node::Conditional {
                condition,
                then,
                otherwise,
            } => vec![then, condition, otherwise],
            Node::Call(_, items) | Node::List(items) => items.iter().collect(),
        };
        for child in children {
            child.collect_names(names);
        }
    }
}

/// A rule expression parsed from its own text, ready to evaluate many times.
#[derive(Debug, Clone, PartialEq)]
pub struct Expression {
    text: String,
    root: Expr,
}

impl Expression {
    pub fn parse(text: &str) -> Result<Expression, ExprError> {
        let tokens = tokenize_expression(text);
        let root = parse_tokens(text, &tokens)?;
        Ok(Expression {
            text: text.to_string(),
            root,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Names the expression reads, in order of first appearance.
    pub fn names(&self) -> Vec<String> {
        self.root.names()
    }

    pub fn evaluate(
        &self,
        environment: &dyn Fn(&str) -> Option<Value>,
    ) -> Result<Value, ExprError> {
        eval::evaluate(&self.root, &self.text, environment)
    }

    pub fn evaluate_with_map(
        &self,
        values: &std::collections::BTreeMap<String, Value>,
    ) -> Result<Value, ExprError> {
        self.evaluate(&|name| values.get(name).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_listed_in_order_once() {
        let expression = Expression::parse("A == B // C + A and GPTConfig.n_layer > 0").unwrap();
        assert_eq!(expression.names(), ["A", "B", "C", "GPTConfig.n_layer"]);
        let call = Expression::parse("max(X, 2) <= len([Y])").unwrap();
        assert_eq!(call.names(), ["X", "Y"]);
    }
}
