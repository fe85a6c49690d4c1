//! Traceback extraction: turns an arbitrary log (launcher prefixes, pasted markdown, C++ stacks,
//! warnings) into cleaned lines, exception records with their frames, and the chain between them.

use regex::Regex;

/// Only the end of a huge log is read: the failure that ended a run is printed last.
const WINDOW_BYTES: usize = 256 * 1024;
/// Continuation lines kept after an exception line (messages such as state_dict's list keys).
const MAX_CONTINUATION: usize = 40;
/// Meaningful lines read after the last exception (or at the end of a log without one).
const MAX_TAIL_LINES: usize = 60;
/// Lines after a warning header that belong to the warning's text.
const MAX_WARNING_LINES: usize = 8;

/// One `File "path", line N, in function` entry and its source line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub path: String,
    pub line: usize,
    pub function: Option<String>,
    pub source: Option<String>,
}

/// One exception as printed: its line, the message lines that follow it, and the frames of the
/// traceback block that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionRecord {
    /// The exception type as printed (`torch.cuda.OutOfMemoryError`).
    pub exception: String,
    pub message: String,
    /// The cleaned exception line.
    pub header: String,
    /// The exception line and its continuation lines, joined by `\n`.
    pub text: String,
    /// Cleaned-line range `[start, end)` the record spans.
    pub start: usize,
    pub end: usize,
    pub frames: Vec<Frame>,
    /// A "During handling..." or "...direct cause..." marker links it to the record before.
    pub chained: bool,
}

/// A log read by [`TracebackParser::parse`].
#[derive(Debug, Clone, Default)]
pub struct ParsedLog {
    /// The window's lines without launcher prefixes and markdown, trimmed.
    pub lines: Vec<String>,
    /// Lines that never decide a class (warnings, nanobind leaks, C++ frame dumps).
    pub noise: Vec<bool>,
    pub records: Vec<ExceptionRecord>,
}

impl ParsedLog {
    /// The last meaningful lines after the last exception record (of the window when none).
    pub fn tail_text(&self) -> String {
        let after = self.records.last().map_or(0, |record| record.end);
        let mut start = self.lines.len();
        let mut kept = 0;
        while start > after && kept < MAX_TAIL_LINES {
            start -= 1;
            if !self.noise[start] && !self.lines[start].is_empty() {
                kept += 1;
            }
        }
        self.join_meaningful(start, self.lines.len())
    }

    /// The last meaningful line of the log, unless it is the last exception line itself. (It
    /// may be a line the last record took as its message: output printed right after a
    /// traceback cannot be told from a message's further lines.)
    pub fn terminal_line(&self) -> Option<&str> {
        let index = (0..self.lines.len())
            .rev()
            .find(|&index| !self.noise[index] && !self.lines[index].is_empty())?;
        match self.records.last() {
            Some(record) if index == record.start => None,
            _ => Some(self.lines[index].as_str()),
        }
    }

    /// All meaningful lines of the window, for project patterns that may match anywhere.
    pub fn meaningful_text(&self) -> String {
        self.join_meaningful(0, self.lines.len())
    }

    fn join_meaningful(&self, start: usize, end: usize) -> String {
        let mut text = String::new();
        for index in start..end {
            if self.noise[index] || self.lines[index].is_empty() {
                continue;
            }
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&self.lines[index]);
        }
        text
    }
}

/// The compiled regexes of the traceback grammar; build once, parse many logs.
#[derive(Debug, Clone)]
pub struct TracebackParser {
    prefix: Regex,
    frame: Regex,
    frame_truncated: Regex,
    frame_ipython: Regex,
    strong_exception: Regex,
    weak_exception: Regex,
}

enum LineKind {
    Blank,
    Header,
    ChainMarker,
    Frame(Frame),
    Exception { exception: String, message: String },
    Caret,
    Other,
}

