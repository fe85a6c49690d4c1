//! Shapes of Python statements read from a logical line's tokens: assignments, block headers,
//! decorators and call arguments. Shared by the knob parser and the region scanner.

use super::expr::BinaryOperator;
use super::lexer::{Token, TokenKind, KEYWORDS};
use super::parser::parse_tokens;

/// An assignment statement at the start of a logical line.
#[derive(Debug)]
pub(crate) enum Assignment<'t> {
    /// `A = B = value` or `a, b = value`: each target is one or more names.
    Plain {
        targets: Vec<Vec<&'t Token>>,
        value: &'t [Token],
    },
    /// `name: annotation = value`; `value` is empty when there is no default.
    Annotated { name: &'t Token, value: &'t [Token] },
    /// `name += value`.
    Augmented {
        name: &'t Token,
        operator: BinaryOperator,
        value: &'t [Token],
    },
}

impl Assignment<'_> {
    /// Every assigned name token, in order.
    pub fn names(&self) -> Vec<&Token> {
        match self {
            Assignment::Plain { targets, .. } => targets.iter().flatten().copied().collect(),
            Assignment::Annotated { name, .. } | Assignment::Augmented { name, .. } => vec![name],
        }
    }
}

fn is_identifier(token: &Token, source: &str) -> bool {
    token.kind == TokenKind::Name && !is_keyword(token.text(source))
}

fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Bracket depth change of a token.
fn depth_step(token: &Token, source: &str) -> isize {
    if token.kind != TokenKind::Operator {
        return 0;
    }
    match token.text(source) {
        "(" | "[" | "{" => 1,
        ")" | "]" | "}" => -1,
        _ => 0,
    }
}

/// Indices of tokens equal to `operator` outside any brackets.
fn top_level_positions(tokens: &[Token], source: &str, operator: &str) -> Vec<usize> {
    let mut depth = 0isize;
    let mut positions = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        if depth == 0 && token.is_operator(source, operator) {
            positions.push(index);
        }
        depth += depth_step(token, source);
    }
    positions
}

/// Reads `tokens` as an assignment statement, or `None` when it is anything else.
pub(crate) fn classify_assignment<'t>(source: &str, tokens: &'t [Token]) -> Option<Assignment<'t>> {
    let first = tokens.first()?;
    if !is_identifier(first, source) {
        if first.is_operator(source, "(") || first.is_operator(source, "[") {
            return plain_assignment(source, tokens);
        }
        return None;
    }
    let second = tokens.get(1)?;
    if second.is_operator(source, ":") {
        let equals = top_level_positions(tokens, source, "=");
        let value = match equals.as_slice() {
            [] => &[][..],
            [index] => tokens.get(index + 1..)?,
            _ => return None,
        };
        return Some(Assignment::Annotated { name: first, value });
    }
    if second.kind == TokenKind::Operator {
        let operator = match second.text(source) {
            "+=" => Some(BinaryOperator::Add),
            "-=" => Some(BinaryOperator::Subtract),
            "*=" => Some(BinaryOperator::Multiply),
            "/=" => Some(BinaryOperator::Divide),
            "//=" => Some(BinaryOperator::FloorDivide),
            "%=" => Some(BinaryOperator::Modulo),
            "**=" => Some(BinaryOperator::Power),
            _ => None,
        };
        if let Some(operator) = operator {
            let value = tokens.get(2..)?;
            return Some(Assignment::Augmented {
                name: first,
                operator,
                value,
            });
        }
    }
    plain_assignment(source, tokens)
}

fn plain_assignment<'t>(source: &str, tokens: &'t [Token]) -> Option<Assignment<'t>> {
    let equals = top_level_positions(tokens, source, "=");
    let last = *equals.last()?;
    let mut targets = Vec::new();
    let mut segment_start = 0;
    for &index in &equals {
        targets.push(target_names(source, tokens.get(segment_start..index)?)?);
        segment_start = index + 1;
    }
    let value = tokens.get(last + 1..)?;
    if value.is_empty() {
        return None;
    }
    Some(Assignment::Plain { targets, value })
}

/// `a`, `a, b`, `(a, b)` or `[a, b]` as name tokens; `None` for `x[0]`, `obj.attr` and the like.
fn target_names<'t>(source: &str, tokens: &'t [Token]) -> Option<Vec<&'t Token>> {
    let inner = match (tokens.first(), tokens.last()) {
        (Some(open), Some(close))
            if tokens.len() >= 2
                && ((open.is_operator(source, "(") && close.is_operator(source, ")"))
                    || (open.is_operator(source, "[") && close.is_operator(source, "]"))) =>
        {
            tokens.get(1..tokens.len() - 1)?
        }
        _ => tokens,
    };
    let mut names = Vec::new();
    for (index, token) in inner.iter().enumerate() {
        let expect_name = index % 2 == 0;
        if expect_name && is_identifier(token, source) {
            names.push(token);
        } else if expect_name || !token.is_operator(source, ",") {
            return None;
        }
    }
    (!names.is_empty()).then_some(names)
}

