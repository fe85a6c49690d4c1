//! The text of `dfh diag N --vs M`: a comparison in a few dozen lines an agent can paste into
//! its context; longer lists are cut with a pointer to `--json`.

use super::compare::{Comparison, NormRange, RunHeader, SeriesSummary};
use super::flags::{display_name, Flag};
use super::metrics::Goal;
use super::number::short;
use std::fmt::Write;

// Row caps that keep a comparison within about 40 lines.
const MAX_SERIES_ROWS: usize = 12;
const MAX_GROUP_ROWS: usize = 6;
const MAX_VALUE_ROWS: usize = 8;
const MAX_FLAG_ROWS: usize = 5;

/// The comparison as a few dozen lines of plain text.
pub fn render_comparison_text(comparison: &Comparison) -> String {
    let mut text = String::new();
    let this = &comparison.this;
    let other = comparison.other.as_ref();
    let _ = writeln!(text, "{}", run_line(this));
    if let Some(other) = other {
        let _ = writeln!(text, "vs {}", run_line(other));
    }
    let columns = |label: &str| match other {
        Some(other) => format!(
            "{label:<28} {:<24} #{}",
            format!("#{}", this.experiment),
            other.experiment
        ),
        None => label.to_string(),
    };
    let name_width = 28;
    if !comparison.series.is_empty() {
        let _ = writeln!(text, "\n{}", columns("series: final min trend"));
        for row in comparison.series.iter().take(MAX_SERIES_ROWS) {
            let name = match row.name.split_once('/') {
                Some((section, name)) => display_name(section, name),
                None => row.name.clone(),
            };
            let mut line = format!("{name:<name_width$} {:<24}", series_cell(row.this.as_ref()));
            if other.is_some() {
                line.push(' ');
                line.push_str(&series_cell(row.other.as_ref()));
            }
            let _ = writeln!(text, "{}", line.trim_end());
        }
        more(
            &mut text,
            comparison.series.len(),
            MAX_SERIES_ROWS,
            "series",
        );
    }
    if !comparison.gradient_norms.is_empty() {
        let _ = writeln!(text, "\n{}", columns("gradient norms: min..max final"));
        for row in comparison.gradient_norms.iter().take(MAX_GROUP_ROWS) {
            let mut line = format!("{:<name_width$} {:<24}", row.group, norm_cell(row.this));
            if other.is_some() {
                line.push(' ');
                line.push_str(&norm_cell(row.other));
            }
            let _ = writeln!(text, "{}", line.trim_end());
        }
        more(
            &mut text,
            comparison.gradient_norms.len(),
            MAX_GROUP_ROWS,
            "groups",
        );
    }
    if !comparison.values.is_empty() {
        let _ = writeln!(text, "\n{}", columns("values"));
        for row in comparison.values.iter().take(MAX_VALUE_ROWS) {
            let mut line = format!(
                "{:<name_width$} {:<24}",
                row.name,
                value_cell(row.this.as_ref())
            );
            if other.is_some() {
                line.push(' ');
                line.push_str(&value_cell(row.other.as_ref()));
            }
            let _ = writeln!(text, "{}", line.trim_end());
        }
        more(&mut text, comparison.values.len(), MAX_VALUE_ROWS, "values");
    }
    flag_lines(&mut text, this.experiment, &comparison.flags);
    if let Some(other) = other {
        flag_lines(&mut text, other.experiment, &comparison.other_flags);
    }
    text
}

fn run_line(header: &RunHeader) -> String {
    let value = header.metric_value.map_or("none".to_string(), short);
    let goal = match header.goal {
        Goal::Minimize => "lower is better",
        Goal::Maximize => "higher is better",
    };
    format!(
        "#{} {} {}: {} {value} ({goal}), {:.0} s",
        header.experiment, header.commit, header.status, header.metric_name, header.wall_seconds
    )
}

fn series_cell(summary: Option<&SeriesSummary>) -> String {
    match summary {
        Some(summary) => format!(
            "{} {} {}",
            short(summary.final_value),
            short(summary.min),
            summary.trend.word()
        ),
        None => "absent".to_string(),
    }
}

fn norm_cell(range: Option<NormRange>) -> String {
    match range {
        Some(range) => format!(
            "{}..{} {}",
            short(range.min),
            short(range.max),
            short(range.final_value)
        ),
        None => "absent".to_string(),
    }
}

