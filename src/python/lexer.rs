//! Python tokenizer: tokens and logical lines of source text, so strings and comments never
//! look like code. It accepts any input: bad text becomes odd tokens, never a panic.

use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenKind {
    Name,
    Number,
    String,
    Operator,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokenKind,
    /// Byte offsets into the tokenized text.
    pub start: usize,
    pub end: usize,
    /// 1-based physical line of the first and of the last character.
    pub line: usize,
    pub end_line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// A string whose closing quote is missing.
    pub unterminated: bool,
}

impl Token {
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        source.get(self.start..self.end).unwrap_or("")
    }

    pub fn is_operator(&self, source: &str, operator: &str) -> bool {
        self.kind == TokenKind::Operator && self.text(source) == operator
    }

    pub fn is_name(&self, source: &str, name: &str) -> bool {
        self.kind == TokenKind::Name && self.text(source) == name
    }
}

/// One Python statement line: physical lines joined by brackets, backslashes or strings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogicalLine {
    pub tokens: Range<usize>,
    /// Width of the leading whitespace of its first physical line (tabs to multiples of 8).
    pub indent: usize,
    pub start_line: usize,
    pub end_line: usize,
}

#[derive(Debug, Default)]
pub(crate) struct Tokenized {
    pub tokens: Vec<Token>,
    pub lines: Vec<LogicalLine>,
}

impl Tokenized {
    pub fn line_tokens(&self, line: &LogicalLine) -> &[Token] {
        self.tokens.get(line.tokens.clone()).unwrap_or(&[])
    }
}

/// Python's reserved words.
pub(crate) const KEYWORDS: [&str; 35] = [
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

const THREE_CHARACTER_OPERATORS: [&str; 5] = ["**=", "//=", ">>=", "<<=", "..."];
const TWO_CHARACTER_OPERATORS: [&str; 19] = [
    "**", "//", "==", "!=", "<=", ">=", "->", "+=", "-=", "*=", "/=", "%=", "&=", "|=", "^=", "@=",
    ":=", "<<", ">>",
];

/// Tokenizes a whole source file into tokens and logical lines.
pub(crate) fn tokenize(source: &str) -> Tokenized {
    Lexer::new(source, false).run()
}

/// Tokenizes one expression; newlines are plain whitespace there.
pub(crate) fn tokenize_expression(text: &str) -> Vec<Token> {
    Lexer::new(text, true).run().tokens
}

struct Lexer<'a> {
    source: &'a str,
    position: usize,
    line: usize,
    column: usize,
    depth: usize,
    expression_mode: bool,
    line_indent: usize,
    logical_start: Option<usize>,
    result: Tokenized,
}

