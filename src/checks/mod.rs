//! Pre-train checks: everything that can be caught before a training run costs GPU time.

pub mod syntax;
