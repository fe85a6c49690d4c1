//! `{placeholder}` templates of the pattern database's `cause` and `fix` texts: parsed once at
//! load (so an unknown placeholder is a load error, not a surprise in a diagnosis), rendered per
//! diagnosis.

/// A parsed template. A `{` that does not open `{name}` (a name of letters, digits and `_`,
/// starting with a letter or `_`) stays literal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Template {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Variable(String),
}

impl Template {
    pub(super) fn parse(text: &str) -> Self {
        let mut segments = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            literal.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            match after.find('}').map(|close| &after[..close]) {
                Some(name) if is_placeholder_name(name) => {
                    if !literal.is_empty() {
                        segments.push(Segment::Literal(std::mem::take(&mut literal)));
                    }
                    segments.push(Segment::Variable(name.to_string()));
                    rest = &after[name.len() + 1..];
                }
                _ => {
                    literal.push('{');
                    rest = after;
                }
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            segments.push(Segment::Literal(literal));
        }
        Self { segments }
    }

    pub(super) fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Variable(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// Renders with `lookup`; the result is always one line (diagnoses are read line by line).
    pub(super) fn render(&self, mut lookup: impl FnMut(&str) -> String) -> String {
        let mut rendered = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => rendered.push_str(text),
                Segment::Variable(name) => rendered.push_str(&lookup(name)),
            }
        }
        one_line(&rendered)
    }
}

fn is_placeholder_name(name: &str) -> bool {
    let mut characters = name.chars();
    characters
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && characters.all(|character| character.is_ascii_alphanumeric() || character == '_')
}

/// Collapses newlines and runs of whitespace into single spaces.
pub(super) fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_render_and_other_braces_stay_literal() {
        let template = Template::parse("halve {knob} in {x{ and {1} and {}");
        assert_eq!(template.variables().collect::<Vec<_>>(), vec!["knob"]);
        let rendered = template.render(|name| format!("<{name}>"));
        assert_eq!(rendered, "halve <knob> in {x{ and {1} and {}");
    }

    #[test]
    fn rendering_is_one_line() {
        let template = Template::parse("cause: {match}");
        assert_eq!(template.render(|_| "a\n  b".to_string()), "cause: a b");
    }
}
