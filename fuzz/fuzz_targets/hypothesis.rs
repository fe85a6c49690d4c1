//! Fuzz target: docs/hypotheses.md parsing, prediction extraction, validation and the
//! harness's appends, on any text.
#![no_main]

use std::collections::BTreeSet;
use std::path::PathBuf;

use dfh::hypothesis::{
    append_result, extract_prediction, mark_abandoned, parse, set_learning, validate,
    CitationContext, ValidationContext,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let log = parse(text);
    let _ = log.next_number();
    let context = ValidationContext {
        citations: CitationContext {
            project_root: PathBuf::from("/nonexistent/dfh-fuzz-project"),
            recorded_experiments: log
                .entries
                .iter()
                .map(|entry| entry.number)
                .collect::<BTreeSet<_>>(),
            strategy_distilled: true,
        },
        metric: "val_bpb".into(),
        goal_minimize: true,
        best: Some(0.9979),
    };
    for entry in &log.entries {
        if let Some(expected) = &entry.expected {
            for (best, minimize) in [(Some(0.9979), true), (Some(-3.5), false), (None, true)] {
                let _ = extract_prediction(&expected.text, "val_bpb", best, minimize);
            }
        }
        let _ = validate(entry, &context);
    }
    // The harness only appends to entries; the edits must cope with any file around them.
    if let Some(first) = log.entries.first() {
        let number = first.number;
        if let Ok(edited) = append_result(text, number, "### Result\nval_bpb 0.9901 · keep ·") {
            let _ = parse(&edited);
            let _ = set_learning(&edited, number, "Learning: depth helps");
        }
        let _ = mark_abandoned(text, number, "superseded");
    }
});
