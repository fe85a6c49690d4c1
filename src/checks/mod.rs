//! Pre-train checks: everything that can be caught before a training run costs GPU time.
//! (a) syntax, (b)+(c) rules over the scripts' knobs, (d) a memory estimate, (e) the user's
//! own checks/pre_train_check.py, (f) an optional smoke run. A failure's message teaches.

pub mod gpu;
pub mod knobs;
pub mod script;
pub mod syntax;

use serde::Serialize;

use crate::project::{paths, Project};
use crate::python::{self, RuleOutcome, Severity};
use crate::refusal::Refusal;

/// One failed check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckFailure {
    /// syntax, rule:<name>, memory, rules.toml, pre_train_check.py, smoke
    pub check: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    pub failures: Vec<CheckFailure>,
    pub warnings: Vec<String>,
    /// How many rules ran (passed, failed or skipped by `when`).
    pub rules: usize,
    pub knobs: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_estimate_gb: Option<f64>,
}

impl CheckReport {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }

    /// The refusal that stops a run: every failure, one per line.
    pub fn refusal(&self) -> Option<Refusal> {
        (!self.passed()).then(|| {
            let lines: Vec<String> = self
                .failures
                .iter()
                .map(|failure| failure.message.clone())
                .collect();
            Refusal::new(format!(
                "pre-train checks failed (no training was started):\n{}",
                lines.join("\n")
            ))
        })
    }
}

/// Runs checks (a) to (e); the smoke run (f) is the pipeline's, as it starts the script.
pub fn pre_train(project: &Project) -> CheckReport {
    pre_train_with(
        project,
        syntax::SyntaxCheck::start(&project.work, &project.config.run.editable),
    )
}

/// As `pre_train`, with the syntax check already started.
pub fn pre_train_with(project: &Project, syntax_check: syntax::SyntaxCheck) -> CheckReport {
    let mut report = CheckReport::default();
    if let Err(refusal) = syntax_check.finish() {
        report.failures.push(CheckFailure {
            check: "syntax".into(),
            message: refusal.message,
        });
        // Rules over a file that does not parse would only add noise.
        return report;
    }
    let knobs = knobs::project_knobs(project);
    report.knobs = knobs.len();
    rules(project, &knobs, &mut report);
    if let Some(failure) = script::run_user_check(project) {
        report.failures.push(failure);
    }
    report
}

fn rules(project: &Project, knobs: &[python::Knob], report: &mut CheckReport) {
    let Ok(text) = std::fs::read_to_string(project.path(paths::RULES)) else {
        return;
    };
    let rule_set = match python::load_rule_set(&text, paths::RULES) {
        Ok(rule_set) => rule_set,
        Err(error) => {
            report.failures.push(CheckFailure {
                check: "rules.toml".into(),
                message: error.to_string(),
            });
            return;
        }
    };
    report.rules = rule_set.rules.len();
    for outcome in python::evaluate_rules(&rule_set.rules, knobs) {
        match outcome {
            RuleOutcome::Pass { .. } | RuleOutcome::Skipped { .. } => {}
            RuleOutcome::Fail {
                rule,
                message,
                severity: Severity::Warning,
                ..
            } => {
                report.warnings.push(format!("rule {rule}: {message}"));
            }
            RuleOutcome::Fail { rule, message, .. } => {
                report.failures.push(CheckFailure {
                    check: format!("rule:{rule}"),
                    message,
                });
            }
            RuleOutcome::ConfigError { rule, message } => {
                report.failures.push(CheckFailure {
                    check: format!("rule:{rule}"),
                    message,
                });
            }
        }
    }
    if let Some(memory) = &rule_set.memory {
        match gpu::check_memory(memory, knobs) {
            Ok(estimate) => {
                report.memory_estimate_gb = Some(estimate.estimate_gb);
                if let Some(message) = estimate.failure {
                    report.failures.push(CheckFailure {
                        check: "memory".into(),
                        message,
                    });
                }
                if let Some(note) = estimate.note {
                    report.warnings.push(note);
                }
            }
            Err(message) => report.failures.push(CheckFailure {
                check: "memory".into(),
                message,
            }),
        }
    }
}
