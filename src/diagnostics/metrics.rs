//! The `metrics/<commit>.json` document: one run's metric, summary block, bounded curves,
//! gradient norms, named sections, eval values, harness figures and automatic flags — the
//! structured JSON the agent reads when a result is unexpected.

use super::downsample::Series;
use super::events::{EventData, EventStats};
use super::flags::{compute_flags, BestRun, Flag, FlagKind, SeriesSections, GRADIENT_SECTION};
use super::number::{nan_safe, nan_safe_option, non_finite_text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

pub const TRAINING_SECTION: &str = "training_curves";
pub const EVAL_SECTION: &str = "eval";

/// Top-level keys of the document: a named section with one of these names is stored as
/// `<name>_section` so it cannot collide with them.
const RESERVED_KEYS: [&str; 11] = [
    "experiment",
    "commit",
    "status",
    "metric",
    "summary",
    "training_curves",
    "gradient_norms",
    "eval",
    "harness",
    "events",
    "flags",
];

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MetricsDoc {
    pub experiment: u32,
    pub commit: String,
    /// `keep`, `discard`, `crash`, `timeout`, ...
    pub status: String,
    pub metric: MetricInfo,
    /// The `key: value` block the script printed at the end.
    #[serde(default)]
    pub summary: BTreeMap<String, SummaryValue>,
    #[serde(default)]
    pub training_curves: BTreeMap<String, Series>,
    #[serde(default)]
    pub gradient_norms: BTreeMap<String, Series>,
    /// Other named sections (`energy_calibration`, ...), written at the top level.
    #[serde(flatten)]
    pub sections: BTreeMap<String, BTreeMap<String, SectionEntry>>,
    #[serde(default)]
    pub eval: BTreeMap<String, SectionEntry>,
    pub harness: Harness,
    /// How the ingest of the events file went (skipped lines, a torn last line).
    #[serde(default)]
    pub events: EventStats,
    #[serde(default)]
    pub flags: Vec<Flag>,
}

/// Whether lower or higher is better: the configuration's own type.
pub use crate::config::Goal;

#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct MetricInfo {
    pub name: String,
    #[serde(with = "nan_safe_option")]
    pub value: Option<f64>,
    pub goal: Goal,
    #[serde(with = "nan_safe_option")]
    pub best_before: Option<f64>,
}

/// A summary value: a number when it parses as one (NaN-safe), else the text as printed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum SummaryValue {
    Number(#[serde(with = "nan_safe")] f64),
    Text(String),
}

impl SummaryValue {
    pub fn parse(text: &str) -> SummaryValue {
        match text.trim().parse::<f64>() {
            Ok(number) => SummaryValue::Number(number),
            Err(_) => SummaryValue::Text(text.trim().to_string()),
        }
    }
}

/// An entry of a named section: a logged series or a plain value from a section event.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(untagged)]
pub enum SectionEntry {
    Series(Series),
    Value(serde_json::Value),
}

/// What the harness measured around the run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Harness {
    pub wall_seconds: f64,
    /// `None` when the process was killed by a signal.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    pub peak_rss_mb: Option<f64>,
    pub gpu_peak_memory_mb: Option<f64>,
}

/// Everything `build_metrics_doc` needs.
#[derive(Clone, Debug)]
pub struct MetricsInput<'a> {
    pub experiment: u32,
    pub commit: String,
    pub status: String,
    pub metric: MetricInfo,
    /// `key: value` pairs parsed from the run's summary block.
    pub summary: BTreeMap<String, String>,
    pub events: EventData,
    pub harness: Harness,
    /// The best run so far, for the missing-series flag.
    pub best: Option<&'a MetricsDoc>,
}

#[derive(Debug, thiserror::Error)]
pub enum MetricsError {
    #[error("cannot write {path}: {source}; check that metrics/ exists and is writable")]
    Write { path: PathBuf, source: io::Error },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{path} is not a dfh metrics document ({source}); it is written by `dfh run`, rerun \
         the experiment or delete the file"
    )]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("cannot encode the metrics document: {0}")]
    Encode(serde_json::Error),
}

