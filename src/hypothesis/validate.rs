//! Validates one entry before its experiment may run: the required fields are there and filled,
//! `Inspired by` cites something that resolves, and the expected outcome states a value of the
//! metric (a warning when not: calibration then skips the experiment).

use serde::Serialize;

use super::citation::{resolve_citations, Citation, CitationContext};
use super::entry::{Entry, Field, Problem};
use super::prediction::{extract_prediction, find_statement, Prediction, Statement};
use super::template::{filled_template, holds_placeholder, Filled};

/// Everything validation needs besides the entry.
#[derive(Debug, Clone)]
pub struct ValidationContext {
    pub citations: CitationContext,
    /// The metric name from dfh.toml (`val_bpb`).
    pub metric: String,
    pub goal_minimize: bool,
    /// Best value so far; `None` before the baseline.
    pub best: Option<f64>,
}

/// Errors refuse the entry; warnings are shown and let it pass. `citations` and `prediction`
/// are what resolved, for the journal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Validation {
    pub errors: Vec<Problem>,
    pub warnings: Vec<Problem>,
    pub citations: Vec<Citation>,
    pub prediction: Option<Prediction>,
}

impl Validation {
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

struct Required<'entry> {
    name: &'static str,
    field: &'entry Option<Field>,
    example: String,
}

pub fn validate(entry: &Entry, context: &ValidationContext) -> Validation {
    let mut validation = Validation {
        errors: entry.problems.clone(),
        warnings: Vec::new(),
        citations: Vec::new(),
        prediction: None,
    };
    let number = entry.number;
    let metric = context.metric.as_str();
    if entry.title.trim().is_empty() || holds_placeholder(&entry.title) {
        validation.errors.push(Problem::new(
            entry.line,
            format!(
                "the heading of Experiment {number} has no title. Name the change after a dash: \
                 `## Experiment {number} — Deeper energy head`; it becomes the commit message \
                 `exp {number}: <title>`."
            ),
        ));
    }
    let required = [
        Required {
            name: "Hypothesis",
            field: &entry.hypothesis,
            example: "A 2-layer energy head may model the energy landscape better.".to_string(),
        },
        Required {
            name: "Expected outcome",
            field: &entry.expected,
            example: format!("{metric} ~0.985"),
        },
        Required {
            name: "Inspired by",
            field: &entry.inspired_by,
            example: "docs/papers/energy_transformer.md; Experiment 9".to_string(),
        },
    ];
    let mut template_shown = false;
    for Required {
        name,
        field,
        example,
    } in &required
    {
        let problem = match field {
            None => {
                let mut message = format!(
                    "Experiment {number} has no `{name}:` line. Add it under the heading, e.g. \
                     `{name}: {example}`."
                );
                if !template_shown {
                    template_shown = true;
                    message.push_str(" The entry with every field:\n");
                    message.push_str(&filled_template(number, metric, &filled(entry)));
                }
                Problem::new(entry.line, message)
            }
            Some(field) if field.text.trim().is_empty() => Problem::new(
                field.line,
                format!(
                    "`{name}:` of Experiment {number} is empty. Write it on the same line, e.g. \
                     `{name}: {example}`."
                ),
            ),
            Some(field) if holds_placeholder(&field.text) => Problem::new(
                field.line,
                format!(
                    "`{name}:` of Experiment {number} still holds the template's placeholder. \
                     Replace it with your own text, e.g. `{name}: {example}`."
                ),
            ),
            Some(_) => continue,
        };
        validation.errors.push(problem);
    }
    if let Some(inspired) = usable(&entry.inspired_by) {
        let citations = resolve_citations(&inspired.text, inspired.line, &context.citations);
        validation.errors.extend(citations.errors);
        validation.citations = citations.resolved;
    }
    recommend(&mut validation, entry);
    if let Some(expected) = usable(&entry.expected) {
        predict(&mut validation, expected, context);
    }
    validation
}

fn usable(field: &Option<Field>) -> Option<&Field> {
    field
        .as_ref()
        .filter(|field| !field.text.trim().is_empty() && !holds_placeholder(&field.text))
}

fn filled(entry: &Entry) -> Filled<'_> {
    fn text(field: &Option<Field>) -> Option<&str> {
        usable(field).map(|field| field.text.as_str())
    }
    Filled {
        title: Some(entry.title.as_str()).filter(|title| !holds_placeholder(title)),
        hypothesis: text(&entry.hypothesis),
        expected: text(&entry.expected),
        inspired_by: text(&entry.inspired_by),
        risk: text(&entry.risk),
        direction: text(&entry.direction),
    }
}

fn recommend(validation: &mut Validation, entry: &Entry) {
    let number = entry.number;
    if usable(&entry.risk).is_none() {
        let line = entry.risk.as_ref().map_or(entry.line, |field| field.line);
        validation.warnings.push(Problem::new(
            line,
            format!(
                "Experiment {number} states no `Risk:`. Name what could go wrong, e.g. `Risk: \
                 More parameters may slow convergence within the budget.`; a stated risk makes \
                 a failure informative."
            ),
        ));
    }
    if usable(&entry.direction).is_none() {
        let line = entry
            .direction
            .as_ref()
            .map_or(entry.line, |field| field.line);
        validation.warnings.push(Problem::new(
            line,
            format!(
                "Experiment {number} states no `Direction:`. Add a short slug, e.g. \
                 `Direction: energy-head`: distillation ranks directions by how often they paid \
                 off."
            ),
        ));
    }
}

fn predict(validation: &mut Validation, expected: &Field, context: &ValidationContext) {
    let metric = context.metric.as_str();
    validation.prediction =
        extract_prediction(&expected.text, metric, context.best, context.goal_minimize);
    if validation.prediction.is_some() {
        return;
    }
    let states_change = matches!(
        find_statement(&expected.text, metric),
        Some(Statement::Change { .. })
    );
    let message = if states_change {
        format!(
            "Expected outcome states a change but no best {metric} is recorded yet, so there is \
             nothing to apply it to: calibration will skip this experiment. Write the value \
             itself, e.g. `{metric} ~0.985`."
        )
    } else {
        let best = context
            .best
            .map(|best| format!(" (the best so far is {best})"))
            .unwrap_or_default();
        format!(
            "Expected outcome states no value of {metric}: calibration will skip this \
             experiment. Write e.g. `{metric} ~0.985`{best}."
        )
    };
    validation
        .warnings
        .push(Problem::new(expected.line, message));
}
