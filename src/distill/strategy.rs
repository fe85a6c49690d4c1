//! docs/strategy.md: dfh owns only the text between its two markers; every byte outside them
//! belongs to the agent and the human and is written back exactly as it was read.

use sha2::{Digest, Sha256};

pub const START: &str = "<!-- dfh:auto:start -->";
pub const END: &str = "<!-- dfh:auto:end -->";

/// The agent's sections that a distillation asks to update, as the template names them.
pub const AGENT_SECTIONS: &[&str] = &["Current best", "Priorities", "Explored", "Observations"];

/// A strategy.md whose auto section cannot be found; the message says where and the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StrategyError {
    #[error("docs/strategy.md has no `{START}` / `{END}` markers, so dfh cannot tell its section from yours. Add these two lines where dfh may write (e.g. below the title), then run the command again:\n{START}\n{END}")]
    NoMarkers,
    #[error("docs/strategy.md:{line}: `{marker}` appears more than once; keep one pair of markers and delete the other")]
    Duplicate { marker: &'static str, line: usize },
    #[error("docs/strategy.md:{line}: `{missing}` is missing (its partner is on line {line}); add it back on a line of its own")]
    Unpaired { missing: &'static str, line: usize },
    #[error("docs/strategy.md:{line}: `{END}` comes before `{START}`; swap them")]
    Reversed { line: usize },
}

/// The byte range of the auto section's content: after the start marker, before the end one.
fn auto_range(text: &str) -> Result<std::ops::Range<usize>, StrategyError> {
    let line_at = |offset: usize| crate::config::line_of(text, offset);
    let find = |marker: &'static str| -> Result<Option<usize>, StrategyError> {
        let mut found = text.match_indices(marker).map(|(offset, _)| offset);
        let first = found.next();
        if let Some(second) = found.next() {
            return Err(StrategyError::Duplicate {
                marker,
                line: line_at(second),
            });
        }
        Ok(first)
    };
    match (find(START)?, find(END)?) {
        (None, None) => Err(StrategyError::NoMarkers),
        (Some(start), None) => Err(StrategyError::Unpaired {
            missing: END,
            line: line_at(start),
        }),
        (None, Some(end)) => Err(StrategyError::Unpaired {
            missing: START,
            line: line_at(end),
        }),
        (Some(start), Some(end)) if end < start => {
            Err(StrategyError::Reversed { line: line_at(end) })
        }
        (Some(start), Some(end)) => Ok(start + START.len()..end),
    }
}

/// The text with its auto section replaced by `auto`; every other byte unchanged.
pub fn rewrite(text: &str, auto: &str) -> Result<String, StrategyError> {
    let range = auto_range(text)?;
    let mut written = String::with_capacity(text.len() - range.len() + auto.len() + 2);
    written.push_str(&text[..range.start]);
    written.push('\n');
    written.push_str(auto.trim_end_matches('\n'));
    written.push('\n');
    written.push_str(&text[range.end..]);
    Ok(written)
}

/// The text outside the auto section: what belongs to the agent and the human.
pub fn outside(text: &str) -> Result<String, StrategyError> {
    let range = auto_range(text)?;
    Ok(format!("{}{}", &text[..range.start], &text[range.end..]))
}

/// SHA-256 of the text outside the auto section, to see whether the agent edited it.
pub fn agent_hash(text: &str) -> Result<String, StrategyError> {
    let digest = Sha256::digest(outside(text)?.as_bytes());
    Ok(digest.iter().map(|byte| format!("{byte:02x}")).collect())
}

/// One `## Heading` section outside the auto section, its comments removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// 1-based line of the heading.
    pub line: usize,
    /// The non-empty lines of its body, trimmed, with `<!-- -->` comments removed.
    pub lines: Vec<String>,
}

