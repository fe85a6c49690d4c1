//! A minimal hand-written protobuf decoder for TensorBoard's `Event` message: only the fields
//! that carry scalars (wall_time, step, summary values as simple_value or a one-element tensor).
//! Unknown fields are skipped, as protobuf requires.

/// A scalar found in one event.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedScalar {
    pub tag: String,
    pub value: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DecodedEvent {
    pub wall_time: f64,
    pub step: i64,
    pub scalars: Vec<DecodedScalar>,
}

const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LENGTH_DELIMITED: u8 = 2;
const FIXED32: u8 = 5;

// TensorFlow DataType values used by scalar tensors.
const DT_FLOAT: u64 = 1;
const DT_DOUBLE: u64 = 2;
const DT_INT32: u64 = 3;
const DT_INT64: u64 = 9;

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { bytes, at: 0 }
    }

    fn done(&self) -> bool {
        self.at >= self.bytes.len()
    }

    fn varint(&mut self) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at).ok_or("varint runs past the end")?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err("varint longer than 10 bytes".to_string())
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(length)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| format!("field of {length} bytes runs past the end"))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn fixed32(&mut self) -> Result<[u8; 4], String> {
        let slice = self.take(4)?;
        Ok([slice[0], slice[1], slice[2], slice[3]])
    }

    fn fixed64(&mut self) -> Result<[u8; 8], String> {
        let slice = self.take(8)?;
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(slice);
        Ok(bytes)
    }

    fn delimited(&mut self) -> Result<&'a [u8], String> {
        let length = self.varint()?;
        let length = usize::try_from(length).map_err(|_| "length does not fit in memory")?;
        self.take(length)
    }

    /// The next field number and wire type.
    fn key(&mut self) -> Result<(u64, u8), String> {
        let key = self.varint()?;
        Ok((key >> 3, (key & 7) as u8))
    }

    fn skip(&mut self, wire: u8) -> Result<(), String> {
        match wire {
            VARINT => self.varint().map(drop),
            FIXED64 => self.take(8).map(drop),
            LENGTH_DELIMITED => self.delimited().map(drop),
            FIXED32 => self.take(4).map(drop),
            other => Err(format!("unsupported wire type {other}")),
        }
    }
}

/// Decodes `Event { wall_time = 1; step = 2; summary = 5 }`.
pub fn decode_event(bytes: &[u8]) -> Result<DecodedEvent, String> {
    let mut event = DecodedEvent::default();
    let mut reader = Reader::new(bytes);
    while !reader.done() {
        match reader.key()? {
            (1, FIXED64) => event.wall_time = f64::from_le_bytes(reader.fixed64()?),
            (2, VARINT) => event.step = reader.varint()? as i64,
            (5, LENGTH_DELIMITED) => decode_summary(reader.delimited()?, &mut event.scalars)?,
            (_, wire) => reader.skip(wire)?,
        }
    }
    Ok(event)
}

/// `Summary { repeated Value value = 1 }`.
fn decode_summary(bytes: &[u8], scalars: &mut Vec<DecodedScalar>) -> Result<(), String> {
    let mut reader = Reader::new(bytes);
    while !reader.done() {
        match reader.key()? {
            (1, LENGTH_DELIMITED) => {
                if let Some(scalar) = decode_value(reader.delimited()?)? {
                    scalars.push(scalar);
                }
            }
            (_, wire) => reader.skip(wire)?,
        }
    }
    Ok(())
}

/// `Value { tag = 1; simple_value = 2; tensor = 8 }`; images, histograms and audio are skipped.
fn decode_value(bytes: &[u8]) -> Result<Option<DecodedScalar>, String> {
    let mut reader = Reader::new(bytes);
    let mut tag = None;
    let mut value = None;
    while !reader.done() {
        match reader.key()? {
            (1, LENGTH_DELIMITED) => {
                tag = Some(String::from_utf8_lossy(reader.delimited()?).into_owned())
            }
            (2, FIXED32) => value = Some(f64::from(f32::from_le_bytes(reader.fixed32()?))),
            (8, LENGTH_DELIMITED) => value = decode_scalar_tensor(reader.delimited()?)?.or(value),
            (_, wire) => reader.skip(wire)?,
        }
    }
    Ok(tag
        .zip(value)
        .map(|(tag, value)| DecodedScalar { tag, value }))
}