fn value_cell(value: Option<&serde_json::Value>) -> String {
    match value {
        None => "absent".to_string(),
        Some(serde_json::Value::Number(number)) => {
            number.as_f64().map_or(number.to_string(), short)
        }
        Some(serde_json::Value::String(text)) => text.chars().take(24).collect(),
        Some(other) => other.to_string().chars().take(24).collect(),
    }
}

fn flag_lines(text: &mut String, experiment: u32, flags: &[Flag]) {
    if flags.is_empty() {
        let _ = writeln!(text, "\nflags #{experiment}: none");
        return;
    }
    let _ = writeln!(text, "\nflags #{experiment}:");
    for flag in flags.iter().take(MAX_FLAG_ROWS) {
        let _ = writeln!(text, "- {}", flag.message);
    }
    more(text, flags.len(), MAX_FLAG_ROWS, "flags");
}

fn more(text: &mut String, total: usize, shown: usize, what: &str) {
    if total > shown {
        let _ = writeln!(text, "... {} more {what} (see --json)", total - shown);
    }
}

#[cfg(test)]
mod tests {
    use super::super::compare::compare;
    use super::super::metrics::tests::{document, EVENTS};
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn long_run(final_energy: f64) -> String {
        let mut text = String::new();
        for step in 0..500u64 {
            let loss = 1.0 + 2.0 * (-(step as f64) / 100.0).exp();
            let energy = if step < 200 {
                3.0 - step as f64 / 100.0
            } else {
                final_energy
            };
            let norm = if step == 300 {
                80.0
            } else {
                2.0 + (step % 5) as f64 * 0.1
            };
            let _ = writeln!(
                text,
                "{{\"series\": \"task_loss\", \"step\": {step}, \"value\": {loss}}}\n\
                 {{\"series\": \"energy_loss\", \"step\": {step}, \"value\": {energy}}}\n\
                 {{\"series\": \"gradient_norms/backbone\", \"step\": {step}, \"value\": {norm}}}"
            );
        }
        text.push_str(
            "{\"section\": \"eval\", \"values\": {\"pass@1\": 0.15, \"pass@10\": 0.31}}\n",
        );
        text
    }

    #[test]
    fn the_comparison_text_sets_two_runs_side_by_side() -> TestResult {
        let best = document(7, &long_run(0.5), None)?;
        let mut this = document(12, &long_run(1.0), Some(&best))?;
        this.metric.value = Some(0.9871);
        let comparison = compare(&this, Some(&best));
        let text = render_comparison_text(&comparison);
        let expected = "\
#12 abc0012 keep: val_bpb 0.9871 (lower is better), 302 s
vs #7 abc0007 keep: val_bpb nan (lower is better), 302 s

series: final min trend      #12                      #7
energy_loss                  1 1 flat                 0.5 0.5 flat
task_loss                    1.014 1.014 falling      1.014 1.014 falling

gradient norms: min..max final #12                      #7
backbone                     2..80 2.4                2..80 2.4

values                       #12                      #7
eval/pass@1                  0.15                     0.15
eval/pass@10                 0.31                     0.31

flags #12:
- the metric val_bpb is nan
- energy_loss flat after step 200 (moved 1.57 before, 0 after)
- gradient norm of backbone spiked to 80 at step 300, 36x its running median 2.2

flags #7:
- the metric val_bpb is nan
- energy_loss flat after step 200 (moved 2.07 before, 0 after)
- gradient norm of backbone spiked to 80 at step 300, 36x its running median 2.2
";
        assert_eq!(text, expected);
        assert!(text.lines().count() <= 40);
        let json = serde_json::to_value(&comparison)?;
        assert_eq!(json["other"]["metric_value"], serde_json::json!("nan"));
        assert_eq!(
            json["series"][1]["this"]["trend"],
            serde_json::json!("falling")
        );
        Ok(())
    }

    #[test]
    fn a_single_run_renders_alone_and_shows_absent_series() -> TestResult {
        let this = document(3, EVENTS, None)?;
        let text = render_comparison_text(&compare(&this, None));
        assert!(text.starts_with("#3 abc0003 keep: val_bpb nan (lower is better), 302 s\n"));
        assert!(
            text.contains("\ntask_loss                    nan 2 -\n"),
            "{text}"
        );
        assert!(
            text.contains("energy_calibration/stopping_accuracy 0.8"),
            "{text}"
        );
        assert!(text.contains("- task_loss is NaN from step 2\n"), "{text}");
        Ok(())
    }
}
