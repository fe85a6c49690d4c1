//! Python without a Python interpreter: the knobs (tunable constants) of a training script,
//! the code regions a diff touches, and the safe expression language of checks/rules.toml.
//! Pure Rust over any text: bad input gives fewer results or a typed error, never a panic.

mod builtins;
mod diff;
mod eval;
pub mod expr;
mod flags;
pub mod knobs;
mod lexer;
mod literals;
mod outcomes;
mod parser;
pub mod regions;
pub mod rules;
mod statements;
mod suggest;
pub mod template;
pub mod value;

#[cfg(test)]
mod robustness_tests;

pub use diff::{changed_lines_from_diff, old_text, OldText};
pub use expr::{ExprError, Expression, ALLOWED_FUNCTIONS};
pub use flags::apply_command_flags;
pub use knobs::{parse_knobs, Knob, KnobKind};
pub use regions::{regions_touched, scan_regions, Region, RegionKind, MODULE_REGION};
pub use rules::{
    evaluate_expr_text, evaluate_rules, load_rule_set, load_rules, BadExpression, MemoryEstimate,
    Rule, RuleOutcome, RuleSet, RulesError, Severity,
};
pub use template::MessageTemplate;
pub use value::Value;
