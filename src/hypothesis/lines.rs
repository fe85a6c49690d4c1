//! Byte offsets to 1-based line numbers and back, so every problem and every edit can name a
//! line of docs/hypotheses.md while the parser works on pulldown-cmark's byte ranges.

/// The start offset of every line of a text. A text that ends with `\n` has an empty last line.
#[derive(Debug, Clone)]
pub(crate) struct LineIndex {
    starts: Vec<usize>,
    length: usize,
}

impl LineIndex {
    pub(crate) fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(offset, _)| offset + 1));
        LineIndex {
            starts,
            length: text.len(),
        }
    }

    pub(crate) fn line_count(&self) -> usize {
        self.starts.len()
    }

    /// The 1-based line that holds byte `offset` (an offset past the end maps to the last line).
    pub(crate) fn line_of(&self, offset: usize) -> usize {
        self.starts.partition_point(|&start| start <= offset).max(1)
    }

    /// The text of 1-based `line` without its `\n` or `\r\n` terminator.
    pub(crate) fn line_text<'text>(&self, text: &'text str, line: usize) -> &'text str {
        let (start, end) = self.bounds(line);
        let content = text.get(start..end).unwrap_or("");
        let content = content.strip_suffix('\n').unwrap_or(content);
        content.strip_suffix('\r').unwrap_or(content)
    }

    /// Byte offset just past 1-based `line`, terminator included.
    pub(crate) fn end_of(&self, line: usize) -> usize {
        self.bounds(line).1
    }

    fn bounds(&self, line: usize) -> (usize, usize) {
        let index = line.saturating_sub(1).min(self.starts.len() - 1);
        let start = self.starts[index];
        let end = self.starts.get(index + 1).copied().unwrap_or(self.length);
        (start, end)
    }
}

/// The line terminator a file already uses (`\r\n` when its first line ends so), for edits
/// that must not mix styles.
pub(crate) fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(position) if position > 0 && text.as_bytes()[position - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_offsets_to_lines_and_strips_crlf() {
        let text = "a\r\nbb\n\nc";
        let index = LineIndex::new(text);
        assert_eq!(index.line_count(), 4);
        assert_eq!(index.line_of(0), 1);
        assert_eq!(index.line_of(3), 2);
        assert_eq!(index.line_of(7), 4);
        assert_eq!(index.line_of(100), 4);
        assert_eq!(index.line_text(text, 1), "a");
        assert_eq!(index.line_text(text, 2), "bb");
        assert_eq!(index.line_text(text, 3), "");
        assert_eq!(index.line_text(text, 4), "c");
        assert_eq!(index.end_of(1), 3);
        assert_eq!(index.end_of(4), text.len());
        assert_eq!(newline_of(text), "\r\n");
        assert_eq!(newline_of("x\ny\r\n"), "\n");
    }
}