/// Finds the `## name` section (case-insensitive) outside the auto section.
pub fn section(text: &str, name: &str) -> Option<Section> {
    let auto = auto_range(text).ok();
    let mut offset = 0;
    let mut found: Option<(usize, String)> = None;
    for (index, line) in text.split_inclusive('\n').enumerate() {
        let inside_auto = auto
            .as_ref()
            .is_some_and(|range| offset >= range.start && offset < range.end);
        offset += line.len();
        if inside_auto {
            continue;
        }
        let trimmed = line.trim();
        let level = trimmed
            .chars()
            .take_while(|&character| character == '#')
            .count();
        let heading = (1..=6).contains(&level) && trimmed[level..].starts_with(' ');
        match &mut found {
            Some(_) if heading && level <= 2 => break,
            Some((_, body)) => body.push_str(line),
            None if heading && level == 2 && trimmed[level..].trim().eq_ignore_ascii_case(name) => {
                found = Some((index + 1, String::new()));
            }
            None => {}
        }
    }
    let (line, body) = found?;
    let lines = strip_comments(&body)
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_string)
        .collect();
    Some(Section { line, lines })
}

/// Removes `<!-- ... -->` comments, which may span lines; an unclosed one runs to the end.
fn strip_comments(text: &str) -> String {
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("<!--") {
        kept.push_str(&rest[..start]);
        match rest[start..].find("-->") {
            Some(end) => rest = &rest[start + end + 3..],
            None => rest = "",
        }
    }
    kept.push_str(rest);
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = include_str!("../../assets/templates/strategy.md");

    #[test]
    fn five_rewrites_keep_every_byte_outside_the_markers() {
        // CRLF line ends, trailing spaces, no final newline, unicode: all the agent's.
        let original = TEMPLATE
            .replace("## Priorities\n", "## Priorities\r\n1. énergie head  \r\n")
            .trim_end()
            .to_string()
            + "\n\ttail without newline";
        let before = original[..original.find(START).unwrap() + START.len()].to_string();
        let after = original[original.find(END).unwrap()..].to_string();
        let mut text = original.clone();
        for round in 0..5 {
            let auto = "x\n".repeat(round * 7) + "### Figures\n<!-- not a marker -->";
            text = rewrite(&text, &auto).unwrap();
            assert!(text.starts_with(&before), "round {round}");
            assert!(text.ends_with(&after), "round {round}");
            assert!(text.contains("### Figures"));
            assert_eq!(outside(&text).unwrap(), outside(&original).unwrap());
        }
        assert_eq!(agent_hash(&text).unwrap(), agent_hash(&original).unwrap());
    }

    #[test]
    fn broken_markers_are_named_with_their_line() {
        assert_eq!(rewrite("# S\n", "x"), Err(StrategyError::NoMarkers));
        let text = format!("# S\n{START}\n{END}\n{START}\n");
        assert_eq!(
            rewrite(&text, "x"),
            Err(StrategyError::Duplicate {
                marker: START,
                line: 4
            })
        );
        assert_eq!(
            rewrite(&format!("# S\n\n{START}\n"), "x"),
            Err(StrategyError::Unpaired {
                missing: END,
                line: 3
            })
        );
        let message = rewrite(&format!("{END}\n{START}\n"), "x")
            .unwrap_err()
            .to_string();
        assert!(message.starts_with("docs/strategy.md:1:"), "{message}");
    }

    #[test]
    fn sections_ignore_comments_and_the_auto_section() {
        assert_eq!(
            section(TEMPLATE, "priorities").unwrap().lines,
            Vec::<String>::new()
        );
        let text = TEMPLATE.replace(
            "## Priorities\n",
            "## Priorities\n1. optimizer first <!-- why -->\n<!--\nmulti\n-->\n### Detail\n- warmup\n",
        );
        let text = rewrite(&text, "## Priorities\nfrom dfh").unwrap();
        let priorities = section(&text, "Priorities").unwrap();
        assert_eq!(
            priorities.lines,
            vec!["1. optimizer first", "### Detail", "- warmup"]
        );
        assert_eq!(text.lines().nth(priorities.line - 1), Some("## Priorities"));
        assert!(section(&text, "Nothing").is_none());
    }
}
