//! Diagnostics — "give the agent eyes": the events a training script logs (`DFH_EVENTS`), the
//! bounded curves and automatic flags kept in `metrics/<commit>.json`, the comparison `dfh diag N
//! --vs M` shows, and the import of TensorBoard event files.

pub mod compare;
pub mod downsample;
pub mod events;
pub mod flags;
mod gradients;
pub mod metrics;
pub mod number;
mod protobuf;
pub mod render;
pub mod tfrecord;

pub use compare::{compare, Comparison};
pub use downsample::{downsample, Point, Series, SeriesAccumulator, MAX_POINTS};
pub use events::{ingest_events, EventData, EventStats, IngestError};
pub use flags::{compute_flags, BestRun, Flag, FlagKind};
pub use metrics::{build_metrics_doc, Harness, MetricInfo, MetricsDoc, MetricsInput};
pub use render::render_comparison_text;
pub use tfrecord::{read_tfevents, read_tfevents_from, ScalarEvent, TfEvents, TfRecordError};

/// The helper a training script imports (`import dfh_diag as dfh`); `dfh init` writes it into
/// the project.
pub const DFH_DIAG_PY: &str = include_str!("../../assets/dfh_diag.py");

#[cfg(test)]
mod tests {
    //! Runs the real `dfh_diag.py` in a python3 child, as a training script would.

    use super::events::ingest_events;
    use std::path::Path;
    use std::process::{Command, Output};

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    const TRAIN: &str = r#"
import sys
import dfh_diag as dfh
run = dfh.Run()
run.section("energy_calibration", {"separation": 0.42, "collapsed": float("nan")})
for step in range(100):
    run.log(step, task_loss=1.0 / (step + 1), energy_loss=float("inf") if step == 7 else 0.5)
    dfh.log(step, {"gradient_norms/backbone": 0.25})
    if step == 50 and len(sys.argv) > 1:
        raise RuntimeError("boom at step 50")
run.eval({"pass@1": 0.15})
run.summary(val_bpb=0.9979, num_steps=100)
"#;

    /// A fake `torch` with just what `grad_norms` calls, so the norm arithmetic is tested
    /// without PyTorch installed.
    const FAKE_TORCH: &str = r#"
import math
class Tensor:
    def __init__(self, values): self.values, self.device = list(values), "cpu"
    def detach(self): return self
    def float(self): return self
    def to(self, device): return self
    def __float__(self): return self.values[0]
class linalg:
    @staticmethod
    def vector_norm(tensor): return Tensor([math.sqrt(sum(v * v for v in tensor.values))])
def stack(tensors): return Tensor([float(t) for t in tensors])
"#;

    const GRADIENTS: &str = r#"
import dfh_diag as dfh, torch
class Parameter:
    def __init__(self, grad): self.grad = grad
class Module:
    def __init__(self, *grads): self._parameters = [Parameter(g) for g in grads]
    def parameters(self): return iter(self._parameters)
backbone = Module(torch.Tensor([3.0, 4.0]), torch.Tensor([12.0]))
frozen = Module(None)
print(dfh.grad_norms(5, groups={"backbone": backbone, "frozen": frozen}))
"#;

    fn python(
        directory: &Path,
        script: &str,
        env: &[(&str, &Path)],
        smoke: bool,
    ) -> std::io::Result<Output> {
        std::fs::write(directory.join("dfh_diag.py"), super::DFH_DIAG_PY)?;
        std::fs::write(directory.join("train.py"), script)?;
        let mut command = Command::new("python3");
        command
            .arg("train.py")
            .current_dir(directory)
            .env_remove("DFH_EVENTS")
            .env_remove("DFH_SMOKE")
            .env("PYTHONDONTWRITEBYTECODE", "1");
        for (key, value) in env {
            command.env(key, value);
        }
        if smoke {
            command.env("DFH_SMOKE", "1");
        }
        command.output()
    }

    fn steps_of(
        path: &Path,
        section: &str,
        name: &str,
    ) -> Result<Vec<u64>, Box<dyn std::error::Error>> {
        let data = ingest_events(path)?;
        Ok(data
            .series
            .get(section)
            .and_then(|named| named.get(name))
            .map(|series| series.steps.clone())
            .unwrap_or_default())
    }

