//! The page's experiment table: every finished experiment with its hypothesis, result and
//! learning, and the diff of kept ones. Rows fold into groups of `GROUP_SIZE` (the newest open)
//! and only the newest `DETAIL_LIMIT` rows carry their texts, so 10,000 experiments stay a
//! page of a few megabytes.

use serde::Serialize;

use super::finished;
use super::inputs::Inputs;
use super::markdown::signed;
use super::narrative::{hypothesis_of, learning_of, result_line, status_of};
use crate::decide::round;
use crate::journal::{Experiment, State};

pub const GROUP_SIZE: usize = 500;
pub const DETAIL_LIMIT: usize = 500;

#[derive(Debug, Clone, Serialize)]
pub struct TableRow {
    pub number: u32,
    pub title: String,
    pub status: String,
    pub value: String,
    pub delta: String,
    /// `good` when the delta is a gain, `bad` when a loss, empty otherwise.
    pub delta_class: &'static str,
    pub direction: String,
    pub detail: bool,
    pub hypothesis: String,
    pub expected: String,
    pub result: String,
    pub learning: String,
    pub diff: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TableGroup {
    pub label: String,
    pub open: bool,
    pub rows: Vec<TableRow>,
}

fn row(experiment: &Experiment, inputs: &Inputs, detail: bool) -> TableRow {
    let delta = match (experiment.value, experiment.best_before) {
        (Some(value), Some(before)) if value.is_finite() && before.is_finite() => {
            Some((value - before, inputs.goal.gain(value, before)))
        }
        _ => None,
    };
    let text = |value: Option<String>| {
        if detail {
            value.unwrap_or_default()
        } else {
            String::new()
        }
    };
    TableRow {
        number: experiment.number,
        title: experiment.title.clone(),
        status: status_of(experiment),
        value: experiment.value.map(round).unwrap_or_else(|| "–".into()),
        delta: delta.map(|(delta, _)| signed(delta)).unwrap_or_default(),
        delta_class: match delta {
            Some((_, gain)) if gain > 0.0 => "good",
            Some((_, gain)) if gain < 0.0 => "bad",
            _ => "",
        },
        direction: experiment.direction().unwrap_or_default().to_string(),
        detail,
        hypothesis: text(hypothesis_of(experiment, inputs)),
        expected: text(experiment.plan.as_ref().map(|plan| plan.expected.clone())),
        result: text(Some(result_line(experiment, &inputs.metric))),
        learning: text(learning_of(experiment, inputs)),
        diff: inputs.diffs.get(&experiment.number).cloned(),
    }
}

/// The table's groups, newest first: this period's experiments, then the earlier ones.
pub fn groups(state: &State, inputs: &Inputs) -> Vec<TableGroup> {
    let all: Vec<&Experiment> = state
        .experiments
        .values()
        .filter(|experiment| finished(experiment))
        .collect();
    let detail_from = all.len().saturating_sub(DETAIL_LIMIT);
    let rows: Vec<(bool, TableRow)> = all
        .iter()
        .enumerate()
        .map(|(index, experiment)| {
            (
                experiment.number >= inputs.start,
                row(experiment, inputs, index >= detail_from),
            )
        })
        .collect();
    let (current, earlier): (Vec<_>, Vec<_>) = rows.into_iter().partition(|(now, _)| *now);
    let mut groups = Vec::new();
    for (rows, label, open_newest) in [(current, "this period", true), (earlier, "earlier", false)]
    {
        let rows: Vec<TableRow> = rows.into_iter().map(|(_, row)| row).collect();
        let chunks: Vec<&[TableRow]> = rows.chunks(GROUP_SIZE).collect();
        for (index, chunk) in chunks.iter().enumerate().rev() {
            let (Some(first), Some(last)) = (chunk.first(), chunk.last()) else {
                continue;
            };
            groups.push(TableGroup {
                label: format!(
                    "{label}: experiments {}–{} ({})",
                    first.number,
                    last.number,
                    chunk.len()
                ),
                open: open_newest && index + 1 == chunks.len(),
                rows: chunk.to_vec(),
            });
        }
    }
    groups
}
