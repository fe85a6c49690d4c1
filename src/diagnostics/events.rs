//! Ingest of the diagnostics events a training script writes to `DFH_EVENTS` (JSONL): streamed
//! line by line into bounded series, tolerant of torn and bad lines, because a crashed run's
//! partial log is exactly what the agent needs to see.
//!
//! Two event shapes (any language may write them):
//! `{"series": "training_curves/task_loss", "step": 120, "value": 2.31}` and
//! `{"section": "eval", "values": {"pass@1": 0.15}}`. Values may be numbers or the strings
//! "nan", "inf", "-inf". A series name without a `/` belongs to `training_curves`.

use super::downsample::{Point, Series, SeriesAccumulator, MAX_POINTS};
use super::number::NanSafe;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

/// The section a series name without a `/` prefix belongs to.
pub const DEFAULT_SECTION: &str = "training_curves";

/// A line longer than this is skipped as bad (its bytes are not kept), so memory stays bounded.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// Everything one run logged: series by section and name, merged section values, and how the
/// ingest went.
#[derive(Clone, Debug, Default)]
pub struct EventData {
    /// section -> series name -> downsampled series (`training_curves/task_loss` is
    /// `series["training_curves"]["task_loss"]`).
    pub series: BTreeMap<String, BTreeMap<String, Series>>,
    /// section -> key -> value, later events overwriting earlier keys (`eval` is one of them).
    pub sections: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    pub stats: EventStats,
}

/// How the ingest of an events file went.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct EventStats {
    pub lines: u64,
    pub events: u64,
    pub skipped_lines: u64,
    /// The first skipped line, to point a user at the problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_skipped: Option<SkippedLine>,
    /// The file ended in the middle of a line (the writer was killed mid-write).
    #[serde(default)]
    pub torn_last_line: bool,
}

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct SkippedLine {
    pub line: u64,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(
        "cannot open the diagnostics events file {path}: {source}; the training script writes \
         it when it imports dfh_diag and calls dfh.Run() (or writes JSONL to $DFH_EVENTS itself)"
    )]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read the diagnostics events file {path} at line {line}: {source}")]
    Read {
        path: PathBuf,
        line: u64,
        source: io::Error,
    },
}

impl IngestError {
    /// True when the file does not exist: the script simply did not log diagnostics.
    pub fn is_missing_file(&self) -> bool {
        matches!(self, IngestError::Open { source, .. } if source.kind() == io::ErrorKind::NotFound)
    }
}

