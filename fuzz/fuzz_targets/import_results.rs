//! Fuzz target: the results.tsv importer never panics, whatever the bytes and metric option.
#![no_main]

use dfh::import::{import_results, ImportOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let metrics = [
        None,
        Some("val_bpb"),
        Some("3"),
        Some("column6"),
        Some("0"),
        Some(""),
    ];
    let metric = metrics[data.first().map_or(0, |byte| *byte as usize) % metrics.len()];
    let options = ImportOptions {
        metric: metric.map(str::to_string),
    };
    if let Ok(report) = import_results(data, &options) {
        let _ = serde_json::to_string(&report);
    }
});