/// A `def`/`async def`/`class` header: its kind and name.
pub(crate) fn block_header<'t>(
    source: &str,
    tokens: &'t [Token],
) -> Option<(BlockKind, &'t Token)> {
    let mut tokens = tokens.iter();
    let mut keyword = tokens.next()?;
    if keyword.is_name(source, "async") {
        keyword = tokens.next()?;
    }
    let kind = match keyword.text(source) {
        "def" if keyword.kind == TokenKind::Name => BlockKind::Function,
        "class" if keyword.kind == TokenKind::Name => BlockKind::Class,
        _ => return None,
    };
    let name = tokens.next().filter(|token| is_identifier(token, source))?;
    Some((kind, name))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BlockKind {
    Function,
    Class,
}

pub(crate) fn is_decorator(source: &str, tokens: &[Token]) -> bool {
    tokens
        .first()
        .is_some_and(|token| token.is_operator(source, "@"))
}

/// `@dataclass`, `@dataclass(...)`, `@dataclasses.dataclass(...)`.
pub(crate) fn is_dataclass_decorator(source: &str, tokens: &[Token]) -> bool {
    let names: Vec<&str> = tokens
        .iter()
        .skip(1)
        .take_while(|token| !token.is_operator(source, "("))
        .map(|token| token.text(source))
        .collect();
    matches!(
        names.as_slice(),
        ["dataclass"] | ["dataclasses", ".", "dataclass"]
    )
}

/// One argument of a call: `keyword=value` or a positional value.
#[derive(Debug)]
pub(crate) struct Argument<'t> {
    pub keyword: Option<&'t Token>,
    pub value: &'t [Token],
}

/// The arguments of the call whose `(` is at `open`; `None` when the call is not closed.
pub(crate) fn call_arguments<'t>(
    source: &str,
    tokens: &'t [Token],
    open: usize,
) -> Option<Vec<Argument<'t>>> {
    let mut arguments = Vec::new();
    let mut depth = 0isize;
    let mut segment_start = open + 1;
    for (index, token) in tokens.iter().enumerate().skip(open) {
        depth += depth_step(token, source);
        let closes = depth == 0;
        let separates = depth == 1 && token.is_operator(source, ",");
        if closes || separates {
            let segment = tokens.get(segment_start..index)?;
            if !segment.is_empty() {
                arguments.push(split_keyword(source, segment));
            }
            segment_start = index + 1;
            if closes {
                return Some(arguments);
            }
        }
    }
    None
}

fn split_keyword<'t>(source: &str, segment: &'t [Token]) -> Argument<'t> {
    match segment {
        [name, equals, value @ ..]
            if name.kind == TokenKind::Name && equals.is_operator(source, "=") =>
        {
            Argument {
                keyword: Some(name),
                value,
            }
        }
        _ => Argument {
            keyword: None,
            value: segment,
        },
    }
}

/// The source text of `tokens`, with comments dropped and each run of whitespace as one space.
pub(crate) fn tokens_text(source: &str, tokens: &[Token]) -> String {
    let mut text = String::new();
    let mut previous_end: Option<usize> = None;
    for token in tokens {
        if previous_end.is_some_and(|end| end < token.start) {
            text.push(' ');
        }
        text.push_str(token.text(source));
        previous_end = Some(token.end);
    }
    text
}

/// Parses and evaluates `tokens` as an expression; `None` when it cannot be evaluated here.
pub(crate) fn evaluate_tokens(
    source: &str,
    tokens: &[Token],
    environment: &dyn Fn(&str) -> Option<super::value::Value>,
) -> Option<super::value::Value> {
    if tokens.is_empty() {
        return None;
    }
    let expression = parse_tokens(source, tokens).ok()?;
    super::eval::evaluate(&expression, source, environment).ok()
}

#[cfg(test)]
mod tests {
    use super::super::lexer::tokenize;
    use super::*;

    fn assigned(source: &str) -> Option<(Vec<String>, String)> {
        let tokenized = tokenize(source);
        let line = tokenized.lines.first()?;
        let tokens = tokenized.line_tokens(line);
        let assignment = classify_assignment(source, tokens)?;
        let names = assignment
            .names()
            .iter()
            .map(|t| t.text(source).to_string())
            .collect();
        let value = match &assignment {
            Assignment::Plain { value, .. }
            | Assignment::Annotated { value, .. }
            | Assignment::Augmented { value, .. } => tokens_text(source, value),
        };
        Some((names, value))
    }

    #[test]
    fn recognises_assignment_shapes() {
        assert_eq!(
            assigned("DEPTH = 8  # layers"),
            Some((vec!["DEPTH".into()], "8".into()))
        );
        assert_eq!(assigned("x: int = 3"), Some((vec!["x".into()], "3".into())));
        assert_eq!(
            assigned("a = b = (1,\n 2)"),
            Some((vec!["a".into(), "b".into()], "(1, 2)".into()))
        );
        assert_eq!(
            assigned("(a, b) = 1, 2"),
            Some((vec!["a".into(), "b".into()], "1, 2".into()))
        );
        assert_eq!(assigned("n += 1"), Some((vec!["n".into()], "1".into())));
        assert!(assigned("x[0] = 1").is_none());
        assert!(assigned("obj.attr = 1").is_none());
        assert!(assigned("if a == b: pass").is_none());
        assert!(assigned("print(end='')").is_none());
    }

    #[test]
    fn reads_call_arguments() {
        let source = "p.add_argument('--lr', type=float, default=f(1, 2))";
        let tokenized = tokenize(source);
        let arguments = call_arguments(source, &tokenized.tokens, 3).unwrap();
        let shown: Vec<(Option<&str>, String)> = arguments
            .iter()
            .map(|a| {
                (
                    a.keyword.map(|k| k.text(source)),
                    tokens_text(source, a.value),
                )
            })
            .collect();
        assert_eq!(
            shown,
            [
                (None, "'--lr'".into()),
                (Some("type"), "float".into()),
                (Some("default"), "f(1, 2)".into())
            ]
        );
    }
}
