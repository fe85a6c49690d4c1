//! Fuzz target: TFRecord reading (tfevents files) and the JSONL diagnostics events reader.
//! The input is read three ways: as a raw tfevents file, as the payloads of well-framed
//! records (so the fuzzer reaches the protobuf decoder past the CRCs), and as JSONL events.
#![no_main]

use std::io::Cursor;
use std::path::Path;

use dfh::diagnostics::tfrecord::masked_crc32c;
use dfh::diagnostics::{events::ingest_reader, read_tfevents_from};
use libfuzzer_sys::fuzz_target;

/// Frames each chunk of `data` (split at the byte sequence `RECORD`) as one TFRecord with
/// correct CRCs.
fn framed(data: &[u8]) -> Vec<u8> {
    let mut file = Vec::with_capacity(data.len() + 64);
    let mut rest = data;
    loop {
        let (payload, next) = match rest.windows(6).position(|window| window == b"RECORD") {
            Some(at) => (&rest[..at], Some(&rest[at + 6..])),
            None => (rest, None),
        };
        let length = (payload.len() as u64).to_le_bytes();
        file.extend_from_slice(&length);
        file.extend_from_slice(&masked_crc32c(&length).to_le_bytes());
        file.extend_from_slice(payload);
        file.extend_from_slice(&masked_crc32c(payload).to_le_bytes());
        match next {
            Some(next) => rest = next,
            None => break,
        }
    }
    file
}

fuzz_target!(|data: &[u8]| {
    let path = Path::new("events.out.tfevents.fuzz");
    if let Ok(events) = read_tfevents_from(Cursor::new(data), path) {
        let _ = events.into_event_data();
    }
    match read_tfevents_from(Cursor::new(framed(data)), path) {
        Ok(events) => {
            let _ = events.into_event_data();
        }
        Err(error) => {
            let _ = error.to_string();
        }
    }
    let _ = ingest_reader(Cursor::new(data));
});
