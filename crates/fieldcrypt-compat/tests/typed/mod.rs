//! Comparing a typed value with what Django's ORM returned (as the fixture JSON records it).
#![allow(dead_code, clippy::unwrap_used)]

use fieldcrypt::{Timestamp, Value};
use fieldcrypt_compat::FieldKind;
use serde_json::Value as J;

/// The kind of a fixture column, by its name in the fixture apps.
pub(crate) fn kind_of(column: &str) -> Option<FieldKind> {
    Some(
        match column.trim_start_matches('_').trim_end_matches("_data") {
            "char" | "text" | "email" => FieldKind::Text,
            "integer" | "bigint" | "number" => FieldKind::Integer,
            "boolean" => FieldKind::Boolean,
            "date" => FieldKind::Date,
            "datetime" => FieldKind::DateTime,
            "decimal" => FieldKind::Decimal,
            "floatv" | "float" => FieldKind::Float,
            "jsonv" | "json" => FieldKind::Json,
            _ => return None,
        },
    )
}

/// An ISO 8601 datetime as the ORM printed it: with an offset, or naive (read as UTC, the
/// connection zone under USE_TZ).
pub(crate) fn instant(text: &str) -> Timestamp {
    let has_offset = text.ends_with('Z') || text.len() > 19 && text[19..].contains(['+', '-']);
    let text = if has_offset {
        text.to_owned()
    } else {
        format!("{text}Z")
    };
    text.replace(' ', "T").parse().unwrap()
}

/// Whether `value` (of `kind`) is what the ORM returned.
pub(crate) fn same_value(kind: FieldKind, value: &Value, orm: &J) -> bool {
    match (kind, value, orm) {
        (FieldKind::Text, Value::String(v), J::String(o)) => v == o,
        (FieldKind::Integer, Value::Int(v), J::Number(o)) => o.as_i64() == Some(*v),
        (FieldKind::Boolean, Value::Bool(v), J::Bool(o)) => v == o,
        (FieldKind::Date, Value::Date(v), J::String(o)) => &v.to_string() == o,
        (FieldKind::DateTime, Value::Timestamp(v), J::String(o)) => *v == instant(o),
        (FieldKind::Decimal, Value::Decimal(v), J::String(o)) => v.as_str() == o,
        (FieldKind::Float, Value::Float(v), J::Number(o)) => {
            o.as_f64().is_some_and(|o| o.to_bits() == v.to_bits())
        }
        (FieldKind::Float, Value::Float(v), J::String(o)) => o
            .parse::<f64>()
            .is_ok_and(|o| o.to_bits() == v.to_bits() || (o.is_nan() && v.is_nan())),
        (FieldKind::Json, Value::Json(v), o) => v.parse::<J>().is_ok_and(|v| &v == o),
        _ => false,
    }
}
