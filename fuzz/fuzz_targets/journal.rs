//! Fuzz target: the journal reader (bytes written to a file, read back by `Journal::load`)
//! and the state fold over whatever events it yields.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use dfh::journal::{Journal, State};
use libfuzzer_sys::fuzz_target;

fn journal_path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("dfh-fuzz-journal-{}.jsonl", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = journal_path();
    if std::fs::write(path, data).is_err() {
        return;
    }
    let journal = Journal::new(path.clone());
    let Ok(loaded) = journal.load() else {
        return;
    };
    let state = State::fold(&loaded.events);
    let _ = state.next_number();
    let _ = state.pending();
    let _ = state.awaiting_retry();
    let _ = state.finished().count();
    let _ = state.finished().next_back();
    let _ = state.reference();
    let _ = state.finished_since_distill();
    let _ = state.distill_due(5);
    let _ = state.no_baseline();
    for experiment in state.experiments.values() {
        let _ = experiment.prediction();
        let _ = experiment.direction();
        let _ = experiment.outcome();
        let _ = experiment.awaiting_retry();
        let _ = experiment.phase.label();
    }
});