impl<'a> Lexer<'a> {
    fn new(source: &'a str, expression_mode: bool) -> Self {
        Lexer {
            source,
            // A byte-order mark is not code.
            position: if source.starts_with('\u{feff}') { 3 } else { 0 },
            line: 1,
            column: 1,
            depth: 0,
            expression_mode,
            line_indent: 0,
            logical_start: None,
            result: Tokenized::default(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.source
            .get(self.position..)
            .and_then(|rest| rest.chars().next())
    }

    fn peek_at(&self, skip: usize) -> Option<char> {
        self.source
            .get(self.position..)
            .and_then(|rest| rest.chars().nth(skip))
    }

    fn rest(&self) -> &'a str {
        self.source.get(self.position..).unwrap_or("")
    }

    fn advance(&mut self) -> Option<char> {
        let character = self.peek()?;
        self.position += character.len_utf8();
        if character == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(character)
    }

    fn run(mut self) -> Tokenized {
        self.measure_indent();
        while let Some(character) = self.peek() {
            match character {
                '\n' => {
                    self.advance();
                    if self.depth == 0 {
                        self.end_logical_line();
                    }
                    self.measure_indent();
                }
                '\r' if self.peek_at(1) != Some('\n') => {
                    // A lone carriage return ends a line in Python too.
                    self.position += 1;
                    self.line += 1;
                    self.column = 1;
                    if self.depth == 0 {
                        self.end_logical_line();
                    }
                    self.measure_indent();
                }
                ' ' | '\t' | '\x0c' | '\r' => {
                    self.advance();
                }
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n' && c != '\r') {
                        self.advance();
                    }
                }
                '\\' if matches!(self.peek_at(1), Some('\n' | '\r')) => {
                    self.advance();
                    if self.peek() == Some('\r') {
                        self.advance();
                    }
                    if self.peek() == Some('\n') {
                        self.advance();
                    }
                }
                ';' if self.depth == 0 && !self.expression_mode => {
                    self.advance();
                    self.end_logical_line();
                }
                '"' | '\'' => self.string(self.position, self.line, self.column),
                c if c.is_ascii_digit()
                    || (c == '.' && self.peek_at(1).is_some_and(|n| n.is_ascii_digit())) =>
                {
                    self.number()
                }
                c if c == '_' || c.is_alphabetic() => self.name(),
                _ => self.operator(),
            }
        }
        self.end_logical_line();
        self.result
    }

    fn measure_indent(&mut self) {
        if self.depth > 0 || self.expression_mode {
            return;
        }
        let mut width = 0;
        for character in self.rest().chars() {
            match character {
                ' ' => width += 1,
                '\t' => width = (width / 8 + 1) * 8,
                '\x0c' => width = 0,
                _ => break,
            }
        }
        self.line_indent = width;
    }

    fn push(&mut self, kind: TokenKind, start: usize, line: usize, column: usize) {
        if self.logical_start.is_none() {
            self.logical_start = Some(self.result.tokens.len());
        }
        let unterminated = false;
        self.result.tokens.push(Token {
            kind,
            start,
            end: self.position,
            line,
            end_line: self.line,
            column,
            unterminated,
        });
    }

    fn end_logical_line(&mut self) {
        let Some(first) = self.logical_start.take() else {
            return;
        };
        let tokens = &self.result.tokens;
        let (Some(first_token), Some(last_token)) = (tokens.get(first), tokens.last()) else {
            return;
        };
        let line = LogicalLine {
            tokens: first..tokens.len(),
            indent: self.line_indent,
            start_line: first_token.line,
            end_line: last_token.end_line,
        };
        self.result.lines.push(line);
    }

    fn name(&mut self) {
        let (start, line, column) = (self.position, self.line, self.column);
        while self.peek().is_some_and(|c| c == '_' || c.is_alphanumeric()) {
            self.advance();
        }
        let word = self.source.get(start..self.position).unwrap_or("");
        let is_prefix = word.len() <= 2
            && word
                .chars()
                .all(|c| matches!(c.to_ascii_lowercase(), 'r' | 'b' | 'u' | 'f'));
        if is_prefix && matches!(self.peek(), Some('"' | '\'')) {
            self.string(start, line, column);
        } else {
            self.push(TokenKind::Name, start, line, column);
        }
    }

    /// A string literal; the cursor is on its opening quote, `start` may include a prefix.
    fn string(&mut self, start: usize, line: usize, column: usize) {
        let Some(quote) = self.advance() else {
            return;
        };
        let triple = self.peek() == Some(quote) && self.peek_at(1) == Some(quote);
        if triple {
            self.advance();
            self.advance();
        }
        let mut terminated = false;
        while let Some(character) = self.peek() {
            if character == '\\' {
                self.advance();
                self.advance();
            } else if character == quote {
                self.advance();
                if !triple {
                    terminated = true;
                    break;
                }
                if self.peek() == Some(quote) && self.peek_at(1) == Some(quote) {
                    self.advance();
                    self.advance();
                    terminated = true;
                    break;
                }
            } else if !triple && (character == '\n' || character == '\r') {
                break;
            } else {
                self.advance();
            }
        }
        self.push(TokenKind::String, start, line, column);
        if let Some(token) = self.result.tokens.last_mut() {
            token.unterminated = !terminated;
        }
    }

    fn number(&mut self) {
        let (start, line, column) = (self.position, self.line, self.column);
        let mut previous = ' ';
        while let Some(character) = self.peek() {
            let exponent_sign = matches!(character, '+' | '-')
                && matches!(previous, 'e' | 'E')
                && !self
                    .source
                    .get(start..self.position)
                    .is_some_and(is_prefixed_integer);
            if character.is_alphanumeric() || character == '_' || character == '.' || exponent_sign
            {
                previous = character;
                self.advance();
            } else {
                break;
            }
        }
        self.push(TokenKind::Number, start, line, column);
    }

    fn operator(&mut self) {
        let (start, line, column) = (self.position, self.line, self.column);
        let rest = self.rest();
        let length = THREE_CHARACTER_OPERATORS
            .iter()
            .chain(TWO_CHARACTER_OPERATORS.iter())
            .find(|operator| rest.starts_with(**operator))
            .map_or(0, |operator| operator.len());
        if length > 0 {
            for _ in 0..length {
                self.advance();
            }
        } else if let Some(character) = self.advance() {
            match character {
                '(' | '[' | '{' => self.depth += 1,
                ')' | ']' | '}' => self.depth = self.depth.saturating_sub(1),
                _ => {}
            }
        }
        self.push(TokenKind::Operator, start, line, column);
    }
}

fn is_prefixed_integer(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    lower.starts_with("0x") || lower.starts_with("0o") || lower.starts_with("0b")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(source: &str) -> Vec<String> {
        tokenize(source)
            .tokens
            .iter()
            .map(|token| token.text(source).to_string())
            .collect()
    }

    #[test]
    fn splits_operators_numbers_and_strings() {
        assert_eq!(
            texts("x = 2**19 // 3 # note\ny = 5e-4"),
            ["x", "=", "2", "**", "19", "//", "3", "y", "=", "5e-4"]
        );
        assert_eq!(texts("a = 0x1F+1_000"), ["a", "=", "0x1F", "+", "1_000"]);
        assert_eq!(
            texts("s = r'a\\'b' + f\"{x}\""),
            ["s", "=", "r'a\\'b'", "+", "f\"{x}\""]
        );
    }

    #[test]
    fn logical_lines_join_brackets_and_backslashes() {
        let source = "A = (1,\n     2)\nB = 3 + \\\n  4\n\n    # comment\nC = 5; D = 6\n";
        let tokenized = tokenize(source);
        let spans: Vec<(usize, usize)> = tokenized
            .lines
            .iter()
            .map(|line| (line.start_line, line.end_line))
            .collect();
        assert_eq!(spans, [(1, 2), (3, 4), (7, 7), (7, 7)]);
    }

    #[test]
    fn triple_quoted_strings_span_lines_and_hide_code() {
        let source = "x = 1\n\"\"\"\ndef fake():\n\"\"\"\n\tdef real(): pass\n";
        let tokenized = tokenize(source);
        assert_eq!(tokenized.lines.len(), 3);
        assert_eq!(
            (tokenized.lines[1].start_line, tokenized.lines[1].end_line),
            (2, 4)
        );
        assert_eq!(tokenized.lines[2].indent, 8);
    }

    #[test]
    fn unterminated_strings_are_marked() {
        let tokenized = tokenize("x = 'abc\ny = 2");
        assert!(tokenized.tokens[2].unterminated);
        assert_eq!(tokenized.lines.len(), 2);
    }
}
