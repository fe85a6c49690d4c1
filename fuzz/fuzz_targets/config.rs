//! Fuzz target: dfh.toml parsing and what the harness derives from a parsed config.
#![no_main]

use dfh::config::{parse_duration, Config};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let _ = parse_duration(text);
    match Config::parse(text, "dfh.toml") {
        Ok(config) => {
            let _ = config.budget();
            let _ = config.timeout();
            let _ = config.metric.effective_pattern();
            let _ = dfh::config::render_default(&config.run, &config.metric);
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
});
