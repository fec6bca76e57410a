//! Typed values in JSON: how a request names a value to seal, and how an opened value is
//! answered. Strings, integers, floats, booleans and JSON documents map to themselves; bytes are
//! base64; dates, timestamps and decimals are their text forms.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use fieldcrypt::{JsonText, TypeTag, Value};

/// Reads a value from a request: `type` when given, else inferred from the JSON.
pub fn from_json(value: &serde_json::Value, type_name: Option<&str>) -> Result<Value, String> {
    use serde_json::Value as J;
    let tag = match type_name {
        Some(name) => Some(TypeTag::from_name(name).ok_or_else(|| {
            format!(
                "type {name:?}: one of string, bytes, int, float, bool, date, timestamp, decimal, json"
            )
        })?),
        None => None,
    };
    match (tag, value) {
        (None | Some(TypeTag::Json), J::Object(_) | J::Array(_)) => {
            Ok(Value::Json(JsonText::from_value(value)))
        }
        (Some(TypeTag::Json), v) => Ok(Value::Json(JsonText::from_value(v))),
        (None | Some(TypeTag::String), J::String(s)) => Ok(Value::String(s.clone())),
        (None | Some(TypeTag::Bool), J::Bool(b)) => Ok(Value::Bool(*b)),
        (None | Some(TypeTag::Int), J::Number(n)) if n.is_i64() => {
            Ok(Value::Int(n.as_i64().unwrap_or_default()))
        }
        (Some(TypeTag::Int), J::Number(_)) => {
            Err("an int must be a whole number in the i64 range".into())
        }
        (None | Some(TypeTag::Float), J::Number(n)) => n
            .as_f64()
            .map(Value::Float)
            .ok_or_else(|| "not a finite number".to_owned()),
        (Some(TypeTag::Bytes), J::String(s)) => STANDARD
            .decode(s)
            .map(Value::Bytes)
            .map_err(|_| "bytes are given as standard base64".to_owned()),
        (Some(tag @ (TypeTag::Date | TypeTag::Timestamp | TypeTag::Decimal)), J::String(s)) => {
            Value::parse(tag, s).map_err(|e| e.to_string())
        }
        (_, J::Null) => Err("null is not a value to seal (store NULL as NULL)".into()),
        (Some(tag), _) => Err(format!("this JSON value is not a {tag}")),
    }
}

/// An opened value as JSON, with its type's name.
pub fn to_json(value: &Value) -> (serde_json::Value, &'static str) {
    use serde_json::Value as J;
    let tag = value.type_tag().name();
    let json = match value {
        Value::String(s) => J::String(s.clone()),
        Value::Bytes(b) => J::String(STANDARD.encode(b)),
        Value::Int(i) => J::from(*i),
        Value::Float(f) => {
            serde_json::Number::from_f64(*f).map_or_else(|| J::String(f.to_string()), J::Number)
        }
        Value::Bool(b) => J::Bool(*b),
        Value::Date(d) => J::String(d.to_string()),
        Value::Timestamp(t) => J::String(t.to_string()),
        Value::Decimal(d) => J::String(d.as_str().to_owned()),
        Value::Json(j) => serde_json::from_str(j.as_str()).unwrap_or(J::Null),
        _ => J::Null,
    };
    (json, tag)
}

/// The text a masking profile works on.
pub fn to_text(value: &Value) -> String {
    match to_json(value).0 {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_values_round_trip_with_their_types() {
        for (input, ty, expect_ty) in [
            (json!("abc"), None, "string"),
            (json!(42), None, "int"),
            (json!(1.5), None, "float"),
            (json!(true), None, "bool"),
            (json!({"a": [1, 2]}), None, "json"),
            (json!("aGVsbG8="), Some("bytes"), "bytes"),
            (json!("2026-12-07"), Some("date"), "date"),
            (
                json!("2026-12-07T10:00:00Z"),
                Some("timestamp"),
                "timestamp",
            ),
            (json!("12.50"), Some("decimal"), "decimal"),
            (json!("text"), Some("json"), "json"),
        ] {
            let v = from_json(&input, ty).unwrap();
            let (back, tag) = to_json(&v);
            assert_eq!(tag, expect_ty);
            assert_eq!(back, input, "{expect_ty}");
        }
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(from_json(&json!(null), None).is_err());
        assert!(from_json(&json!(1.5), Some("int")).is_err());
        assert!(from_json(&json!("x"), Some("nope")).is_err());
        assert!(from_json(&json!("not base64!"), Some("bytes")).is_err());
        assert!(from_json(&json!("2026-13-01"), Some("date")).is_err());
        assert!(from_json(&json!(5), Some("string")).is_err());
    }
}
