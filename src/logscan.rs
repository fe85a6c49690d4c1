//! Reading a run's log in bounded memory: the metric (last match wins), the `key: value`
//! summary block, and the tail that the crash advisor reads.
//!
//! Logs can be several GB and need not be UTF-8. The file is read in fixed chunks; lines are
//! split on `\n` and on `\r` (progress bars rewrite their line with `\r`); a line longer than
//! `MAX_LINE` is cut, the rest of it skipped.
//!
//! The summary and the tail are the only text dfh copies out of a log; both are redacted
//! (`crate::redact`), so a secret the script printed never reaches the journal or a report.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::OnceLock;

use regex::bytes::Regex;

const CHUNK: usize = 1 << 16;
const MAX_LINE: usize = 1 << 16;
/// How much of the log's end the crash advisor sees.
pub const TAIL_BYTES: u64 = 256 * 1024;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Scan {
    /// The last value captured by the metric pattern, with its 1-based line.
    pub value: Option<f64>,
    pub value_line: Option<usize>,
    /// The last `key: value` block (after a `---` line, or at the end of the log).
    pub summary: BTreeMap<String, String>,
    pub lines: usize,
    pub bytes: u64,
}

/// Scans the whole log at `path` for `metric` (a regex with one capture group).
pub fn scan(path: &Path, metric: &Regex) -> std::io::Result<Scan> {
    let mut file = File::open(path)?;
    let mut scanner = Scanner::new(metric);
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let read = file.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        scanner.feed(&chunk[..read]);
    }
    Ok(scanner.finish())
}

struct Scanner<'a> {
    metric: &'a Regex,
    line: Vec<u8>,
    overlong: bool,
    scan: Scan,
    block: BTreeMap<String, String>,
    dashed: bool,
}

impl<'a> Scanner<'a> {
    fn new(metric: &'a Regex) -> Self {
        Self {
            metric,
            line: Vec::with_capacity(256),
            overlong: false,
            scan: Scan::default(),
            block: BTreeMap::new(),
            dashed: false,
        }
    }

    fn feed(&mut self, bytes: &[u8]) {
        self.scan.bytes += bytes.len() as u64;
        let mut rest = bytes;
        while let Some(position) = memchr::memchr2(b'\n', b'\r', rest) {
            self.push(&rest[..position]);
            self.end_line();
            rest = &rest[position + 1..];
        }
        self.push(rest);
    }

    fn push(&mut self, bytes: &[u8]) {
        let room = MAX_LINE.saturating_sub(self.line.len());
        if bytes.len() > room {
            self.overlong = true;
        }
        self.line.extend_from_slice(&bytes[..bytes.len().min(room)]);
    }

    fn end_line(&mut self) {
        self.scan.lines += 1;
        let line = std::mem::take(&mut self.line);
        self.read_line(&line);
        self.line = line;
        self.line.clear();
        self.overlong = false;
    }

    fn read_line(&mut self, line: &[u8]) {
        if line.is_empty() {
            return;
        }
        if let Some(value) = self
            .metric
            .captures(line)
            .and_then(|captures| captures.get(1))
        {
            if let Some(number) = parse_number(value.as_bytes()) {
                self.scan.value = Some(number);
                self.scan.value_line = Some(self.scan.lines);
            }
        }
        let trimmed = line.trim_ascii();
        if trimmed == b"---" {
            self.dashed = true;
            self.block.clear();
        } else if let Some((key, value)) = summary_pair(line) {
            let value = String::from_utf8_lossy(value);
            self.block.insert(
                String::from_utf8_lossy(key).into_owned(),
                crate::redact::redact(value.trim()).into_owned(),
            );
        } else if !self.dashed && !trimmed.is_empty() {
            self.block.clear();
        }
    }

    fn finish(mut self) -> Scan {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.scan.lines += 1;
            self.read_line(&line);
        }
        self.scan.summary = self.block;
        self.scan
    }
}

/// `key: value` with a word-like key; a value of at most `SUMMARY_VALUE` characters is
/// checked apart (see `summary_pair`): a bounded repetition of any Unicode character makes a
/// pattern that takes milliseconds to compile.
fn summary_regex() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r"^\s*([A-Za-z_][A-Za-z0-9_@./-]{0,63}):\s+(\S.*)$")
            .unwrap_or_else(|_| unreachable!("the summary pattern is a constant and compiles"))
    })
}

/// The longest value a summary line holds, in characters.
const SUMMARY_VALUE: usize = 201;

