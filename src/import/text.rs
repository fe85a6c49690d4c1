//! Bytes to lines to cells: decoding, line endings, the delimiter, and CSV-style quoting.
//!
//! Real results.tsv files mix CRLF and LF, quote fields with doubled quotes even when tab
//! separated, and are sometimes plain CSV; everything here is lenient and never fails.

/// One physical line of the file, with its 1-based line number and no line terminator.
pub(super) struct Line {
    pub number: usize,
    pub text: String,
}

/// How the cells of a line are separated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Delimiter {
    Tab,
    Comma,
    /// A markdown table: `| a | b |`.
    Pipe,
    /// Runs of spaces; the last column takes the rest of the line.
    Whitespace,
}

/// Decodes the file: UTF-8 (lossy, BOM stripped) or UTF-16 with a byte-order mark.
pub(super) fn decode(bytes: &[u8]) -> String {
    match bytes {
        [0xFF, 0xFE, rest @ ..] => decode_utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => decode_utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => String::from_utf8_lossy(rest).into_owned(),
        _ => String::from_utf8_lossy(bytes).into_owned(),
    }
}

fn decode_utf16(bytes: &[u8], to_unit: fn([u8; 2]) -> u16) -> String {
    let units = bytes
        .chunks_exact(2)
        .map(|pair| to_unit([pair[0], pair[1]]));
    char::decode_utf16(units)
        .map(|unit| unit.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect()
}

/// Splits into lines on LF (dropping a CR before it); a file with only CR endings (classic Mac)
/// is split on CR instead. A final empty line after the last terminator is not returned.
pub(super) fn split_lines(text: &str) -> Vec<Line> {
    let separator = if text.contains('\n') { '\n' } else { '\r' };
    let mut lines: Vec<Line> = text
        .split(separator)
        .enumerate()
        .map(|(index, raw)| Line {
            number: index + 1,
            text: raw.strip_suffix('\r').unwrap_or(raw).to_string(),
        })
        .collect();
    if lines.last().is_some_and(|line| line.text.is_empty()) {
        lines.pop();
    }
    lines
}

/// A line that carries nothing: blank, or a `#` / `//` comment.
pub(super) fn is_comment_or_blank(text: &str) -> bool {
    let trimmed = text.trim();
    trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("//")
}

/// A divider line such as `=====` or `|---|---|`: punctuation and spaces only.
pub(super) fn is_divider(text: &str) -> bool {
    let trimmed = text.trim();
    !trimmed.is_empty() && !trimmed.chars().any(char::is_alphanumeric)
}

/// Chooses the delimiter from the first lines that carry content. Tabs win (the format is TSV);
/// a markdown table is recognised by its leading pipe; then commas; then runs of spaces.
pub(super) fn detect_delimiter<'a>(content: impl Iterator<Item = &'a str>) -> Delimiter {
    let sample: Vec<&str> = content.take(20).collect();
    if sample.iter().any(|line| line.contains('\t')) {
        return Delimiter::Tab;
    }
    let pipe_lines = sample
        .iter()
        .filter(|line| line.trim_start().starts_with('|'))
        .count();
    if pipe_lines * 2 > sample.len() {
        return Delimiter::Pipe;
    }
    let comma_lines = sample.iter().filter(|line| line.contains(',')).count();
    if comma_lines * 2 > sample.len() {
        return Delimiter::Comma;
    }
    Delimiter::Whitespace
}

