//! The expression parser: Python's precedence climbing over tokens, with depth limits so
//! that no input can exhaust the stack.

use super::expr::{
    BinaryOperator, CompareOperator, Expr, ExprError, Node, UnaryOperator, ALLOWED_FUNCTIONS,
};
use super::lexer::{Token, TokenKind, KEYWORDS};
use super::literals::{decode_string, parse_number};
use super::value::Value;

/// Deeper trees than this are refused, so that parsing and evaluation stay off the stack's edge.
const MAX_TREE_DEPTH: u32 = 200;
/// Nesting of parentheses, brackets, unary operators and powers.
const MAX_NESTING: u32 = 60;

/// Parses all of `tokens` (spans into `source`) as one expression; a bare `a, b` is a tuple.
pub(crate) fn parse_tokens(source: &str, tokens: &[Token]) -> Result<Expr, ExprError> {
    let mut parser = Parser {
        source,
        tokens,
        position: 0,
        nesting: 0,
    };
    let expression = parser.expression_list()?;
    match parser.peek() {
        None => Ok(expression),
        Some(_) => Err(parser.unexpected("an operator or the end of the expression")),
    }
}

struct Parser<'a> {
    source: &'a str,
    tokens: &'a [Token],
    position: usize,
    nesting: u32,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&'a Token> {
        self.tokens.get(self.position)
    }

    fn peek_text(&self) -> &'a str {
        self.peek().map_or("", |token| token.text(self.source))
    }

    fn at_operator(&self, operator: &str) -> bool {
        self.peek()
            .is_some_and(|token| token.is_operator(self.source, operator))
    }

    fn at_keyword(&self, keyword: &str) -> bool {
        self.peek()
            .is_some_and(|token| token.is_name(self.source, keyword))
    }

    fn next_is_keyword(&self, keyword: &str) -> bool {
        self.tokens
            .get(self.position + 1)
            .is_some_and(|token| token.is_name(self.source, keyword))
    }

    fn end_of_previous(&self) -> usize {
        self.position
            .checked_sub(1)
            .and_then(|index| self.tokens.get(index))
            .map_or(0, |token| token.end)
    }

    fn unexpected(&self, expected: &str) -> ExprError {
        let (column, found) = match self.peek() {
            Some(token) => (token.column, describe_token(token, self.source)),
            None => (
                self.tokens.last().map_or(1, |token| {
                    token.column + token.text(self.source).chars().count()
                }),
                "the end of the expression".to_string(),
            ),
        };
        ExprError::Parse {
            column,
            expected: expected.to_string(),
            found,
        }
    }

    fn expect_operator(&mut self, operator: &str) -> Result<(), ExprError> {
        if self.at_operator(operator) {
            self.position += 1;
            Ok(())
        } else {
            Err(self.unexpected(&format!("`{operator}`")))
        }
    }

    /// The depth of a new node over `children`, refused past the limit.
    fn depth(&self, children: &[&Expr]) -> Result<u32, ExprError> {
        let depth = 1 + children.iter().map(|child| child.depth).max().unwrap_or(0);
        if depth > MAX_TREE_DEPTH {
            return Err(self.too_complex());
        }
        Ok(depth)
    }

    fn finish(&self, node: Node, start: usize, depth: u32) -> Expr {
        Expr {
            node,
            start,
            end: self.end_of_previous(),
            depth,
        }
    }

    fn leaf(&self, node: Node, start: usize) -> Result<Expr, ExprError> {
        Ok(self.finish(node, start, 1))
    }

    fn too_complex(&self) -> ExprError {
        let column = self.peek().map_or(1, |token| token.column);
        ExprError::Parse {
            column,
            expected: "a simpler expression".to_string(),
            found: "an expression nested too deeply".to_string(),
        }
    }

    fn enter(&mut self) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return Err(self.too_complex());
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.nesting = self.nesting.saturating_sub(1);
    }

    fn start(&self) -> usize {
        self.peek().map_or(self.source.len(), |token| token.start)
    }

    /// `a, b, c` (a tuple) or a single expression.
    fn expression_list(&mut self) -> Result<Expr, ExprError> {
        let start = self.start();
        let first = self.expression()?;
        if !self.at_operator(",") {
            return Ok(first);
        }
        let mut items = vec![first];
        while self.at_operator(",") {
            self.position += 1;
            if self.peek().is_none() || self.at_operator(")") {
                break;
            }
            items.push(self.expression()?);
        }
        let children: Vec<&Expr> = items.iter().collect();
        let depth = self.depth(&children)?;
        Ok(self.finish(Node::List(items), start, depth))
    }

    fn expression(&mut self) -> Result<Expr, ExprError> {
        self.enter()?;
        let result = self.conditional();
        self.leave();
        result
    }

    fn conditional(&mut self) -> Result<Expr, ExprError> {
        let start = self.start();
        if self.at_keyword("lambda") {
            return Err(self.unexpected("a value (lambdas are not supported)"));
        }
        let then = self.or_test()?;
        if !self.at_keyword("if") {
            return Ok(then);
        }
        self.position += 1;
        let condition = self.or_test()?;
        if !self.at_keyword("else") {
            return Err(self.unexpected("`else`"));
        }
        self.position += 1;
        let otherwise = self.expression()?;
        let children = [&then, &condition, &otherwise];
        let depth = self.depth(&children)?;
        let node = Node::Conditional {
            condition: Box::new(condition),
            then: Box::new(then),
            otherwise: Box::new(otherwise),
        };
        Ok(self.finish(node, start, depth))
    }

    fn or_test(&mut self) -> Result<Expr, ExprError> {
        let start = self.start();
        let mut left = self.and_test()?;
        while self.at_keyword("or") {
            self.position += 1;
            let right = self.and_test()?;
            let depth = self.depth(&[&left, &right])?;
            left = self.finish(Node::Or(Box::new(left), Box::new(right)), start, depth);
        }
        Ok(left)
    }

    fn and_test(&mut self) -> Result<Expr, ExprError> {
        let start = self.start();
        let mut left = self.not_test()?;
        while self.at_keyword("and") {
            self.position += 1;
            let right = self.not_test()?;
            let depth = self.depth(&[&left, &right])?;
            left = self.finish(Node::And(Box::new(left), Box::new(right)), start, depth);
        }
        Ok(left)
    }

    fn not_test(&mut self) -> Result<Expr, ExprError> {
        if !self.at_keyword("not") {
            return self.comparison();
        }
        let start = self.start();
        self.position += 1;
        self.enter()?;
        let operand = self.not_test();
        self.leave();
        let operand = operand?;
        let depth = self.depth(&[&operand])?;
        Ok(self.finish(
            Node::Unary(UnaryOperator::Not, Box::new(operand)),
            start,
            depth,
        ))
    }

    fn compare_operator(&mut self) -> Option<CompareOperator> {
        let operator = match self.peek_text() {
            "<" => CompareOperator::Less,
            "<=" => CompareOperator::LessEqual,
            ">" => CompareOperator::Greater,
            ">=" => CompareOperator::GreaterEqual,
            "==" => CompareOperator::Equal,
            "!=" => CompareOperator::NotEqual,
            "in" if self.at_keyword("in") => CompareOperator::In,
            "not" if self.at_keyword("not") && self.next_is_keyword("in") => {
                self.position += 1;
                CompareOperator::NotIn
            }
            "is" if self.at_keyword("is") => {
                if self.next_is_keyword("not") {
                    self.position += 1;
                    CompareOperator::IsNot
                } else {
                    CompareOperator::Is
                }
            }
            _ => return None,
        };
        self.position += 1;
        Some(operator)
    }

    fn comparison(&mut self) -> Result<Expr, ExprError> {
        let start = self.start();
        let first = self.arithmetic()?;
        let mut rest = Vec::new();
        while let Some(operator) = self.compare_operator() {
            rest.push((operator, self.arithmetic()?));
        }
        if rest.is_empty() {
            return Ok(first);
        }
        let mut children: Vec<&Expr> = rest.iter().map(|(_, expression)| expression).collect();
        children.push(&first);
        let depth = self.depth(&children)?;
        Ok(self.finish(Node::Compare(Box::new(first), rest), start, depth))
    }

    fn binary_chain(
        &mut self,
        operand: fn(&mut Self) -> Result<Expr, ExprError>,
        operator_of: fn(&str) -> Option<BinaryOperator>,
    ) -> Result<Expr, ExprError> {
        let start = self.start();
        let mut left = operand(self)?;
        while let Some(operator) = self
            .peek()
            .filter(|token| token.kind == TokenKind::Operator)
            .and_then(|token| operator_of(token.text(self.source)))
        {
            self.position += 1;
            let right = operand(self)?;
            let depth = self.depth(&[&left, &right])?;
            left = self.finish(
                Node::Binary(operator, Box::new(left), Box::new(right)),
                start,
                depth,
            );
        }
        Ok(left)
    }

    fn arithmetic(&mut self) -> Result<Expr, ExprError> {
        self.binary_chain(Self::term, |text| match text {
            "+" => Some(BinaryOperator::Add),
            "-" => Some(BinaryOperator::Subtract),
            _ => None,
        })
    }

    fn term(&mut self) -> Result<Expr, ExprError> {
        self.binary_chain(Self::factor, |text| match text {
            "*" => Some(BinaryOperator::Multiply),
            "/" => Some(BinaryOperator::Divide),
            "//" => Some(BinaryOperator::FloorDivide),
            "%" => Some(BinaryOperator::Modulo),
            _ => None,
        })
    }

    fn factor(&mut self) -> Result<Expr, ExprError> {
        let operator = match self.peek() {
            Some(token) if token.kind == TokenKind::Operator => match token.text(self.source) {
                "-" => Some(UnaryOperator::Negate),
                "+" => Some(UnaryOperator::Plus),
                "~" => Some(UnaryOperator::Invert),
                _ => None,
            },
            _ => None,
        };
        let Some(operator) = operator else {
            return self.power();
        };
        let start = self.start();
        self.position += 1;
        self.enter()?;
        let operand = self.factor();
        self.leave();
        let operand = operand?;
        let depth = self.depth(&[&operand])?;
        Ok(self.finish(Node::Unary(operator, Box::new(operand)), start, depth))
    }

    /// `a ** b` binds tighter than unary minus on its left and is right-associative.
    fn power(&mut self) -> Result<Expr, ExprError> {
        let start = self.start();
        let base = self.primary()?;
        if !self.at_operator("**") {
            return Ok(base);
        }
        self.position += 1;
        self.enter()?;
        let exponent = self.factor();
        self.leave();
        let exponent = exponent?;
        let depth = self.depth(&[&base, &exponent])?;
        let node = Node::Binary(BinaryOperator::Power, Box::new(base), Box::new(exponent));
        Ok(self.finish(node, start, depth))
    }

    fn primary(&mut self) -> Result<Expr, ExprError> {
        let start = self.start();
        let mut value = self.atom()?;
        loop {
            if self.at_operator("[") {
                self.position += 1;
                let index = self.expression()?;
                if self.at_operator(":") {
                    return Err(self.unexpected("`]` (slices are not supported)"));
                }
                self.expect_operator("]")?;
                let depth = self.depth(&[&value, &index])?;
                value = self.finish(Node::Index(Box::new(value), Box::new(index)), start, depth);
            } else if self.at_operator("(") {
                return Err(self.unexpected(&format!(
                    "an operator (only {} can be called)",
                    ALLOWED_FUNCTIONS.join(", ")
                )));
            } else if self.at_operator(".") {
                return Err(self.unexpected("an operator (attribute access is not supported)"));
            } else {
                return Ok(value);
            }
        }
    }

    fn atom(&mut self) -> Result<Expr, ExprError> {
        let start = self.start();
        let Some(token) = self.peek() else {
            return Err(self.unexpected("a value (a number, string, name or `(`)"));
        };
        match token.kind {
            TokenKind::Number => {
                self.position += 1;
                let value =
                    parse_number(token.text(self.source)).ok_or_else(|| ExprError::Parse {
                        column: token.column,
                        expected: "a number such as 42, 0x2A, 1_000 or 5e-4".to_string(),
                        found: format!("`{}`", token.text(self.source)),
                    })?;
                self.leaf(Node::Literal(value), start)
            }
            TokenKind::String => {
                let mut text = String::new();
                while let Some(token) = self.peek().filter(|t| t.kind == TokenKind::String) {
                    text.push_str(&self.string_value(token)?);
                    self.position += 1;
                }
                self.leaf(Node::Literal(Value::Str(text)), start)
            }
            TokenKind::Name => self.name_atom(token),
            TokenKind::Operator => match token.text(self.source) {
                "(" => self.parenthesized(start),
                "[" => {
                    self.position += 1;
                    let items = self.items("]")?;
                    let children: Vec<&Expr> = items.iter().collect();
                    let depth = self.depth(&children)?;
                    Ok(self.finish(Node::List(items), start, depth))
                }
                "{" => Err(self.unexpected("a value (dicts and sets are not supported)")),
                _ => Err(self.unexpected("a value (a number, string, name or `(`)")),
            },
        }
    }

    fn parenthesized(&mut self, start: usize) -> Result<Expr, ExprError> {
        self.position += 1;
        if self.at_operator(")") {
            self.position += 1;
            return self.leaf(Node::List(Vec::new()), start);
        }
        self.enter()?;
        let inner = self.expression_list();
        self.leave();
        let inner = inner?;
        self.expect_operator(")")?;
        Ok(Expr {
            start,
            end: self.end_of_previous(),
            ..inner
        })
    }

    /// Comma-separated expressions up to `closer`, which is consumed.
    fn items(&mut self, closer: &str) -> Result<Vec<Expr>, ExprError> {
        self.enter()?;
        let mut items = Vec::new();
        let result = loop {
            if self.at_operator(closer) {
                self.position += 1;
                break Ok(());
            }
            match self.expression() {
                Ok(item) => items.push(item),
                Err(error) => break Err(error),
            }
            if self.at_operator(",") {
                self.position += 1;
            } else if !self.at_operator(closer) {
                break Err(self.unexpected(&format!("`,` or `{closer}`")));
            }
        };
        self.leave();
        result.map(|()| items)
    }

    fn name_atom(&mut self, token: &'a Token) -> Result<Expr, ExprError> {
        let start = token.start;
        let word = token.text(self.source);
        let literal = match word {
            "True" => Some(Value::Bool(true)),
            "False" => Some(Value::Bool(false)),
            "None" => Some(Value::None),
            _ => None,
        };
        if let Some(value) = literal {
            self.position += 1;
            return self.leaf(Node::Literal(value), start);
        }
        if KEYWORDS.contains(&word) {
            return Err(self.unexpected("a value (a number, string, name or `(`)"));
        }
        self.position += 1;
        let mut name = word.to_string();
        // `GPTConfig.n_layer` reads a dataclass field: a dotted name, not attribute access.
        while self.at_operator(".")
            && self
                .tokens
                .get(self.position + 1)
                .is_some_and(|t| t.kind == TokenKind::Name)
        {
            name.push('.');
            name.push_str(
                self.tokens
                    .get(self.position + 1)
                    .map_or("", |t| t.text(self.source)),
            );
            self.position += 2;
        }
        if !self.at_operator("(") {
            return self.leaf(Node::Name(name), start);
        }
        if !ALLOWED_FUNCTIONS.contains(&name.as_str()) {
            return Err(ExprError::Parse {
                column: token.column,
                expected: format!("a call of {} only", ALLOWED_FUNCTIONS.join(", ")),
                found: format!("a call of `{name}`"),
            });
        }
        self.position += 1;
        let arguments = self.items(")")?;
        let children: Vec<&Expr> = arguments.iter().collect();
        let depth = self.depth(&children)?;
        Ok(self.finish(Node::Call(name, arguments), start, depth))
    }

    fn string_value(&self, token: &Token) -> Result<String, ExprError> {
        let text = token.text(self.source);
        let decoded = if token.unterminated {
            Err("a string with its closing quote")
        } else {
            decode_string(text)
        };
        decoded.map_err(|expected| ExprError::Parse {
            column: token.column,
            expected: expected.to_string(),
            found: format!("`{}`", text.chars().take(40).collect::<String>()),
        })
    }
}

