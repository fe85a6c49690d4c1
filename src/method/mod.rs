//! Plan before you perturb: hypotheses are written, validated and recorded before any run.

pub mod planning;
