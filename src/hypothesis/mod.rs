//! Hypothesis entries in docs/hypotheses.md — "plan before you perturb": parsing what agents
//! write, validating it (citations must resolve), reading the predicted metric value, and the
//! append-only edits the harness makes (a new entry, a result, a learning, an abandonment).

mod citation;
mod edit;
mod entry;
mod labels;
mod lines;
mod parse;
mod prediction;
mod prediction_words;
mod reference;
mod template;
mod validate;

#[cfg(test)]
mod edit_tests;
#[cfg(test)]
mod parse_tests;
#[cfg(test)]
mod prediction_tests;
#[cfg(test)]
mod robustness_tests;
#[cfg(test)]
mod validate_tests;

pub use citation::{resolve_citations, Citation, CitationContext, Citations};
pub use edit::{append_entry, append_result, mark_abandoned, render_entry, set_learning};
pub use edit::{EditError, NewEntry};
pub use entry::{Entry, Field, HypothesisLog, Problem, ResultBlock, ResultStatus, HYPOTHESES_FILE};
pub use parse::parse;
pub use prediction::{extract_prediction, Prediction, PredictionKind};
pub use template::template;
pub use validate::{validate, Validation, ValidationContext};