/// Splits one line into cells. `max_cells` bounds a whitespace split so that a free-text last
/// column keeps its spaces.
pub(super) fn split_cells(text: &str, delimiter: Delimiter, max_cells: usize) -> Vec<String> {
    match delimiter {
        Delimiter::Tab => split_quoted(text, '\t'),
        Delimiter::Comma => split_quoted(text, ','),
        Delimiter::Pipe => {
            let trimmed = text.trim();
            let inner = trimmed.strip_prefix('|').unwrap_or(trimmed);
            let inner = inner.strip_suffix('|').unwrap_or(inner);
            inner
                .split('|')
                .map(|cell| cell.trim().to_string())
                .collect()
        }
        Delimiter::Whitespace => {
            let limit = max_cells.max(1);
            let mut cells = Vec::new();
            let mut rest = text.trim();
            while !rest.is_empty() {
                if cells.len() + 1 == limit {
                    cells.push(rest.to_string());
                    break;
                }
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                let (cell, tail) = rest.split_at(end);
                cells.push(cell.to_string());
                rest = tail.trim_start();
            }
            cells
        }
    }
}

/// Splits on `separator`, honouring fields that open with `"` (a doubled quote inside is one
/// quote). An unterminated quote takes the rest of the line, quote stripped.
fn split_quoted(text: &str, separator: char) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut in_quotes = false;
    // True while the current cell holds only spaces, so a `"` here opens a quoted field.
    let mut at_cell_start = true;
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        if in_quotes {
            if character != '"' {
                cell.push(character);
            } else if characters.peek() == Some(&'"') {
                characters.next();
                cell.push('"');
            } else {
                in_quotes = false;
            }
        } else if character == separator {
            cells.push(std::mem::take(&mut cell));
            at_cell_start = true;
        } else if character == '"' && at_cell_start {
            cell.clear();
            in_quotes = true;
            at_cell_start = false;
        } else {
            at_cell_start &= character == ' ';
            cell.push(character);
        }
    }
    cells.push(cell);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_cell_with_doubled_quotes_and_separator_inside() {
        let cells = split_cells("abc\t\"say \"\"hi\"\"\tthere\"\tlast", Delimiter::Tab, 0);
        assert_eq!(cells, vec!["abc", "say \"hi\"\tthere", "last"]);
    }

    #[test]
    fn quoted_cell_at_end_of_line() {
        let cells = split_cells("a,\"x, \"\"y\"\"\"", Delimiter::Comma, 0);
        assert_eq!(cells, vec!["a", "x, \"y\""]);
    }

    #[test]
    fn empty_cells_are_kept() {
        assert_eq!(
            split_cells("a\t\t\tb\t", Delimiter::Tab, 0),
            vec!["a", "", "", "b", ""]
        );
        assert_eq!(split_cells("\"q\"\t", Delimiter::Tab, 0), vec!["q", ""]);
    }

    #[test]
    fn unterminated_quote_takes_rest_of_line() {
        assert_eq!(
            split_cells("a\t\"open\tend", Delimiter::Tab, 0),
            vec!["a", "open\tend"]
        );
    }

    #[test]
    fn crlf_and_lf_mixed_give_clean_lines_with_numbers() {
        let lines = split_lines("h1\th2\r\na\tb\nc\td\r\n");
        let texts: Vec<(usize, &str)> = lines
            .iter()
            .map(|line| (line.number, line.text.as_str()))
            .collect();
        assert_eq!(texts, vec![(1, "h1\th2"), (2, "a\tb"), (3, "c\td")]);
    }

    #[test]
    fn utf16_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for unit in "a\tb".encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&bytes), "a\tb");
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter(["a\tb,c"].into_iter()), Delimiter::Tab);
        assert_eq!(
            detect_delimiter(["a,b,c", "1,2,3"].into_iter()),
            Delimiter::Comma
        );
        assert_eq!(
            detect_delimiter(["| a | b |", "|---|---|"].into_iter()),
            Delimiter::Pipe
        );
        assert_eq!(
            detect_delimiter(["a  b c"].into_iter()),
            Delimiter::Whitespace
        );
    }

    #[test]
    fn markdown_and_whitespace_cells() {
        assert_eq!(
            split_cells("| a | b c |", Delimiter::Pipe, 0),
            vec!["a", "b c"]
        );
        assert_eq!(
            split_cells("abc  1.5 keep  some words here", Delimiter::Whitespace, 4),
            vec!["abc", "1.5", "keep", "some words here"]
        );
    }
}