/// Reads a `DFH_EVENTS` file. Bad lines are counted in `stats` and skipped, never fatal; only
/// failing to open or read the file is an error.
pub fn ingest_events(path: &Path) -> Result<EventData, IngestError> {
    let file = File::open(path).map_err(|source| IngestError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    ingest_reader(BufReader::with_capacity(1 << 16, file)).map_err(|(line, source)| {
        IngestError::Read {
            path: path.to_path_buf(),
            line,
            source,
        }
    })
}

/// Reads events from any buffered reader; the error carries the line number it failed at.
pub fn ingest_reader(mut reader: impl BufRead) -> Result<EventData, (u64, io::Error)> {
    let mut collector = EventCollector::default();
    let mut line = Vec::with_capacity(256);
    let mut line_number = 0u64;
    loop {
        line.clear();
        let read = read_line_capped(&mut reader, &mut line, MAX_LINE_BYTES)
            .map_err(|error| (line_number + 1, error))?;
        let Some(LineRead { ended, too_long }) = read else {
            break;
        };
        line_number += 1;
        collector.stats.lines += 1;
        let outcome = if too_long {
            Err(format!("line longer than {MAX_LINE_BYTES} bytes"))
        } else {
            collector.take_line(&line)
        };
        if let Err(reason) = outcome {
            collector.skip(line_number, reason, !ended);
        }
    }
    Ok(collector.finish())
}

/// Collects points and section values into bounded series; also used by the TensorBoard import.
#[derive(Debug, Default)]
pub struct EventCollector {
    series: HashMap<String, SeriesAccumulator>,
    sections: BTreeMap<String, BTreeMap<String, serde_json::Value>>,
    stats: EventStats,
}

impl EventCollector {
    /// Adds one point to the series `name` (`section/series`, or a bare name for
    /// `training_curves`).
    pub fn push_point(&mut self, name: &str, point: Point) {
        self.stats.events += 1;
        let name = canonical_name(name);
        match self.series.get_mut(name.as_ref()) {
            Some(accumulator) => accumulator.push(point),
            None => {
                let mut accumulator = SeriesAccumulator::new(MAX_POINTS);
                accumulator.push(point);
                self.series.insert(name.into_owned(), accumulator);
            }
        }
    }

    /// Merges key/value pairs into a named section (`eval` or any other).
    pub fn merge_section(
        &mut self,
        section: &str,
        values: impl IntoIterator<Item = (String, serde_json::Value)>,
    ) {
        self.stats.events += 1;
        self.sections
            .entry(section.to_string())
            .or_default()
            .extend(values);
    }

    fn take_line(&mut self, line: &[u8]) -> Result<(), String> {
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let event: RawEvent =
            serde_json::from_slice(line).map_err(|error| format!("not a JSON event: {error}"))?;
        match (event.series, event.section) {
            (Some(name), _) => {
                let name = name.0;
                split_series_name(&name).ok_or("empty series name")?;
                let step = event.step.ok_or("series event without a \"step\"")?;
                let step = step_number(&step).ok_or("\"step\" is not a non-negative integer")?;
                let value = event.value.ok_or("series event without a \"value\"")?.0;
                self.push_point(&name, Point { step, value });
                Ok(())
            }
            (None, Some(section)) => {
                let values = event
                    .values
                    .ok_or("section event without a \"values\" object")?;
                if section.0.trim().is_empty() {
                    return Err("empty section name".to_string());
                }
                self.merge_section(&section.0, values);
                Ok(())
            }
            (None, None) => Err("an event needs a \"series\" or a \"section\" key".to_string()),
        }
    }

    fn skip(&mut self, line: u64, reason: String, unterminated: bool) {
        self.stats.skipped_lines += 1;
        if unterminated {
            self.stats.torn_last_line = true;
        }
        self.stats
            .first_skipped
            .get_or_insert(SkippedLine { line, reason });
    }

    pub fn finish(self) -> EventData {
        let mut series: BTreeMap<String, BTreeMap<String, Series>> = BTreeMap::new();
        for (name, accumulator) in self.series {
            if let Some((section, short)) = split_series_name(&name) {
                series
                    .entry(section.to_string())
                    .or_default()
                    .insert(short.to_string(), accumulator.finish());
            }
        }
        EventData {
            series,
            sections: self.sections,
            stats: self.stats,
        }
    }
}

/// `training_curves/task_loss` -> (`training_curves`, `task_loss`); `loss` ->
/// (`training_curves`, `loss`); a deeper name splits at its first `/`. `None` when empty.
pub fn split_series_name(name: &str) -> Option<(&str, &str)> {
    let (section, short) = match name.split_once('/') {
        Some((section, short)) if !section.trim().is_empty() => (section, short),
        Some((_, short)) => (DEFAULT_SECTION, short),
        None => (DEFAULT_SECTION, name),
    };
    (!short.trim().is_empty()).then_some((section, short))
}

/// `loss` and `/loss` are `training_curves/loss`; a name with a section stays as it is.
fn canonical_name(name: &str) -> Cow<'_, str> {
    match name.split_once('/') {
        Some((section, _)) if !section.trim().is_empty() => Cow::Borrowed(name),
        Some((_, short)) => Cow::Owned(format!("{DEFAULT_SECTION}/{short}")),
        None => Cow::Owned(format!("{DEFAULT_SECTION}/{name}")),
    }
}

fn step_number(number: &serde_json::Number) -> Option<u64> {
    if let Some(step) = number.as_u64() {
        return Some(step);
    }
    let float = number.as_f64()?;
    // Scripts sometimes log `step` as a float (`120.0`); accept integral values exactly.
    (float >= 0.0 && float.fract() == 0.0 && float < 9.0e15).then_some(float as u64)
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(borrow, default)]
    series: Option<Text<'a>>,
    #[serde(default)]
    step: Option<serde_json::Number>,
    #[serde(default)]
    value: Option<NanSafe>,
    #[serde(borrow, default)]
    section: Option<Text<'a>>,
    #[serde(default)]
    values: Option<serde_json::Map<String, serde_json::Value>>,
}

