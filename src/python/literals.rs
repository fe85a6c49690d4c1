//! Python literal text to values: numbers (`1_000`, `0x1F`, `5e-4`) and strings (quotes,
//! prefixes, escapes).

use super::value::Value;

/// The value of a complete string literal token; the error says what was expected instead.
pub(crate) fn decode_string(text: &str) -> Result<String, &'static str> {
    let prefix_length = text.find(['\'', '"']).unwrap_or(0);
    let prefix = text.get(..prefix_length).unwrap_or("").to_ascii_lowercase();
    if prefix.contains('f') {
        return Err("a plain string (f-strings are not supported)");
    }
    let body = text.get(prefix_length..).unwrap_or("");
    let quote_length = if body.starts_with("\"\"\"") || body.starts_with("'''") {
        3
    } else {
        1
    };
    let inner = body
        .get(quote_length..body.len().saturating_sub(quote_length))
        .unwrap_or("");
    if prefix.contains('r') {
        Ok(inner.to_string())
    } else {
        Ok(unescape(inner))
    }
}

/// A Python number literal; `None` for complex numbers and malformed text.
pub(crate) fn parse_number(text: &str) -> Option<Value> {
    if text.starts_with('_') || text.ends_with('_') || text.contains("__") {
        return None;
    }
    let digits: String = text.chars().filter(|c| *c != '_').collect();
    let lower = digits.to_ascii_lowercase();
    let radix = match lower.get(..2) {
        Some("0x") => 16,
        Some("0o") => 8,
        Some("0b") => 2,
        _ => 10,
    };
    if radix != 10 {
        return i64::from_str_radix(lower.get(2..)?, radix)
            .ok()
            .map(Value::Int);
    }
    if lower.chars().all(|c| c.is_ascii_digit()) {
        return lower.parse::<i64>().ok().map(Value::Int);
    }
    let well_formed = lower
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '+' | '-'));
    if !well_formed {
        return None;
    }
    lower
        .parse::<f64>()
        .ok()
        .filter(|float| float.is_finite())
        .map(Value::Float)
}

fn unescape(text: &str) -> String {
    let mut result = String::with_capacity(text.len());
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        if character != '\\' {
            result.push(character);
            continue;
        }
        match characters.next() {
            Some('n') => result.push('\n'),
            Some('t') => result.push('\t'),
            Some('r') => result.push('\r'),
            Some('0') => result.push('\0'),
            Some('\\') => result.push('\\'),
            Some('\'') => result.push('\''),
            Some('"') => result.push('"'),
            Some('\n') => {}
            Some('x') => {
                let hex: String = characters.by_ref().take(2).collect();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(decoded) => result.push(decoded),
                    None => {
                        result.push_str("\\x");
                        result.push_str(&hex);
                    }
                }
            }
            Some(other) => {
                result.push('\\');
                result.push(other);
            }
            None => result.push('\\'),
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_literals_follow_python() {
        assert_eq!(parse_number("1_000"), Some(Value::Int(1000)));
        assert_eq!(parse_number("0x1F"), Some(Value::Int(31)));
        assert_eq!(parse_number("0b101"), Some(Value::Int(5)));
        assert_eq!(parse_number("5e-4"), Some(Value::Float(5e-4)));
        assert_eq!(parse_number(".5"), Some(Value::Float(0.5)));
        assert_eq!(parse_number("1."), Some(Value::Float(1.0)));
        assert_eq!(parse_number("2j"), None);
        assert_eq!(parse_number("1__0"), None);
        assert_eq!(parse_number("99999999999999999999"), None);
    }

    #[test]
    fn strings_decode_prefixes_and_escapes() {
        assert_eq!(decode_string("'a\\tb'"), Ok("a\tb".to_string()));
        assert_eq!(decode_string("r'a\\tb'"), Ok("a\\tb".to_string()));
        assert_eq!(decode_string("\"\"\"x\ny\"\"\""), Ok("x\ny".to_string()));
        assert_eq!(decode_string("'\\x41\\q'"), Ok("A\\q".to_string()));
        assert!(decode_string("f'{x}'").is_err());
    }
}
