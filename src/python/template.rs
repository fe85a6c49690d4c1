//! Rule message templates: `{NAME}` and `{any expression}` insert values, `{line:NAME}` inserts
//! where NAME is set ("line 47 of train.py"), `{{` and `}}` are literal braces.

use super::expr::{ExprError, Expression};
use super::value::Value;

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Text(String),
    Value(Expression),
    Line(String),
}

/// A parsed message template; parse once when the rules load, render per check.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageTemplate {
    text: String,
    segments: Vec<Segment>,
}

/// Why a template does not parse, with the 1-based column in the template text.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TemplateError {
    pub column: usize,
    pub expected: String,
    pub found: String,
}

impl MessageTemplate {
    pub(crate) fn parse(text: &str) -> Result<MessageTemplate, TemplateError> {
        let characters: Vec<char> = text.chars().collect();
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut index = 0;
        while let Some(&character) = characters.get(index) {
            let next = characters.get(index + 1).copied();
            match (character, next) {
                ('{', Some('{')) | ('}', Some('}')) => {
                    literal.push(character);
                    index += 2;
                }
                ('}', _) => {
                    return Err(TemplateError {
                        column: index + 1,
                        expected: "`{` before it, or `}}` for a literal brace".to_string(),
                        found: "a lone `}`".to_string(),
                    });
                }
                ('{', _) => {
                    let Some(length) = characters[index + 1..].iter().position(|c| *c == '}')
                    else {
                        return Err(TemplateError {
                            column: index + 1,
                            expected: "a `}` closing this `{` (write `{{` for a literal brace)"
                                .to_string(),
                            found: "the end of the message".to_string(),
                        });
                    };
                    let inner: String = characters[index + 1..index + 1 + length].iter().collect();
                    if !literal.is_empty() {
                        segments.push(Segment::Text(std::mem::take(&mut literal)));
                    }
                    segments.push(placeholder(&inner, index + 2)?);
                    index += length + 2;
                }
                _ => {
                    literal.push(character);
                    index += 1;
                }
            }
        }
        if !literal.is_empty() {
            segments.push(Segment::Text(literal));
        }
        Ok(MessageTemplate {
            text: text.to_string(),
            segments,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Names the template reads, in order.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        for segment in &self.segments {
            let found = match segment {
                Segment::Text(_) => Vec::new(),
                Segment::Value(expression) => expression.names(),
                Segment::Line(name) => vec![name.clone()],
            };
            for name in found {
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        names
    }

    /// Fills the template; `locate` answers `{line:NAME}`.
    pub(crate) fn render(
        &self,
        lookup: &dyn Fn(&str) -> Option<Value>,
        locate: &dyn Fn(&str) -> Option<String>,
    ) -> Result<String, ExprError> {
        let mut rendered = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Text(text) => rendered.push_str(text),
                Segment::Value(expression) => {
                    rendered.push_str(&expression.evaluate(lookup)?.to_string())
                }
                Segment::Line(name) => rendered.push_str(
                    &locate(name).ok_or_else(|| ExprError::UnknownName { name: name.clone() })?,
                ),
            }
        }
        Ok(rendered)
    }
}

/// `{...}` contents; `column` is the 1-based column of its first character.
fn placeholder(inner: &str, column: usize) -> Result<Segment, TemplateError> {
    if let Some(name) = inner.trim_start().strip_prefix("line:") {
        let name = name.trim();
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c == '_' || c == '.' || c.is_alphanumeric())
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(TemplateError {
                column,
                expected: "a constant's name after `line:`, e.g. {line:ROTARY_DIM}".to_string(),
                found: format!("`{name}`"),
            });
        }
        return Ok(Segment::Line(name.to_string()));
    }
    match Expression::parse(inner) {
        Ok(expression) => Ok(Segment::Value(expression)),
        Err(ExprError::Parse {
            column: inner_column,
            expected,
            found,
        }) => Err(TemplateError {
            column: column + inner_column - 1,
            expected,
            found,
        }),
        Err(other) => Err(TemplateError {
            column,
            expected: "an expression".to_string(),
            found: other.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str) -> Result<String, ExprError> {
        let lookup = |name: &str| match name {
            "A" => Some(Value::Int(64)),
            "B" => Some(Value::Str("x".into())),
            _ => None,
        };
        let locate = |name: &str| (name == "A").then(|| "line 3 of train.py".to_string());
        MessageTemplate::parse(template)
            .unwrap()
            .render(&lookup, &locate)
    }

    #[test]
    fn renders_values_expressions_lines_and_braces() {
        assert_eq!(
            render("A is {A}, half {A // 2}; set on {line:A}").unwrap(),
            "A is 64, half 32; set on line 3 of train.py"
        );
        assert_eq!(render("{{literal}} {B}").unwrap(), "{literal} x");
        assert_eq!(
            render("{C}"),
            Err(ExprError::UnknownName { name: "C".into() })
        );
        assert_eq!(
            render("{line:B}"),
            Err(ExprError::UnknownName { name: "B".into() })
        );
    }

    #[test]
    fn bad_templates_name_the_column() {
        let error = MessageTemplate::parse("value {A +} here").unwrap_err();
        assert_eq!(error.column, 11);
        assert_eq!(error.found, "the end of the expression");
        assert_eq!(MessageTemplate::parse("oops {A").unwrap_err().column, 6);
        assert_eq!(MessageTemplate::parse("a } b").unwrap_err().column, 3);
        assert_eq!(MessageTemplate::parse("{line: 3x}").unwrap_err().column, 2);
    }
}