/// A string borrowed from the line when it has no escapes (no allocation per event).
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(TextVisitor(std::marker::PhantomData))
    }
}

struct TextVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TextVisitor<'a> {
    type Value = Text<'a>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, value: &'de str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Borrowed(value)))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Text<'a>, E> {
        Ok(Text(Cow::Owned(value.to_string())))
    }
}

struct LineRead {
    /// The line ended with a newline (false: the file ended mid-line).
    ended: bool,
    too_long: bool,
}

/// Reads up to the next `\n` into `line`, keeping at most `cap` bytes; `None` at end of input.
fn read_line_capped(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    cap: usize,
) -> io::Result<Option<LineRead>> {
    let mut read_any = false;
    let mut too_long = false;
    loop {
        let available = match reader.fill_buf() {
            Ok(available) => available,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        };
        if available.is_empty() {
            return Ok(read_any.then_some(LineRead {
                ended: false,
                too_long,
            }));
        }
        read_any = true;
        let newline = available.iter().position(|&byte| byte == b'\n');
        let chunk = &available[..newline.unwrap_or(available.len())];
        let room = cap.saturating_sub(line.len());
        if chunk.len() > room {
            too_long = true;
        }
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        let used = chunk.len() + usize::from(newline.is_some());
        reader.consume(used);
        if newline.is_some() {
            return Ok(Some(LineRead {
                ended: true,
                too_long,
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn ingest_text(text: &str) -> Result<EventData, Box<dyn std::error::Error>> {
        ingest_reader(text.as_bytes())
            .map_err(|(line, error)| format!("line {line}: {error}").into())
    }

    fn values_of(data: &EventData, section: &str, name: &str) -> Vec<f64> {
        data.series
            .get(section)
            .and_then(|series| series.get(name))
            .map(|series| series.values.clone())
            .unwrap_or_default()
    }

    #[test]
    fn a_torn_last_line_and_a_bad_line_are_skipped_and_counted() -> TestResult {
        let text = concat!(
            "{\"series\": \"training_curves/task_loss\", \"step\": 0, \"value\": 2.5}\n",
            "this is not json\n",
            "{\"series\": \"task_loss\", \"step\": 1, \"value\": \"nan\"}\n",
            "{\"section\": \"eval\", \"values\": {\"pass@1\": 0.15}}\n",
            "{\"series\": \"gradient_norms/backbone\", \"step\": 1, \"value\": 0.5}\n",
            "{\"series\": \"training_curves/task_loss\", \"st",
        );
        let data = ingest_text(text)?;
        assert_eq!(data.stats.lines, 6);
        assert_eq!(data.stats.events, 4);
        assert_eq!(data.stats.skipped_lines, 2);
        assert!(data.stats.torn_last_line);
        assert_eq!(
            data.stats.first_skipped.as_ref().map(|skip| skip.line),
            Some(2)
        );
        let loss = values_of(&data, "training_curves", "task_loss");
        assert_eq!(loss.len(), 2);
        assert_eq!(loss[0], 2.5);
        assert!(loss[1].is_nan());
        assert_eq!(values_of(&data, "gradient_norms", "backbone"), vec![0.5]);
        assert_eq!(data.sections["eval"]["pass@1"], serde_json::json!(0.15));
        Ok(())
    }

    #[test]
    fn sections_merge_and_later_values_win() -> TestResult {
        let text = concat!(
            "{\"section\": \"energy_calibration\", \"values\": {\"separation\": 0.1, \"a\": 1}}\n",
            "{\"section\": \"energy_calibration\", \"values\": {\"separation\": 0.4}}\n",
            "{\"section\": \"eval\", \"values\": {\"pass@1\": \"nan\"}}\n",
        );
        let data = ingest_text(text)?;
        let calibration = &data.sections["energy_calibration"];
        assert_eq!(calibration["separation"], serde_json::json!(0.4));
        assert_eq!(calibration["a"], serde_json::json!(1));
        assert_eq!(data.sections["eval"]["pass@1"], serde_json::json!("nan"));
        assert_eq!(data.stats.skipped_lines, 0);
        Ok(())
    }

    #[test]
    fn events_missing_fields_are_skipped_with_a_reason() -> TestResult {
        let text = concat!(
            "{\"series\": \"loss\", \"value\": 1.0}\n",
            "{\"series\": \"loss\", \"step\": -3, \"value\": 1.0}\n",
            "{\"series\": \"loss\", \"step\": 3.0, \"value\": 1.0}\n",
            "{\"step\": 3, \"value\": 1.0}\n",
            "\n",
        );
        let data = ingest_text(text)?;
        assert_eq!(data.stats.skipped_lines, 3);
        assert!(!data.stats.torn_last_line);
        let first = data
            .stats
            .first_skipped
            .clone()
            .map(|skip| skip.reason)
            .unwrap_or_default();
        assert!(first.contains("without a \"step\""), "{first}");
        assert_eq!(values_of(&data, "training_curves", "loss"), vec![1.0]);
        Ok(())
    }

    #[test]
    fn overlong_lines_are_skipped_without_keeping_them() -> TestResult {
        let long = format!(
            "{{\"series\": \"{}\", \"step\": 1, \"value\": 1}}\n",
            "x".repeat(MAX_LINE_BYTES)
        );
        let text = format!("{long}{{\"series\": \"loss\", \"step\": 1, \"value\": 1}}\n");
        let data = ingest_text(&text)?;
        assert_eq!(data.stats.skipped_lines, 1);
        assert_eq!(values_of(&data, "training_curves", "loss"), vec![1.0]);
        Ok(())
    }

    #[test]
    fn a_missing_file_is_reported_as_missing() {
        let error = ingest_events(Path::new("/nonexistent/dfh/events.jsonl")).err();
        assert!(error.is_some_and(|error| error.is_missing_file()));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..1024)) {
            let result = ingest_reader(&bytes[..]);
            proptest::prop_assert!(result.is_ok());
        }

        #[test]
        fn event_like_lines_never_panic(lines in proptest::collection::vec(
            "\\{\"(series|section|step|value|values)\": ?(\"[a-z/]{0,6}\"|-?[0-9.e]{1,6}|\\{\\}|nan)(, ?\"(step|value|values)\": ?(-?[0-9.e]{1,5}|\"inf\"|\\{\"a\": 1\\}))*\\}?",
            0..20,
        )) {
            let text = lines.join("\n");
            let data = ingest_reader(text.as_bytes()).map_err(|(_, error)| error.to_string());
            proptest::prop_assert!(data.is_ok_and(|data| data.stats.lines <= lines.len() as u64));
        }
    }

    /// Run with `cargo test --release -- --ignored ingest_speed --nocapture`.
    #[test]
    #[ignore = "timing; run in release mode"]
    fn ingest_speed_of_a_million_events() -> TestResult {
        let directory = tempfile::tempdir()?;
        let path = directory.path().join("events.jsonl");
        let mut writer = io::BufWriter::new(File::create(&path)?);
        let names = ["task_loss", "energy_loss", "total_loss", "lr"];
        for step in 0..250_000u64 {
            for name in names {
                let value = 3.0 / (1.0 + step as f64 / 1000.0) + (step % 7) as f64 * 0.01;
                writeln!(writer, "{{\"series\": \"training_curves/{name}\", \"step\": {step}, \"value\": {value}}}")?;
            }
        }
        writer.flush()?;
        drop(writer);
        let bytes = std::fs::metadata(&path)?.len();
        let started = std::time::Instant::now();
        let data = ingest_events(&path)?;
        let elapsed = started.elapsed();
        let peak = std::fs::read_to_string("/proc/self/status")?
            .lines()
            .find(|line| line.starts_with("VmHWM"))
            .map(str::to_string)
            .unwrap_or_default();
        eprintln!(
            "ingested {} events ({:.1} MB) in {:.3} s; {peak}",
            data.stats.events,
            bytes as f64 / 1e6,
            elapsed.as_secs_f64()
        );
        assert_eq!(data.stats.events, 1_000_000);
        assert!(data.series["training_curves"]["task_loss"].values.len() <= MAX_POINTS);
        assert!(elapsed.as_secs_f64() < 1.0, "ingest took {elapsed:?}");
        Ok(())
    }
}