    #[test]
    fn a_crash_keeps_every_event_logged_before_it() -> TestResult {
        let directory = tempfile::tempdir()?;
        let events = directory.path().join("events.jsonl");
        let script = TRAIN.replace("len(sys.argv) > 1", "True");
        let output = python(directory.path(), &script, &[("DFH_EVENTS", &events)], false)?;
        assert!(!output.status.success());
        assert!(String::from_utf8_lossy(&output.stderr).contains("boom at step 50"));
        let data = ingest_events(&events)?;
        assert_eq!(data.stats.skipped_lines, 0);
        let loss = &data.series["training_curves"]["task_loss"];
        assert_eq!(loss.steps, (0..=50).collect::<Vec<u64>>());
        assert_eq!(
            steps_of(&events, "gradient_norms", "backbone")?,
            (0..=50).collect::<Vec<u64>>()
        );
        let energy = &data.series["training_curves"]["energy_loss"];
        assert_eq!(energy.non_finite.map(|record| record.first_step), Some(7));
        assert!(energy.values[7].is_infinite());
        let calibration = &data.sections["energy_calibration"];
        assert_eq!(calibration["collapsed"], serde_json::json!("nan"));
        assert!(!data.sections.contains_key("eval"));
        Ok(())
    }

    #[test]
    fn a_full_run_logs_eval_and_prints_the_summary_block() -> TestResult {
        let directory = tempfile::tempdir()?;
        let events = directory.path().join("logs/events.jsonl");
        let output = python(directory.path(), TRAIN, &[("DFH_EVENTS", &events)], false)?;
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            stdout,
            "---\nval_bpb:          0.997900\nnum_steps:        100\n"
        );
        let data = ingest_events(&events)?;
        assert_eq!(data.sections["eval"]["pass@1"], serde_json::json!(0.15));
        assert_eq!(
            data.series["training_curves"]["task_loss"].original_count,
            100
        );
        Ok(())
    }

    #[test]
    fn smoke_mode_stops_after_the_first_step() -> TestResult {
        let directory = tempfile::tempdir()?;
        let events = directory.path().join("events.jsonl");
        let output = python(directory.path(), TRAIN, &[("DFH_EVENTS", &events)], true)?;
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(output.stdout, b"");
        assert_eq!(steps_of(&events, "training_curves", "task_loss")?, vec![0]);
        assert_eq!(
            steps_of(&events, "gradient_norms", "backbone")?,
            Vec::<u64>::new()
        );
        Ok(())
    }

    #[test]
    fn without_dfh_events_the_script_runs_and_writes_nothing() -> TestResult {
        let directory = tempfile::tempdir()?;
        let output = python(directory.path(), TRAIN, &[], false)?;
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let mut files: Vec<String> = std::fs::read_dir(directory.path())?
            .map(|entry| entry.map(|entry| entry.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()?;
        files.sort();
        assert_eq!(files, vec!["dfh_diag.py", "train.py"]);
        Ok(())
    }

    #[test]
    fn grad_norms_are_l2_norms_per_group_and_need_torch() -> TestResult {
        let directory = tempfile::tempdir()?;
        let events = directory.path().join("events.jsonl");
        // `sys.modules["torch"] = None` makes `import torch` fail even where PyTorch is installed.
        let without_torch = "import sys\nsys.modules['torch'] = None\nimport dfh_diag as dfh\n\
                             dfh.grad_norms(0, None, {'head': []})\n";
        let output = python(
            directory.path(),
            without_torch,
            &[("DFH_EVENTS", &events)],
            false,
        )?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("grad_norms needs PyTorch"), "{stderr}");
        std::fs::write(directory.path().join("torch.py"), FAKE_TORCH)?;
        let output = python(
            directory.path(),
            GRADIENTS,
            &[("DFH_EVENTS", &events)],
            false,
        )?;
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&output.stdout),
            "{'backbone': 13.0, 'frozen': 0.0}\n"
        );
        let data = ingest_events(&events)?;
        assert_eq!(data.series["gradient_norms"]["backbone"].values, vec![13.0]);
        assert_eq!(data.series["gradient_norms"]["frozen"].steps, vec![5]);
        Ok(())
    }
}