impl TracebackParser {
    pub fn new() -> Result<Self, regex::Error> {
        Ok(Self {
            // Launcher and paste decorations: torchrun's `[rank0]:`/`[default0]:`, a pid, a
            // timestamp, a glog header (`W1024 01:17:10.936 1404 file.py:1009] `), `> ` quotes.
            prefix: Regex::new(
                r"^(?:\[(?:rank|default)\d+\]:?\s?|\[\d+\]\s+|\[\d{1,2}:\d{2}:\d{2}(?:\.\d+)?\]:?\s*|[IWEF]\d{4} \d{2}:\d{2}:\d{2}\.\d+\s+\d+\s+\S+:\d+\]\s?|>\s?)+",
            )?,
            frame: Regex::new(r#"^File "([^"]+)", line (\d+)(?:, in\b\s*(.*))?$"#)?,
            frame_truncated: Regex::new(r#"^([^"\s][^"]*)", line (\d+)(?:, in\b\s*(.*))?$"#)?,
            frame_ipython: Regex::new(r#"^File ([^\s",]+\.py):(\d+)(?:, in\b\s*(.*))?$"#)?,
            strong_exception: Regex::new(
                r"^((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception|Exit|Interrupt|Failed|Failure|OutOfResources|Unsupported))(?::\s*(.*))?$",
            )?,
            weak_exception: Regex::new(r"^([A-Za-z_][\w.]*)(?::\s*(.*))?$")?,
        })
    }

    /// Reads the end of `log` (the last 256 KiB) into cleaned lines and exception records.
    pub fn parse(&self, log: &str) -> ParsedLog {
        let window = tail_window(log);
        let lines: Vec<String> = window.lines().map(|line| self.clean(line)).collect();
        let noise = self.mark_noise(&lines);
        let records = self.records(&lines, &noise);
        ParsedLog {
            lines,
            noise,
            records,
        }
    }

    fn clean(&self, raw: &str) -> String {
        let mut line = raw.trim();
        if line.starts_with(['[', '>', 'I', 'W', 'E', 'F']) {
            if let Some(found) = self.prefix.find(line) {
                line = line[found.end()..].trim_start();
            }
        }
        // Pasted markdown: `**bold**` and `inline code` around a line.
        let line = line.strip_prefix("**").unwrap_or(line);
        let line = line.strip_suffix("**").unwrap_or(line);
        line.trim_matches('`').trim().to_string()
    }

    fn classify(&self, line: &str) -> LineKind {
        if line.is_empty() {
            return LineKind::Blank;
        }
        if line.contains("Traceback (most recent call last)") {
            return LineKind::Header;
        }
        if line.starts_with("During handling of the above exception")
            || line.starts_with("The above exception was the direct cause")
        {
            return LineKind::ChainMarker;
        }
        if line.contains("\", line ") || line.starts_with("File ") {
            if let Some(frame) = self.frame(line) {
                return LineKind::Frame(frame);
            }
        }
        if let Some(captures) = self.strong_exception.captures(line) {
            return LineKind::Exception {
                exception: captures[1].to_string(),
                message: captures.get(2).map_or("", |text| text.as_str()).to_string(),
            };
        }
        if line
            .chars()
            .all(|character| matches!(character, '^' | '~' | ' '))
        {
            return LineKind::Caret;
        }
        LineKind::Other
    }

    fn frame(&self, line: &str) -> Option<Frame> {
        let captures = self
            .frame
            .captures(line)
            .or_else(|| self.frame_truncated.captures(line))
            .or_else(|| self.frame_ipython.captures(line))?;
        let function = captures
            .get(3)
            .map(|text| text.as_str().trim().to_string())
            .filter(|text| !text.is_empty());
        Some(Frame {
            path: captures[1].to_string(),
            line: captures[2].parse().ok()?,
            function,
            source: None,
        })
    }

    /// Warnings (and the lines of their text), nanobind leak reports and torch's C++ stack
    /// dumps are printed by healthy runs too, so they must never decide a class.
    fn mark_noise(&self, lines: &[String]) -> Vec<bool> {
        let mut noise = vec![false; lines.len()];
        let mut warning_lines_left = 0;
        for (index, line) in lines.iter().enumerate() {
            if is_warning_header(line) || line.contains("warnings.warn(") {
                noise[index] = true;
                let is_source_line = line.contains("warnings.warn(");
                warning_lines_left = if is_source_line { 0 } else { MAX_WARNING_LINES };
                continue;
            }
            let ends_warning = line.is_empty()
                || line.contains("Traceback (most recent call last)")
                || line.starts_with("File \"")
                || self.strong_exception.is_match(line);
            if warning_lines_left > 0 && !ends_warning {
                noise[index] = true;
                warning_lines_left -= 1;
                continue;
            }
            warning_lines_left = 0;
            noise[index] = line.contains("nanobind: leaked")
                || line.starts_with("- leaked ")
                || line.starts_with("frame #")
                || line.starts_with("Exception raised from ");
        }
        noise
    }

    fn records(&self, lines: &[String], noise: &[bool]) -> Vec<ExceptionRecord> {
        let mut records = Vec::new();
        let mut frames: Vec<Frame> = Vec::new();
        let mut chain_pending = false;
        let mut expect_source = false;
        // A Python exception line may have any name when it directly follows a frame's source.
        let mut after_frame = false;
        let mut index = 0;
        while index < lines.len() {
            if noise[index] {
                index += 1;
                continue;
            }
            let line = lines[index].as_str();
            let kind = self.classify(line);
            let mut exception = None;
            match kind {
                LineKind::Blank => {
                    expect_source = false;
                    after_frame = false;
                }
                LineKind::Header => {
                    frames.clear();
                    expect_source = false;
                    after_frame = false;
                }
                LineKind::ChainMarker => {
                    chain_pending = true;
                    frames.clear();
                    expect_source = false;
                    after_frame = false;
                }
                LineKind::Frame(frame) => {
                    frames.push(frame);
                    expect_source = true;
                    after_frame = true;
                }
                LineKind::Exception {
                    exception: name,
                    message,
                } => {
                    exception = Some((name, message));
                }
                LineKind::Caret => expect_source = false,
                LineKind::Other if expect_source => {
                    if let Some(frame) = frames.last_mut() {
                        frame.source = Some(line.to_string());
                    }
                    expect_source = false;
                }
                LineKind::Other => {
                    if after_frame {
                        exception = self.weak_exception.captures(line).map(|captures| {
                            let message = captures.get(2).map_or("", |text| text.as_str());
                            (captures[1].to_string(), message.to_string())
                        });
                    }
                    after_frame = false;
                }
            }
            let Some((name, message)) = exception else {
                index += 1;
                continue;
            };
            let record = self.record(lines, noise, index, name, message, &frames, chain_pending);
            index = record.end;
            records.push(record);
            frames.clear();
            chain_pending = false;
            expect_source = false;
            after_frame = false;
        }
        records
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one private builder fed by the scan loop"
    )]
    fn record(
        &self,
        lines: &[String],
        noise: &[bool],
        start: usize,
        exception: String,
        message: String,
        frames: &[Frame],
        chained: bool,
    ) -> ExceptionRecord {
        let header = lines[start].clone();
        let mut text = header.clone();
        let mut last_kept = header.as_str();
        let mut kept = 0;
        let mut index = start + 1;
        while index < lines.len() && kept < MAX_CONTINUATION {
            if noise[index] {
                index += 1;
                continue;
            }
            let line = lines[index].as_str();
            match self.classify(line) {
                LineKind::Blank | LineKind::Header | LineKind::ChainMarker | LineKind::Frame(_) => {
                    break
                }
                // "BackendCompilerFailed: backend='inductor' raised:" introduces the inner error.
                LineKind::Exception { .. } if !last_kept.ends_with(':') => break,
                _ => {}
            }
            text.push('\n');
            text.push_str(line);
            last_kept = line;
            kept += 1;
            index += 1;
        }
        ExceptionRecord {
            exception,
            message,
            header,
            text,
            start,
            end: index,
            frames: frames.to_vec(),
            chained,
        }
    }
}

fn tail_window(log: &str) -> &str {
    if log.len() <= WINDOW_BYTES {
        return log;
    }
    let mut start = log.len() - WINDOW_BYTES;
    while !log.is_char_boundary(start) {
        start += 1;
    }
    let window = &log[start..];
    // Drop the partial first line.
    window
        .find('\n')
        .map_or(window, |newline| &window[newline + 1..])
}

fn is_warning_header(line: &str) -> bool {
    [
        "DeprecationWarning",
        "UserWarning",
        "FutureWarning",
        "RuntimeWarning",
    ]
    .iter()
    .any(|warning| line.contains(warning))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(log: &str) -> ParsedLog {
        TracebackParser::new().unwrap().parse(log)
    }

    #[test]
    fn chained_exceptions_yield_one_record_each_and_mark_the_chain() {
        let log = "Traceback (most recent call last):\n  File \"train.py\", line 3, in <module>\n    x = d['k']\nKeyError: 'k'\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"train.py\", line 5, in <module>\n    raise ValueError('bad')\nValueError: bad\n";
        let parsed = parse(log);
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[0].exception, "KeyError");
        assert!(!parsed.records[0].chained);
        assert_eq!(parsed.records[1].exception, "ValueError");
        assert_eq!(parsed.records[1].message, "bad");
        assert!(parsed.records[1].chained);
        assert_eq!(parsed.records[1].frames[0].line, 5);
        assert_eq!(
            parsed.records[1].frames[0].source.as_deref(),
            Some("raise ValueError('bad')")
        );
    }

    #[test]
    fn launcher_prefixes_and_markdown_are_stripped() {
        let log = "[rank0]: Traceback (most recent call last):\n[rank0]:   File \"a.py\", line 1, in f\n[rank0]:     g()\n[rank0]: **RuntimeError: boom**\n";
        let parsed = parse(log);
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].header, "RuntimeError: boom");
        assert_eq!(parsed.records[0].frames[0].path, "a.py");
    }

    #[test]
    fn any_exception_name_right_after_a_frame_is_a_record() {
        let log = "  File \"q.py\", line 105, in get\n    raise Empty\n_queue.Empty\n";
        let parsed = parse(log);
        assert_eq!(parsed.records[0].exception, "_queue.Empty");
    }

    #[test]
    fn an_error_introduced_by_raised_colon_stays_in_the_message() {
        let log = "torch._dynamo.exc.BackendCompilerFailed: backend='inductor' raised:\nNameError: name 's4' is not defined\n";
        let parsed = parse(log);
        assert_eq!(parsed.records.len(), 1);
        assert!(parsed.records[0].text.contains("NameError"));
    }

    #[test]
    fn warnings_and_cpp_frames_are_noise() {
        let log = "/x.py:3: UserWarning: something\n  the warning text\n\n  warnings.warn(msg)\nRuntimeError: boom\nException raised from f at x.cpp:1 (most recent call first):\nframe #0: c10::Error\nnanobind: leaked 3 instances!\n";
        let parsed = parse(log);
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].text, "RuntimeError: boom");
        assert!(parsed.noise[1]);
        assert_eq!(
            parsed.terminal_line(),
            None,
            "noise after the exception line is skipped"
        );
    }

    #[test]
    fn huge_logs_are_read_from_their_end() {
        let mut log = "step 1 loss 2.0\n".repeat(40_000);
        log.push_str("RuntimeError: late failure\n");
        let parsed = parse(&log);
        assert!(parsed.lines.len() < 40_000);
        assert_eq!(
            parsed.records.last().map(|r| r.message.as_str()),
            Some("late failure")
        );
    }
}