/// Assembles the document and computes its flags.
pub fn build_metrics_doc(input: MetricsInput) -> MetricsDoc {
    let best = input.best.map(MetricsDoc::best_run);
    let mut flags = compute_flags(&input.events.series, best.as_ref());
    if let Some(text) = input.metric.value.and_then(non_finite_text) {
        flags.insert(
            0,
            Flag {
                kind: FlagKind::NonFinite,
                series: format!("metric/{}", input.metric.name),
                step: None,
                message: format!("the metric {} is {text}", input.metric.name),
            },
        );
    }
    let mut document = MetricsDoc {
        experiment: input.experiment,
        commit: input.commit,
        status: input.status,
        metric: input.metric,
        summary: input
            .summary
            .iter()
            .map(|(key, value)| (key.clone(), SummaryValue::parse(value)))
            .collect(),
        training_curves: BTreeMap::new(),
        gradient_norms: BTreeMap::new(),
        sections: BTreeMap::new(),
        eval: BTreeMap::new(),
        harness: input.harness,
        events: input.events.stats,
        flags,
    };
    for (section, values) in input.events.sections {
        let entries = values
            .into_iter()
            .map(|(key, value)| (key, SectionEntry::Value(value)));
        document.section_mut(&section).extend(entries);
    }
    for (section, named) in input.events.series {
        match section.as_str() {
            TRAINING_SECTION => document.training_curves = named,
            GRADIENT_SECTION => document.gradient_norms = named,
            _ => {
                let entries = named
                    .into_iter()
                    .map(|(key, series)| (key, SectionEntry::Series(series)));
                document.section_mut(&section).extend(entries);
            }
        }
    }
    document
}

impl MetricsDoc {
    /// Where section values land: `eval`, or a named section (renamed if it would collide).
    fn section_mut(&mut self, section: &str) -> &mut BTreeMap<String, SectionEntry> {
        if section == EVAL_SECTION {
            return &mut self.eval;
        }
        let key = if RESERVED_KEYS.contains(&section) {
            format!("{section}_section")
        } else {
            section.to_string()
        };
        self.sections.entry(key).or_default()
    }

    /// Every series by section: training curves, gradient norms, eval and named sections.
    pub fn series_sections(&self) -> SeriesSections {
        let mut all = SeriesSections::new();
        if !self.training_curves.is_empty() {
            all.insert(TRAINING_SECTION.to_string(), self.training_curves.clone());
        }
        if !self.gradient_norms.is_empty() {
            all.insert(GRADIENT_SECTION.to_string(), self.gradient_norms.clone());
        }
        let named = self
            .sections
            .iter()
            .map(|(name, entries)| (name.as_str(), entries));
        for (name, entries) in named.chain([(EVAL_SECTION, &self.eval)]) {
            let series: BTreeMap<String, Series> = entries
                .iter()
                .filter_map(|(key, entry)| match entry {
                    SectionEntry::Series(series) => Some((key.clone(), series.clone())),
                    SectionEntry::Value(_) => None,
                })
                .collect();
            if !series.is_empty() {
                all.insert(name.to_string(), series);
            }
        }
        all
    }

    /// This run seen as the best run, for the flags of a later one.
    pub fn best_run(&self) -> BestRun {
        let series_names = self
            .series_sections()
            .iter()
            .flat_map(|(section, named)| named.keys().map(move |name| format!("{section}/{name}")))
            .collect();
        BestRun {
            experiment: self.experiment,
            series_names,
        }
    }

    pub fn to_json(&self) -> Result<String, MetricsError> {
        serde_json::to_string_pretty(self).map_err(MetricsError::Encode)
    }

    /// Writes the document atomically (a temporary file renamed over the target).
    pub fn write(&self, path: &Path) -> Result<(), MetricsError> {
        let text = self.to_json()? + "\n";
        let temporary = path.with_extension("json.tmp");
        let error = |source| MetricsError::Write {
            path: path.to_path_buf(),
            source,
        };
        std::fs::write(&temporary, text).map_err(error)?;
        std::fs::rename(&temporary, path).map_err(error)
    }

