//! Fuzz target: the Python constants parser and the region scanner on any source text, with
//! run-command flags and a diff over it.
#![no_main]

use dfh::python::{
    apply_command_flags, changed_lines_from_diff, parse_knobs, regions_touched, scan_regions,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(source) = std::str::from_utf8(data) else {
        return;
    };
    let mut knobs = parse_knobs("train.py", source);
    for knob in &knobs {
        let _ = knob.location();
    }
    apply_command_flags(
        &mut knobs,
        "python train.py --lr 0.01 --depth=12 -b 64 --flag",
    );
    let regions = scan_regions(source);
    let line_count = source.lines().count();
    let changed: Vec<usize> = (0..=line_count + 1).step_by(3).collect();
    let _ = regions_touched(source, &changed);
    for region in &regions {
        let _ = regions_touched(source, &[region.start, region.end]);
    }
    // The same text read as a unified diff.
    let _ = changed_lines_from_diff(source);
});