/// `TensorProto { dtype = 1; tensor_content = 4; float_val = 5; double_val = 6; int_val = 7;
/// int64_val = 10 }`: the value when the tensor holds exactly one number.
fn decode_scalar_tensor(bytes: &[u8]) -> Result<Option<f64>, String> {
    let mut reader = Reader::new(bytes);
    let mut dtype = 0u64;
    let mut content: &[u8] = &[];
    let mut values: Vec<f64> = Vec::new();
    while !reader.done() {
        match reader.key()? {
            (1, VARINT) => dtype = reader.varint()?,
            (4, LENGTH_DELIMITED) => content = reader.delimited()?,
            (5, FIXED32) => values.push(f64::from(f32::from_le_bytes(reader.fixed32()?))),
            (5, LENGTH_DELIMITED) => {
                let packed = reader.delimited()?;
                let floats = packed.chunks_exact(4).map(|chunk| {
                    f64::from(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
                });
                values.extend(floats);
            }
            (6, FIXED64) => values.push(f64::from_le_bytes(reader.fixed64()?)),
            (6, LENGTH_DELIMITED) => {
                let packed = reader.delimited()?;
                values.extend(packed.chunks_exact(8).map(|chunk| {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(chunk);
                    f64::from_le_bytes(bytes)
                }));
            }
            (7 | 10, VARINT) => values.push(reader.varint()? as i64 as f64),
            (7 | 10, LENGTH_DELIMITED) => {
                let mut packed = Reader::new(reader.delimited()?);
                while !packed.done() {
                    values.push(packed.varint()? as i64 as f64);
                }
            }
            (_, wire) => reader.skip(wire)?,
        }
    }
    if !content.is_empty() {
        values = match dtype {
            DT_FLOAT => content
                .chunks_exact(4)
                .map(|chunk| {
                    f64::from(f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
                })
                .collect(),
            DT_DOUBLE | DT_INT64 => content
                .chunks_exact(8)
                .map(|chunk| {
                    let mut bytes = [0u8; 8];
                    bytes.copy_from_slice(chunk);
                    if dtype == DT_DOUBLE {
                        f64::from_le_bytes(bytes)
                    } else {
                        i64::from_le_bytes(bytes) as f64
                    }
                })
                .collect(),
            DT_INT32 => content
                .chunks_exact(4)
                .map(|chunk| {
                    f64::from(i32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]))
                })
                .collect(),
            _ => Vec::new(),
        };
    }
    Ok((values.len() == 1).then(|| values[0]))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn varint(mut value: u64, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    pub(crate) fn delimited(field: u64, bytes: &[u8], out: &mut Vec<u8>) {
        varint(field << 3 | 2, out);
        varint(bytes.len() as u64, out);
        out.extend_from_slice(bytes);
    }

    /// An Event whose summary value carries `tensor` (already encoded) under `tag`.
    pub(crate) fn tensor_event(step: u64, tag: &str, tensor: &[u8]) -> Vec<u8> {
        let mut value = Vec::new();
        delimited(1, tag.as_bytes(), &mut value);
        delimited(9, b"\x0a\x09\x0a\x07scalars", &mut value); // metadata, skipped
        delimited(8, tensor, &mut value);
        let mut summary = Vec::new();
        delimited(1, &value, &mut summary);
        let mut event = vec![0x09];
        event.extend_from_slice(&1.5f64.to_le_bytes());
        varint(2 << 3, &mut event);
        varint(step, &mut event);
        delimited(5, &summary, &mut event);
        event
    }

    fn scalar_of(event: &[u8]) -> Result<(i64, Vec<DecodedScalar>), String> {
        let decoded = decode_event(event)?;
        Ok((decoded.step, decoded.scalars))
    }

    #[test]
    fn tensor_scalars_decode_in_every_layout() -> Result<(), String> {
        let mut packed_float = vec![0x08, 0x01]; // dtype DT_FLOAT
        delimited(5, &0.25f32.to_le_bytes(), &mut packed_float);
        let mut unpacked_float = vec![0x08, 0x01, 0x2d];
        unpacked_float.extend_from_slice(&0.5f32.to_le_bytes());
        let mut content_float = vec![0x08, 0x01];
        delimited(4, &0.75f32.to_le_bytes(), &mut content_float);
        let mut content_double = vec![0x08, 0x02];
        delimited(4, &1.25f64.to_le_bytes(), &mut content_double);
        let mut unpacked_double = vec![0x08, 0x02, 0x31];
        unpacked_double.extend_from_slice(&2.5f64.to_le_bytes());
        let cases = [
            (packed_float, 0.25),
            (unpacked_float, 0.5),
            (content_float, 0.75),
            (content_double, 1.25),
            (unpacked_double, 2.5),
        ];
        for (tensor, expected) in cases {
            let (step, scalars) = scalar_of(&tensor_event(300, "train/loss", &tensor))?;
            assert_eq!(step, 300);
            assert_eq!(
                scalars,
                vec![DecodedScalar {
                    tag: "train/loss".to_string(),
                    value: expected
                }]
            );
        }
        Ok(())
    }

    #[test]
    fn non_scalar_tensors_and_garbage_are_not_scalars() -> Result<(), String> {
        let mut two_floats = vec![0x08, 0x01];
        delimited(4, &[0u8; 8], &mut two_floats);
        assert_eq!(
            scalar_of(&tensor_event(1, "histogram", &two_floats))?.1,
            vec![]
        );
        assert!(decode_event(&[0x2a, 0x05, 0x0a]).is_err());
        assert!(decode_event(&[0xff; 11]).is_err());
        Ok(())
    }
}
