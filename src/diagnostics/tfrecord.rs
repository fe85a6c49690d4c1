//! TensorBoard import: reads the scalars of a `tfevents` file (TFRecord framing with masked
//! CRC32C checks, then `Event` protobufs), so runs that log with a `SummaryWriter` get the same
//! diagnostics as runs that use `dfh_diag.py`.
//!
//! A record is: u64 length (LE), masked CRC32C of those 8 bytes, the data, masked CRC32C of the
//! data. A file cut short by a killed writer ends in a partial record: tolerated and reported. A
//! CRC mismatch means corruption: an error naming the byte offset.

use super::downsample::Point;
use super::events::{EventCollector, EventData};
use super::protobuf::decode_event;
use serde::Serialize;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};

/// One scalar of a TensorBoard file, as `SummaryWriter.add_scalar` wrote it.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct ScalarEvent {
    pub tag: String,
    pub step: i64,
    pub wall_time: f64,
    pub value: f64,
}

/// The scalars of a file, and whether its last record was cut short.
#[derive(Serialize, Clone, Debug, Default, PartialEq)]
pub struct TfEvents {
    pub scalars: Vec<ScalarEvent>,
    /// Complete records read.
    pub records: u64,
    /// Offset of a truncated last record, ignored.
    pub truncated_at: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum TfRecordError {
    #[error("cannot open the TensorBoard file {path}: {source}")]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read the TensorBoard file {path} at byte {offset}: {source}")]
    Read {
        path: PathBuf,
        offset: u64,
        source: io::Error,
    },
    #[error(
        "{path} is corrupt at byte {offset}: the {part} CRC32C does not match; this is not an \
         intact TFRecord (tfevents) file, re-copy it from the training machine"
    )]
    Crc {
        path: PathBuf,
        offset: u64,
        part: &'static str,
    },
    #[error("{path}: the record at byte {offset} is not a TensorBoard Event ({reason})")]
    Protobuf {
        path: PathBuf,
        offset: u64,
        reason: String,
    },
}

/// Reads every scalar of a tfevents file.
pub fn read_tfevents(path: &Path) -> Result<TfEvents, TfRecordError> {
    let file = File::open(path).map_err(|source| TfRecordError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    read_tfevents_from(BufReader::new(file), path)
}

/// Reads scalars from any reader; `path` only names the input in errors.
pub fn read_tfevents_from(mut reader: impl Read, path: &Path) -> Result<TfEvents, TfRecordError> {
    let mut result = TfEvents::default();
    let mut offset = 0u64;
    let mut data = Vec::new();
    loop {
        let read_error = |source| TfRecordError::Read {
            path: path.to_path_buf(),
            offset,
            source,
        };
        let crc_error = |part| TfRecordError::Crc {
            path: path.to_path_buf(),
            offset,
            part,
        };
        let mut header = [0u8; 12];
        match read_full(&mut reader, &mut header).map_err(read_error)? {
            0 => break,
            12 => {}
            _ => {
                result.truncated_at = Some(offset);
                break;
            }
        }
        let length = u64::from_le_bytes([
            header[0], header[1], header[2], header[3], header[4], header[5], header[6], header[7],
        ]);
        let length_crc = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        if masked_crc32c(&header[..8]) != length_crc {
            return Err(crc_error("length"));
        }
        data.clear();
        // `take` grows the buffer as bytes arrive, so a huge length in a short file costs nothing.
        let got = reader
            .by_ref()
            .take(length)
            .read_to_end(&mut data)
            .map_err(read_error)?;
        let mut footer = [0u8; 4];
        if (got as u64) < length || read_full(&mut reader, &mut footer).map_err(read_error)? < 4 {
            result.truncated_at = Some(offset);
            break;
        }
        if masked_crc32c(&data) != u32::from_le_bytes(footer) {
            return Err(crc_error("data"));
        }
        let event = decode_event(&data).map_err(|reason| TfRecordError::Protobuf {
            path: path.to_path_buf(),
            offset,
            reason,
        })?;
        result.records += 1;
        result
            .scalars
            .extend(event.scalars.into_iter().map(|scalar| ScalarEvent {
                tag: scalar.tag,
                step: event.step,
                wall_time: event.wall_time,
                value: scalar.value,
            }));
        offset += 16 + length;
    }
    Ok(result)
}

impl TfEvents {
    /// The scalars as diagnostics series: tag `loss` is `training_curves/loss`, tag
    /// `gradient_norms/backbone` keeps its section. Negative steps count as 0.
    pub fn into_event_data(self) -> EventData {
        let mut collector = EventCollector::default();
        for scalar in self.scalars {
            let point = Point {
                step: u64::try_from(scalar.step).unwrap_or(0),
                value: scalar.value,
            };
            collector.push_point(&scalar.tag, point);
        }
        collector.finish()
    }
}

/// Reads until `buffer` is full or the input ends; returns how many bytes were read.
fn read_full(reader: &mut impl Read, buffer: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match reader.read(&mut buffer[filled..]) {
            Ok(0) => break,
            Ok(count) => filled += count,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(error),
        }
    }
    Ok(filled)
}

const CRC32C_TABLE: [u32; 256] = crc32c_table();

const fn crc32c_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut index = 0;
    while index < 256 {
        let mut crc = index as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x82F6_3B78
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[index] = crc;
        index += 1;
    }
    table
}