    pub fn read(path: &Path) -> Result<MetricsDoc, MetricsError> {
        let text = std::fs::read_to_string(path).map_err(|source| MetricsError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|source| MetricsError::Parse {
            path: path.to_path_buf(),
            source,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::events::ingest_reader;
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    pub(crate) const EVENTS: &str = concat!(
        "{\"series\": \"training_curves/task_loss\", \"step\": 0, \"value\": 3.0}\n",
        "{\"series\": \"training_curves/task_loss\", \"step\": 1, \"value\": 2.0}\n",
        "{\"series\": \"training_curves/task_loss\", \"step\": 2, \"value\": \"nan\"}\n",
        "{\"series\": \"gradient_norms/backbone\", \"step\": 1, \"value\": 0.5}\n",
        "{\"series\": \"energy_calibration/separation\", \"step\": 1, \"value\": 0.25}\n",
        "{\"section\": \"energy_calibration\", \"values\": {\"stopping_accuracy\": 0.8}}\n",
        "{\"section\": \"eval\", \"values\": {\"pass@1\": 0.15}}\n",
        "{\"section\": \"harness\", \"values\": {\"x\": 1}}\n",
    );

    pub(crate) fn document(
        experiment: u32,
        events: &str,
        best: Option<&MetricsDoc>,
    ) -> Result<MetricsDoc, Box<dyn std::error::Error>> {
        let events = ingest_reader(events.as_bytes()).map_err(|(_, error)| error)?;
        Ok(build_metrics_doc(MetricsInput {
            experiment,
            commit: format!("abc{experiment:04}"),
            status: "keep".to_string(),
            metric: MetricInfo {
                name: "val_bpb".to_string(),
                value: Some(f64::NAN),
                goal: Goal::Minimize,
                best_before: Some(0.9912),
            },
            summary: [
                ("val_bpb", "nan"),
                ("training_seconds", "300.1"),
                ("device", "cuda"),
            ]
            .map(|(key, value)| (key.to_string(), value.to_string()))
            .into(),
            events,
            harness: Harness {
                wall_seconds: 301.5,
                exit_code: Some(0),
                timed_out: false,
                peak_rss_mb: Some(2048.0),
                gpu_peak_memory_mb: None,
            },
            best,
        }))
    }

    #[test]
    fn the_document_round_trips_through_nan_safe_json() -> TestResult {
        let original = document(12, EVENTS, None)?;
        let text = original.to_json()?;
        assert!(text.contains("\"value\": \"nan\""), "{text}");
        assert!(text.contains("\"val_bpb\": \"nan\""), "{text}");
        let json: serde_json::Value = serde_json::from_str(&text)?;
        assert_eq!(
            json["energy_calibration"]["stopping_accuracy"],
            serde_json::json!(0.8)
        );
        assert_eq!(
            json["energy_calibration"]["separation"]["values"],
            serde_json::json!([0.25])
        );
        assert_eq!(json["harness_section"]["x"], serde_json::json!(1));
        assert_eq!(json["eval"]["pass@1"], serde_json::json!(0.15));
        assert_eq!(
            json["training_curves"]["task_loss"]["values"],
            serde_json::json!([3.0, 2.0, "nan"])
        );
        let back: MetricsDoc = serde_json::from_str(&text)?;
        // NaN != NaN, so compare the re-serialized text.
        assert_eq!(back.to_json()?, text);
        assert!(back.metric.value.is_some_and(f64::is_nan));
        assert_eq!(
            back.summary["device"],
            SummaryValue::Text("cuda".to_string())
        );
        assert_eq!(
            back.summary["training_seconds"],
            SummaryValue::Number(300.1)
        );
        Ok(())
    }

    #[test]
    fn flags_cover_the_metric_the_curves_and_the_best_run() -> TestResult {
        let best = document(7, EVENTS, None)?;
        let this = document(
            12,
            "{\"series\": \"gradient_norms/backbone\", \"step\": 1, \"value\": 0.5}\n",
            Some(&best),
        )?;
        let messages: Vec<&str> = this
            .flags
            .iter()
            .map(|flag| flag.message.as_str())
            .collect();
        assert_eq!(
            messages,
            vec![
                "the metric val_bpb is nan",
                "missing series energy_calibration/separation, present in the best run #7",
                "missing series training_curves/task_loss, present in the best run #7",
            ]
        );
        assert!(best
            .flags
            .iter()
            .any(|flag| flag.message == "task_loss is NaN from step 2"));
        Ok(())
    }

    #[test]
    fn a_written_document_reads_back() -> TestResult {
        let directory = tempfile::tempdir()?;
        let path = directory.path().join("abc0012.json");
        let original = document(12, EVENTS, None)?;
        original.write(&path)?;
        assert_eq!(MetricsDoc::read(&path)?.to_json()?, original.to_json()?);
        std::fs::write(&path, "{}")?;
        let error = MetricsDoc::read(&path)
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(error.contains("is not a dfh metrics document"), "{error}");
        Ok(())
    }
}
