//! When a distillation is due, and the refusal that `dfh plan` and `dfh run` give until it
//! is done.

use crate::journal::State;
use crate::refusal::Refusal;

use super::strategy::AGENT_SECTIONS;

/// Refuses `command` while a distillation is due: `every` experiments finished since the
/// last one. The message says exactly what to do.
pub fn refuse_if_due(state: &State, every: u32, command: &str) -> Result<(), Refusal> {
    if !state.distill_due(every) {
        return Ok(());
    }
    let sections = AGENT_SECTIONS
        .iter()
        .map(|section| format!("## {section}"))
        .collect::<Vec<_>>()
        .join(", ");
    let finished = state.finished_since_distill();
    let first = state.last_distilled_after + 1;
    let last = state
        .finished()
        .next_back()
        .map_or(first, |experiment| experiment.number);
    let step = match &state.distill_open {
        Some(opened) => format!(
            "A distillation is open since {}: update {sections} in docs/strategy.md (outside the dfh:auto markers) from the figures `dfh distill` wrote, then run `dfh distill --done`",
            opened.at
        ),
        None => format!(
            "Run `dfh distill`, update {sections} in docs/strategy.md from the figures it prints, then run `dfh distill --done`"
        ),
    };
    Err(Refusal::new(format!(
        "`{command}` waits for a distillation: {finished} experiments (#{first}–#{last}) finished since the last one (dfh.toml [distill] every = {every}). {step}; then `{command}` again"
    )))
}
