//! dfh.toml: typed configuration, resolved once before a command runs.
//!
//! Every section and key is declared here with `deny_unknown_fields`, so a typo is an error
//! that names the key and its line instead of a silently ignored setting.

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The file name of the configuration at the project root.
pub const FILE_NAME: &str = "dfh.toml";

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub run: RunConfig,
    pub metric: MetricConfig,
    pub distill: DistillConfig,
    pub brief: BriefConfig,
    pub agent: AgentConfig,
    pub executor: ExecutorConfig,
    pub diagnostics: DiagnosticsConfig,
    pub checks: ChecksConfig,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    pub command: String,
    pub budget: String,
    pub timeout: String,
    pub editable: Vec<String>,
    pub readonly: Vec<String>,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            command: "python3 train.py".into(),
            budget: "5m".into(),
            timeout: "10m".into(),
            editable: vec!["train.py".into()],
            readonly: vec!["prepare.py".into()],
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Goal {
    Minimize,
    Maximize,
}

impl Goal {
    /// True when `candidate` is better than `reference` under this goal.
    pub fn better(self, candidate: f64, reference: f64) -> bool {
        match self {
            Goal::Minimize => candidate < reference,
            Goal::Maximize => candidate > reference,
        }
    }

    /// The gain of `candidate` over `reference`: positive when it is better.
    pub fn gain(self, candidate: f64, reference: f64) -> f64 {
        match self {
            Goal::Minimize => reference - candidate,
            Goal::Maximize => candidate - reference,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Goal::Minimize => "minimize",
            Goal::Maximize => "maximize",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricConfig {
    pub name: String,
    pub goal: Goal,
    /// A regex with one capture group; built from `name` when empty.
    pub pattern: String,
    pub min_delta: f64,
    pub repeats: u32,
    pub noise_k: f64,
    pub confirm: bool,
    /// When the best has moved this many σ from where the noise floor was measured, dfh asks
    /// for `dfh noise` on the new best before the next plan (0 never asks).
    pub rebaseline: f64,
}

impl Default for MetricConfig {
    fn default() -> Self {
        Self {
            name: "val_bpb".into(),
            goal: Goal::Minimize,
            pattern: String::new(),
            min_delta: 0.0,
            repeats: 3,
            noise_k: 2.0,
            confirm: true,
            rebaseline: 10.0,
        }
    }
}

impl MetricConfig {
    /// The pattern in force: the configured one, or `^name:\s*(number)` built from the name.
    pub fn effective_pattern(&self) -> String {
        if self.pattern.is_empty() {
            default_pattern(&self.name)
        } else {
            self.pattern.clone()
        }
    }
}

/// The pattern that reads `name: value` at the start of a line.
pub fn default_pattern(name: &str) -> String {
    format!(r"^{}:\s*([-+0-9.eE]+|nan|inf|-inf)", regex::escape(name))
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DistillConfig {
    pub every: u32,
}

impl Default for DistillConfig {
    fn default() -> Self {
        Self { every: 10 }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct BriefConfig {
    pub tokens: usize,
}

impl Default for BriefConfig {
    fn default() -> Self {
        Self { tokens: 1500 }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AgentConfig {
    pub command: String,
    pub preset: String,
    /// Longest an agent step may take, e.g. "20m".
    pub timeout: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    #[default]
    Local,
    Slurm,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExecutorConfig {
    pub kind: ExecutorKind,
    pub partition: String,
    pub gres: String,
    pub time: String,
    pub sbatch_args: Vec<String>,
    /// GPU ids per lane, e.g. ["0", "1"] or ["0,1", "2,3"].
    pub gpus: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiagnosticsConfig {
    /// A directory of TensorBoard event files whose scalars become training curves.
    pub tensorboard: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct ChecksConfig {
    /// Run the training command with DFH_SMOKE=1 before the real run.
    pub smoke: bool,
    pub smoke_timeout: String,
    pub script_timeout: String,
}

impl Default for ChecksConfig {
    fn default() -> Self {
        Self {
            smoke: false,
            smoke_timeout: "2m".into(),
            script_timeout: "60s".into(),
        }
    }
}

/// A dfh.toml that cannot be used, with the place and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Invalid {
        path: String,
        line: usize,
        message: String,
    },
}

impl Config {
    /// Reads and validates `dfh.toml` at `path`.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text, &path.display().to_string())
    }

    /// Parses the text of a dfh.toml; `label` names the file in errors.
    pub fn parse(text: &str, label: &str) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|error| {
            let line = error
                .span()
                .map(|span| line_of(text, span.start))
                .unwrap_or(1);
            ConfigError::Invalid {
                path: label.into(),
                line,
                message: name_the_key(text, line, explain_toml_error(error.message())),
            }
        })?;
        config.validate(text, label)?;
        Ok(config)
    }

    fn validate(&self, text: &str, label: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, message: String| ConfigError::Invalid {
            path: label.into(),
            line: key_line(text, key),
            message,
        };
        for (key, value) in [("budget", &self.run.budget), ("timeout", &self.run.timeout)] {
            parse_duration(value)
                .map_err(|message| invalid(key, format!("[run] {key}: {message}")))?;
        }
        if self.run.command.trim().is_empty() {
            return Err(invalid(
                "command",
                "[run] command is empty; set it to the training command, e.g. command = \"python3 train.py\"".into(),
            ));
        }
        if self.run.editable.is_empty() {
            return Err(invalid(
                "editable",
                "[run] editable is empty; list the files an experiment may change, e.g. editable = [\"train.py\"]".into(),
            ));
        }
        if self.metric.name.trim().is_empty() {
            return Err(invalid(
                "name",
                "[metric] name is empty; set it, e.g. name = \"val_bpb\"".into(),
            ));
        }
        let pattern = self.metric.effective_pattern();
        match regex::Regex::new(&pattern) {
            Ok(compiled) if compiled.captures_len() == 2 => {}
            Ok(_) => {
                return Err(invalid(
                    "pattern",
                    format!("[metric] pattern `{pattern}` must have exactly one capture group around the number, e.g. '^val_bpb:\\s*([-+0-9.eE]+)'"),
                ))
            }
            Err(error) => {
                return Err(invalid("pattern", format!("[metric] pattern is not a valid regex: {error}")))
            }
        }
        if self.metric.repeats == 0 {
            return Err(invalid(
                "repeats",
                "[metric] repeats must be at least 1".into(),
            ));
        }
        if self.distill.every == 0 {
            return Err(invalid(
                "every",
                "[distill] every must be at least 1".into(),
            ));
        }
        Ok(())
    }

    pub fn budget(&self) -> Duration {
        parse_duration(&self.run.budget).unwrap_or(Duration::from_secs(300))
    }

    pub fn timeout(&self) -> Duration {
        parse_duration(&self.run.timeout).unwrap_or(Duration::from_secs(600))
    }
}

/// The longest budget or timeout accepted: a year. Longer ones are typos, and would overflow
/// the deadline arithmetic of the executors.
pub const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Parses "5m", "300s", "1h 30m" or a bare number of seconds, at most [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let trimmed = text.trim();
    let parsed = match trimmed.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds >= 0.0 => {
            Duration::try_from_secs_f64(seconds).unwrap_or(Duration::MAX)
        }
        _ => humantime::parse_duration(trimmed).map_err(|error| {
            format!("`{text}` is not a duration ({error}); write e.g. \"5m\", \"300s\" or \"1h\"")
        })?,
    };
    if parsed > MAX_DURATION {
        return Err(format!(
            "`{text}` is longer than a year; write e.g. \"5m\", \"300s\" or \"1h\""
        ));
    }
    Ok(parsed)
}

/// The 1-based line of a byte offset.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&byte| byte == b'\n')
        .count()
        + 1
}

/// The line where `key = ...` is first set, or 1.
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            line.strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|index| index + 1)
        .unwrap_or(1)
}

/// Puts the key of the offending line in front of a message that does not name it (a wrong
/// type: "invalid type: integer `5`, expected a string" becomes "`budget`: invalid type...").
fn name_the_key(text: &str, line: usize, message: String) -> String {
    let key = text
        .lines()
        .nth(line.saturating_sub(1))
        .and_then(|line| line.split_once('='))
        .map(|(key, _)| key.trim())
        .filter(|key| !key.is_empty() && !key.starts_with('[') && !key.starts_with('#'));
    match key {
        Some(key) if !message.contains(&format!("`{key}`")) => format!("`{key}`: {message}"),
        _ => message,
    }
}

fn explain_toml_error(message: &str) -> String {
    let message = message.trim();
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((field, expected)) = rest.split_once('`') {
            let expected = expected.trim_start_matches(", expected ").replace('`', "");
            return format!("unknown key `{field}`; the keys here are {expected}. Fix the spelling or remove it.");
        }
    }
    format!("{message}. See the README's dfh.toml section for the keys and their types.")
}

/// The default dfh.toml text written by `dfh init`, with the detected values.
pub fn render_default(run: &RunConfig, metric: &MetricConfig) -> String {
    let quote_list = |items: &[String]| {
        items
            .iter()
            .map(|item| toml_string(item))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let pattern_line = if metric.pattern.is_empty() {
        format!(
            "# pattern = '{}'   # default, built from name",
            default_pattern(&metric.name)
        )
    } else {
        format!("pattern = {}", toml_string(&metric.pattern))
    };
    include_str!("../assets/templates/dfh.toml")
        .replace("{command}", &toml_string(&run.command))
        .replace("{editable}", &quote_list(&run.editable))
        .replace("{readonly}", &quote_list(&run.readonly))
        .replace("{metric}", &toml_string(&metric.name))
        .replace("{goal}", metric.goal.as_str())
        .replace("{pattern_line}", &pattern_line)
}

fn toml_string(value: &str) -> String {
    toml::Value::String(value.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_design() {
        let config = Config::parse("", "dfh.toml").unwrap();
        assert_eq!(config.run.command, "python3 train.py");
        assert_eq!(config.budget(), Duration::from_secs(300));
        assert_eq!(config.timeout(), Duration::from_secs(600));
        assert_eq!(config.metric.goal, Goal::Minimize);
        assert_eq!(config.metric.repeats, 3);
        assert_eq!(config.distill.every, 10);
        assert_eq!(config.brief.tokens, 1500);
    }

    /// Found by the `config` fuzz target: a bare number too large for a `Duration` panicked.
    #[test]
    fn huge_durations_are_refused_not_a_panic() {
        let error = Config::parse("[run]\nbudget = \"22222222111111111161\"\n", "dfh.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("dfh.toml:2"), "{error}");
        assert!(error.contains("longer than a year"), "{error}");
        for text in ["1e300", "1e19", "99999999999h", "400 days"] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
        assert_eq!(parse_duration("366 days"), Ok(MAX_DURATION));
        assert_eq!(parse_duration("1h 30m"), Ok(Duration::from_secs(5400)));
    }

    #[test]
    fn unknown_key_is_named_with_its_line() {
        let error =
            Config::parse("[run]\nbudget = \"5m\"\ncomand = \"x\"\n", "dfh.toml").unwrap_err();
        let text = error.to_string();
        assert!(
            text.starts_with("dfh.toml:3: unknown key `comand`"),
            "{text}"
        );
        assert!(text.contains("command"), "{text}");
    }

    #[test]
    fn wrong_type_is_named_with_its_line() {
        let error = Config::parse(
            "[metric]\nname = \"loss\"\nrepeats = \"three\"\n",
            "dfh.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(error.starts_with("dfh.toml:3:"), "{error}");
    }

    #[test]
    fn bad_duration_and_pattern_are_refused() {
        let error = Config::parse("[run]\n\ntimeout = \"ten minutes\"\n", "dfh.toml").unwrap_err();
        assert!(
            error.to_string().starts_with("dfh.toml:3: [run] timeout:"),
            "{error}"
        );
        let error = Config::parse("[metric]\npattern = 'loss: [0-9.]+'\n", "dfh.toml").unwrap_err();
        assert!(
            error.to_string().contains("exactly one capture group"),
            "{error}"
        );
    }

    #[test]
    fn rendered_default_parses_back() {
        let run = RunConfig {
            command: "uv run train.py".into(),
            ..RunConfig::default()
        };
        let metric = MetricConfig {
            name: "val_loss".into(),
            ..MetricConfig::default()
        };
        let text = render_default(&run, &metric);
        let config = Config::parse(&text, "dfh.toml").unwrap();
        assert_eq!(config.run.command, "uv run train.py");
        assert_eq!(config.metric.name, "val_loss");
    }

    #[test]
    fn goal_compares_both_ways() {
        assert!(Goal::Minimize.better(0.9, 1.0));
        assert!(Goal::Maximize.better(1.0, 0.9));
        assert!((Goal::Minimize.gain(0.9, 1.0) - 0.1).abs() < 1e-12);
    }
}
