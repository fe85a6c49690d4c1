//! Tool mode's agent integration: wiring a coding agent to the harness (instruction file,
//! MCP registration, hooks) and the guard its edit hook runs.

pub mod guard;
pub mod integration;
mod ordered_json;
