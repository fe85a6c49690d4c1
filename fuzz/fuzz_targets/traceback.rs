//! Fuzz target: the traceback extractor and the crash advisor (built-in patterns) on any log.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use dfh::crash::{diagnose, ExitInfo, KnobHint, PatternDb, ProjectFiles};
use libfuzzer_sys::fuzz_target;

fn database() -> Option<&'static PatternDb> {
    static DATABASE: OnceLock<Option<PatternDb>> = OnceLock::new();
    DATABASE.get_or_init(|| PatternDb::builtin().ok()).as_ref()
}

fuzz_target!(|data: &[u8]| {
    let Some(database) = database() else {
        panic!("the built-in pattern database does not load");
    };
    // Logs are read lossily, as the pipeline reads a run's output.
    let log = String::from_utf8_lossy(data);
    let parsed = database.parser().parse(&log);
    let _ = parsed.tail_text();
    let _ = parsed.terminal_line();
    let _ = parsed.meaningful_text();
    let project = ProjectFiles {
        root: Some(PathBuf::from("/nonexistent/dfh-fuzz-project")),
        files: vec!["train.py".into(), "model/net.py".into()],
    };
    let knobs = [KnobHint {
        name: "DEVICE_BATCH_SIZE".into(),
        value: "64".into(),
        file: "train.py".into(),
        line: 12,
    }];
    let exits = [
        ExitInfo {
            code: Some(1),
            signal: None,
            timed_out: false,
        },
        ExitInfo {
            code: None,
            signal: Some(9),
            timed_out: false,
        },
        ExitInfo {
            code: None,
            signal: Some(15),
            timed_out: true,
        },
    ];
    let exit = exits[data.len() % exits.len()];
    let _ = diagnose(&log, &exit, database, &project, &knobs);
});
