//! NaN-safe numbers in JSON: JSON has no NaN or infinity, so dfh writes non-finite values as the
//! strings "nan", "inf" and "-inf" and reads them back (from events and from metrics documents).

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;

/// The text a non-finite value is written as, or `None` for a finite one.
pub fn non_finite_text(value: f64) -> Option<&'static str> {
    if value.is_nan() {
        Some("nan")
    } else if value == f64::INFINITY {
        Some("inf")
    } else if value == f64::NEG_INFINITY {
        Some("-inf")
    } else {
        None
    }
}

/// Reads "nan", "inf", "+inf", "-inf", "infinity" (any case) as the matching float.
pub fn parse_non_finite(text: &str) -> Option<f64> {
    match text.trim().to_ascii_lowercase().as_str() {
        "nan" | "+nan" | "-nan" => Some(f64::NAN),
        "inf" | "+inf" | "infinity" | "+infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

/// A JSON value for a float: a number when finite, else its string form.
pub fn to_json(value: f64) -> serde_json::Value {
    match non_finite_text(value) {
        Some(text) => serde_json::Value::String(text.to_string()),
        None => serde_json::Number::from_f64(value)
            .map(serde_json::Value::Number)
            .unwrap_or(serde_json::Value::Null),
    }
}

/// A float in at most four significant digits, for messages an agent reads: `0.9979`, `2.31`,
/// `1.234e-5`, `nan`.
pub fn short(value: f64) -> String {
    if let Some(text) = non_finite_text(value) {
        return text.to_string();
    }
    if value == 0.0 {
        return "0".to_string();
    }
    let magnitude = value.abs();
    if !(1e-3..1e5).contains(&magnitude) {
        return format!("{value:.3e}");
    }
    let decimals = (3 - magnitude.log10().floor() as i32).max(0) as usize;
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

/// An `f64` that serializes NaN-safely; the building block of the `with` modules below.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NanSafe(pub f64);

impl Serialize for NanSafe {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match non_finite_text(self.0) {
            Some(text) => serializer.serialize_str(text),
            None => serializer.serialize_f64(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for NanSafe {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NanSafeVisitor)
    }
}

struct NanSafeVisitor;

impl Visitor<'_> for NanSafeVisitor {
    type Value = NanSafe;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a number or one of the strings \"nan\", \"inf\", \"-inf\"")
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<NanSafe, E> {
        Ok(NanSafe(value))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<NanSafe, E> {
        Ok(NanSafe(value as f64))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<NanSafe, E> {
        Ok(NanSafe(value as f64))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<NanSafe, E> {
        parse_non_finite(value)
            .map(NanSafe)
            .ok_or_else(|| E::invalid_value(de::Unexpected::Str(value), &self))
    }
}

/// `#[serde(with = "nan_safe")]` for an `f64` field.
pub mod nan_safe {
    use super::NanSafe;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        NanSafe(*value).serialize(serializer)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
        NanSafe::deserialize(deserializer).map(|number| number.0)
    }
}

/// `#[serde(with = "nan_safe_option")]` for an `Option<f64>` field.
pub mod nan_safe_option {
    use super::NanSafe;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<f64>, serializer: S) -> Result<S::Ok, S::Error> {
        value.map(NanSafe).serialize(serializer)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<f64>, D::Error> {
        Option::<NanSafe>::deserialize(deserializer).map(|number| number.map(|n| n.0))
    }
}

/// `#[serde(with = "nan_safe_vec")]` for a `Vec<f64>` field.
pub mod nan_safe_vec {
    use super::NanSafe;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[f64], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(values.iter().map(|value| NanSafe(*value)))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<f64>, D::Error> {
        let numbers = Vec::<NanSafe>::deserialize(deserializer)?;
        Ok(numbers.into_iter().map(|number| number.0).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_values_round_trip_as_strings() -> Result<(), serde_json::Error> {
        let values = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1.5];
        let text = serde_json::to_string(&values.map(NanSafe))?;
        assert_eq!(text, r#"["nan","inf","-inf",1.5]"#);
        let back: Vec<NanSafe> = serde_json::from_str(&text)?;
        assert!(back[0].0.is_nan());
        assert_eq!(back[1].0, f64::INFINITY);
        assert_eq!(back[2].0, f64::NEG_INFINITY);
        assert_eq!(back[3].0, 1.5);
        Ok(())
    }

    #[test]
    fn short_numbers_keep_four_significant_digits() {
        assert_eq!(short(0.997_912), "0.9979");
        assert_eq!(short(2.31), "2.31");
        assert_eq!(short(523.44), "523.4");
        assert_eq!(short(12_345.6), "12346");
        assert_eq!(short(0.000_012_34), "1.234e-5");
        assert_eq!(short(-3.0), "-3");
        assert_eq!(short(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn other_strings_are_refused() {
        assert!(serde_json::from_str::<NanSafe>("\"banana\"").is_err());
        assert_eq!(to_json(2.0), serde_json::json!(2.0));
        assert_eq!(to_json(f64::NAN), serde_json::json!("nan"));
    }
}