/// The key and value of a summary line.
fn summary_pair(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let captures = summary_regex().captures(line)?;
    let (key, value) = (captures.get(1)?, captures.get(2)?);
    // The pattern matched only valid UTF-8 in the value.
    let characters =
        std::str::from_utf8(value.as_bytes()).map_or(usize::MAX, |text| text.chars().count());
    (characters <= SUMMARY_VALUE).then(|| (key.as_bytes(), value.as_bytes()))
}

/// Compiles what a scan uses once per process, ahead of the scan (on a thread that waits for
/// the training anyway).
pub fn warm() {
    summary_regex();
    crate::redact::redact("");
}

/// Parses a captured number; `nan`, `inf` and `-inf` are values.
pub fn parse_number(bytes: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(bytes).ok()?.trim();
    match text.to_ascii_lowercase().as_str() {
        "nan" | "-nan" | "+nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => text.parse().ok(),
    }
}

/// The last `TAIL_BYTES` of the log as text (invalid UTF-8 replaced, secrets redacted).
pub fn tail(path: &Path) -> std::io::Result<String> {
    let mut file = File::open(path)?;
    let length = file.metadata()?.len();
    file.seek(SeekFrom::Start(length.saturating_sub(TAIL_BYTES)))?;
    let mut bytes = Vec::new();
    file.take(TAIL_BYTES).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(crate::redact::redact(&text).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_text(text: &[u8], pattern: &str) -> Scan {
        let metric = Regex::new(pattern).unwrap();
        let mut scanner = Scanner::new(&metric);
        for piece in text.chunks(7) {
            scanner.feed(piece);
        }
        scanner.finish()
    }

    #[test]
    fn last_match_wins_and_summary_is_read() {
        let log = b"val_bpb: 1.5\nstep 1\r step 2\r---\nval_bpb:          0.997900\ntraining_seconds: 300.1\npeak_vram_mb:     45060.2\n";
        let scan = scan_text(log, &crate::config::default_pattern("val_bpb"));
        assert_eq!(scan.value, Some(0.9979));
        assert_eq!(scan.value_line, Some(5));
        assert_eq!(
            scan.summary.get("peak_vram_mb").map(String::as_str),
            Some("45060.2")
        );
        assert_eq!(scan.summary.len(), 3);
    }

    /// A summary value holds at most 201 characters (multi-byte ones count as one); a longer
    /// line is not a summary line and ends the block before it.
    #[test]
    fn a_summary_value_is_at_most_201_characters() {
        let pattern = crate::config::default_pattern("val_bpb");
        let value = |length: usize| "é".repeat(length);
        let log = format!("---\nfits: {}\nval_bpb: 0.9\n", value(201));
        let scan = scan_text(log.as_bytes(), &pattern);
        assert_eq!(scan.summary["fits"], value(201));
        let log = format!(
            "note: {}\n---\nval_bpb: 0.9\nlong: {}\nafter: 1\n",
            value(3),
            value(202)
        );
        let scan = scan_text(log.as_bytes(), &pattern);
        assert!(!scan.summary.contains_key("long"), "{:?}", scan.summary);
        assert_eq!(scan.summary["after"], "1");
        // Without the dashes, a line that is not a summary line starts the block over.
        let log = format!("val_bpb: 0.9\nlong: {}\nafter: 1\n", value(202));
        let scan = scan_text(log.as_bytes(), &pattern);
        assert_eq!(scan.summary.keys().collect::<Vec<_>>(), ["after"]);
    }

    #[test]
    fn a_pattern_can_select_one_number_of_a_line() {
        let log =
            b"step 500 train loss: 2.21 test loss: 2.19\nstep 600 train loss: 2.11 test loss: 2.15";
        let scan = scan_text(log, r"test loss:\s*([0-9.]+)");
        assert_eq!(scan.value, Some(2.15));
    }

    #[test]
    fn nan_is_a_value_and_invalid_utf8_is_tolerated() {
        let log = b"\xff\xfe garbage\nval_bpb: nan\n";
        let scan = scan_text(log, &crate::config::default_pattern("val_bpb"));
        assert!(scan.value.is_some_and(f64::is_nan));
    }

    #[test]
    fn an_overlong_line_is_cut_not_kept_whole() {
        let mut log = vec![b'x'; MAX_LINE * 3];
        log.extend_from_slice(b"\nval_bpb: 2.0\n");
        let scan = scan_text(&log, &crate::config::default_pattern("val_bpb"));
        assert_eq!(scan.value, Some(2.0));
        assert_eq!(scan.lines, 2);
    }
}