/// CRC-32C (Castagnoli), as TFRecord uses.
pub fn crc32c(bytes: &[u8]) -> u32 {
    let crc = bytes.iter().fold(!0u32, |crc, &byte| {
        CRC32C_TABLE[((crc ^ u32::from(byte)) & 0xff) as usize] ^ (crc >> 8)
    });
    !crc
}

/// TFRecord's masked CRC: rotated right by 15 bits plus a constant, so a CRC of data that
/// itself contains CRCs stays well distributed.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    crc32c(bytes).rotate_right(15).wrapping_add(0xa282_ead8)
}

#[cfg(test)]
mod tests {
    use super::super::protobuf::tests::tensor_event;
    use super::*;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    /// Written by tests/fixtures/make_tfevents.py with tensorboardX.
    const FIXTURE: &[u8] = include_bytes!("../../tests/fixtures/scalars.tfevents");

    fn record(data: &[u8]) -> Vec<u8> {
        let length = (data.len() as u64).to_le_bytes();
        let mut bytes = length.to_vec();
        bytes.extend_from_slice(&masked_crc32c(&length).to_le_bytes());
        bytes.extend_from_slice(data);
        bytes.extend_from_slice(&masked_crc32c(data).to_le_bytes());
        bytes
    }

    #[test]
    fn crc32c_matches_known_vectors() {
        assert_eq!(crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(crc32c(b""), 0);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xffu8; 32]), 0x62A8_AB43);
    }

    #[test]
    fn reads_the_checked_in_fixture() -> TestResult {
        let directory = tempfile::tempdir()?;
        let path = directory.path().join("events.out.tfevents.1.host");
        std::fs::write(&path, FIXTURE)?;
        let events = read_tfevents(&path)?;
        assert_eq!(events.truncated_at, None);
        let tagged = |tag: &str| -> Vec<(i64, f64)> {
            events
                .scalars
                .iter()
                .filter(|scalar| scalar.tag == tag)
                .map(|scalar| (scalar.step, scalar.value))
                .collect()
        };
        let loss: Vec<(i64, f64)> = (0..10)
            .map(|step| (step, f64::from((2.0 / (step + 1) as f64) as f32)))
            .collect();
        assert_eq!(tagged("train/loss"), loss);
        let rate: Vec<(i64, f64)> = (0..10)
            .map(|step| (step, f64::from((0.001 * step as f64) as f32)))
            .collect();
        assert_eq!(tagged("lr"), rate);
        assert_eq!(tagged("eval/acc"), vec![(9, 0.75)]);
        assert_eq!(events.scalars.len(), 21);
        assert!(events.scalars.iter().all(|scalar| scalar.wall_time > 1.6e9));
        let data = events.into_event_data();
        assert_eq!(data.series["train"]["loss"].values.len(), 10);
        assert_eq!(data.series["training_curves"]["lr"].original_count, 10);
        Ok(())
    }

    #[test]
    fn a_truncated_last_record_is_reported_not_fatal() -> TestResult {
        let mut bytes = record(&tensor_event(
            1,
            "loss",
            &[0x08, 0x01, 0x2d, 0, 0, 0x80, 0x3f],
        ));
        let whole = bytes.len() as u64;
        bytes.extend(record(&tensor_event(
            2,
            "loss",
            &[0x08, 0x01, 0x2d, 0, 0, 0, 0x40],
        )));
        for cut in [whole + 5, whole + 14, bytes.len() as u64 - 1] {
            let events = read_tfevents_from(&bytes[..cut as usize], Path::new("cut.tfevents"))?;
            assert_eq!(events.truncated_at, Some(whole), "cut at {cut}");
            assert_eq!(events.scalars.len(), 1);
            assert_eq!(events.scalars[0].value, 1.0);
        }
        Ok(())
    }

    #[test]
    fn a_bad_crc_is_an_error_naming_the_offset() {
        let mut bytes = record(b"");
        let second = bytes.len();
        bytes.extend(record(&tensor_event(
            1,
            "loss",
            &[0x08, 0x01, 0x2d, 0, 0, 0x80, 0x3f],
        )));
        let last = bytes.len() - 6;
        bytes[last] ^= 1;
        let error = read_tfevents_from(&bytes[..], Path::new("bad.tfevents")).err();
        let message = error.map(|error| error.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            format!(
                "bad.tfevents is corrupt at byte {second}: the data CRC32C does not match; this is \
                 not an intact TFRecord (tfevents) file, re-copy it from the training machine"
            )
        );
        bytes[8] ^= 1;
        let error = read_tfevents_from(&bytes[..], Path::new("bad.tfevents")).err();
        assert!(error.is_some_and(|error| error.to_string().contains("byte 0: the length CRC32C")));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..512)) {
            let _ = read_tfevents_from(&bytes[..], Path::new("fuzz.tfevents"));
        }

        #[test]
        fn arbitrary_payloads_in_valid_records_never_panic(
            payload in proptest::collection::vec(proptest::num::u8::ANY, 0..256),
            cut in 0usize..300,
        ) {
            let bytes = record(&payload);
            let _ = read_tfevents_from(&bytes[..], Path::new("fuzz.tfevents"));
            let _ = read_tfevents_from(&bytes[..cut.min(bytes.len())], Path::new("fuzz.tfevents"));
        }
    }
}