fn describe_token(token: &Token, source: &str) -> String {
    let text: String = token.text(source).chars().take(40).collect();
    match token.kind {
        TokenKind::Name if KEYWORDS.contains(&text.as_str()) => format!("keyword `{text}`"),
        _ => format!("`{text}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::expr::Expression;
    use super::*;

    fn parse_error(text: &str) -> (usize, String, String) {
        match Expression::parse(text) {
            Err(ExprError::Parse {
                column,
                expected,
                found,
            }) => (column, expected, found),
            other => panic!("expected a parse error for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn parse_errors_name_the_column_and_what_was_expected() {
        let (column, expected, found) = parse_error("ROTARY_DIM == SEQ_LEN //");
        assert_eq!(column, 25);
        assert!(expected.starts_with("a value"), "{expected}");
        assert_eq!(found, "the end of the expression");
        let (column, _, found) = parse_error("A == (B + 1");
        assert_eq!((column, found.as_str()), (12, "the end of the expression"));
        let (column, expected, found) = parse_error("open('x')");
        assert_eq!(column, 1);
        assert!(expected.contains("min, max, abs, len, int, float, round"));
        assert_eq!(found, "a call of `open`");
        let (column, expected, _) = parse_error("'a'.upper()");
        assert_eq!(column, 4);
        assert!(expected.contains("attribute access"));
        let (column, _, found) = parse_error("A B");
        assert_eq!((column, found.as_str()), (3, "`B`"));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowing() {
        let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(matches!(
            Expression::parse(&deep),
            Err(ExprError::Parse { .. })
        ));
        let long_chain = vec!["1"; 5_000].join(" + ");
        assert!(matches!(
            Expression::parse(&long_chain),
            Err(ExprError::Parse { .. })
        ));
        let minus_chain = format!("{}1", "-".repeat(5_000));
        assert!(matches!(
            Expression::parse(&minus_chain),
            Err(ExprError::Parse { .. })
        ));
        assert!(Expression::parse(&vec!["1"; 150].join(" + ")).is_ok());
    }
}
