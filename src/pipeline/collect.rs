//! Step 5 of the pipeline: what a finished run leaves behind, gathered into
//! metrics/<commit>.json — curves, gradient norms, sections, eval, harness figures, flags.

use std::path::Path;

use anyhow::{Context, Result};

use crate::diagnostics::{
    build_metrics_doc, ingest_events, read_tfevents, EventData, Harness, MetricInfo, MetricsDoc,
    MetricsInput,
};
use crate::executor::RunReport;
use crate::journal::State;
use crate::project::{paths, Project};

pub struct Collected {
    /// metrics/<commit>.json, relative to the root.
    pub path: String,
    pub flags: Vec<String>,
    pub warnings: Vec<String>,
}

pub struct RunFacts<'a> {
    pub experiment: u32,
    pub commit: &'a str,
    pub status: &'a str,
    pub value: Option<f64>,
    pub best_before: Option<f64>,
    pub summary: &'a std::collections::BTreeMap<String, String>,
    pub report: &'a RunReport,
    pub events: &'a Path,
    pub started: std::time::SystemTime,
}

pub fn write_metrics(project: &Project, state: &State, facts: &RunFacts<'_>) -> Result<Collected> {
    let mut warnings = Vec::new();
    let mut events = match ingest_events(facts.events) {
        Ok(events) => events,
        Err(error) if error.is_missing_file() => EventData::default(),
        Err(error) => {
            warnings.push(format!("diagnostics events not read: {error}"));
            EventData::default()
        }
    };
    if events.stats.skipped_lines > 0 {
        warnings.push(format!(
            "{} lines of {} were not diagnostics events and were skipped",
            events.stats.skipped_lines,
            facts.events.display()
        ));
    }
    let tensorboard = &project.config.diagnostics.tensorboard;
    if !tensorboard.is_empty() {
        import_tensorboard(
            &project.work_path(tensorboard),
            facts.started,
            &mut events,
            &mut warnings,
        );
    }
    let best = state
        .best
        .as_ref()
        .and_then(|best| state.experiments.get(&best.experiment))
        .and_then(|experiment| experiment.metrics.as_ref())
        .and_then(|path| MetricsDoc::read(&project.path(path)).ok());
    let doc = build_metrics_doc(MetricsInput {
        experiment: facts.experiment,
        commit: facts.commit.to_string(),
        status: facts.status.to_string(),
        metric: MetricInfo {
            name: project.config.metric.name.clone(),
            value: facts.value,
            goal: project.config.metric.goal,
            best_before: facts.best_before,
        },
        summary: facts.summary.clone(),
        events,
        harness: Harness {
            wall_seconds: facts.report.seconds,
            exit_code: facts.report.exit_code,
            timed_out: facts.report.timed_out,
            peak_rss_mb: facts.report.peak_rss_mb,
            gpu_peak_memory_mb: facts.report.gpu_peak_mb,
        },
        best: best.as_ref(),
    });
    let relative = format!("{}/{}.json", paths::METRICS, facts.commit);
    // metrics/ may have been deleted during the run; it is ours to recreate.
    std::fs::create_dir_all(project.path(paths::METRICS)).context("cannot create metrics/")?;
    doc.write(&project.path(&relative))?;
    Ok(Collected {
        path: relative,
        flags: doc.flags.iter().map(|flag| flag.message.clone()).collect(),
        warnings,
    })
}

/// Scalars from TensorBoard event files written during the run become training curves.
fn import_tensorboard(
    dir: &Path,
    since: std::time::SystemTime,
    events: &mut EventData,
    warnings: &mut Vec<String>,
) {
    let mut files = Vec::new();
    collect_tfevents(dir, 0, &mut files);
    for file in files {
        let fresh = std::fs::metadata(&file)
            .and_then(|meta| meta.modified())
            .is_ok_and(|modified| modified >= since);
        if !fresh {
            continue;
        }
        match read_tfevents(&file) {
            Ok(tfevents) => {
                let data = tfevents.into_event_data();
                for (section, series) in data.series {
                    let target = events.series.entry(section).or_default();
                    for (name, values) in series {
                        target.entry(name).or_insert(values);
                    }
                }
            }
            Err(error) => warnings.push(format!("TensorBoard file not read: {error}")),
        }
    }
}

fn collect_tfevents(dir: &Path, depth: usize, files: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && depth < 3 {
            collect_tfevents(&path, depth + 1, files);
        } else if path
            .file_name()
            .and_then(|name| name.to_str())
            .is_some_and(|name| name.contains("tfevents"))
        {
            files.push(path);
        }
    }
}
