//! JSON: any serde value ([`Json`]) or a JSON text kept as written ([`JsonText`]).

use serde::{Serialize, de::DeserializeOwned};

use crate::error::Error;

use super::{Decode, Encode, TypeTag, expect_tag};

// --- JSON ---

/// Any serde value, sealed as JSON. `Json(value)` to seal, `.0` after opening.
#[derive(Clone, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T> core::fmt::Debug for Json<T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Json(..)")
    }
}

impl<T: Serialize> Encode for Json<T> {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Json
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        // serde_json fails only for maps with non-string keys or a failing Serialize impl; the
        // caller learns it now, rather than sealing something that cannot be read back.
        serde_json::to_writer(&mut *out, &self.0).map_err(|_| Error::Unencodable("json"))
    }
}

impl<T: DeserializeOwned> Decode for Json<T> {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::Json)?;
        serde_json::from_slice(payload)
            .map(Json)
            .map_err(|_| Error::InvalidValue("json"))
    }
}

/// A JSON text kept exactly as given: numbers as written (`1.10`, `12345678901234567890123`,
/// `1e400`), keys in their order, duplicates and all; only the whitespace between tokens is
/// dropped. What tools that move JSON without interpreting it use (column jobs, the CLI,
/// [`Value`](super::Value)), since `serde_json::Value` rounds numbers to `f64`; [`Json<T>`] is the typed way.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct JsonText(String);

impl core::fmt::Debug for JsonText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("JsonText(..)")
    }
}

impl JsonText {
    /// Checks that `text` is one JSON value (RFC 8259) and drops the whitespace between its
    /// tokens; nothing else changes.
    pub fn new(text: &str) -> Result<Self, Error> {
        check_json(text)?;
        let mut compact = String::with_capacity(text.len());
        let (mut in_string, mut escaped) = (false, false);
        for c in text.chars() {
            if in_string {
                match (escaped, c) {
                    (true, _) => escaped = false,
                    (false, '\\') => escaped = true,
                    (false, '"') => in_string = false,
                    _ => {}
                }
            } else if matches!(c, ' ' | '\t' | '\n' | '\r') {
                continue;
            } else if c == '"' {
                in_string = true;
            }
            compact.push(c);
        }
        Ok(Self(compact))
    }

    /// The JSON of a `serde_json` value, as serde_json writes it.
    pub fn from_value(value: &serde_json::Value) -> Self {
        // Writing a `serde_json::Value` cannot fail: its map keys are strings.
        Self(value.to_string())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0
    }

    /// Reads the text as a `T` (numbers as `T` reads them: a `serde_json::Value` rounds them
    /// to `f64` beyond 64-bit integers).
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_str(&self.0).map_err(|_| Error::InvalidValue("json"))
    }
}

impl core::fmt::Display for JsonText {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` is one JSON value, checked for syntax only (numbers are not converted, so
/// none is out of range).
fn check_json(text: &str) -> Result<(), Error> {
    serde_json::from_str::<serde::de::IgnoredAny>(text)
        .map(drop)
        .map_err(|_| Error::InvalidValue("json"))
}

impl Encode for JsonText {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Json
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(())
    }
    fn size_hint(&self) -> usize {
        self.0.len()
    }
}

impl Decode for JsonText {
    /// Takes the sealed text as it is (any JSON text opens, whitespace and all).
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::Json)?;
        // Checked in place, so that a refused payload stays in the caller's buffer to be wiped.
        check_json(core::str::from_utf8(payload).map_err(|_| Error::InvalidValue("json"))?)?;
        let text =
            String::from_utf8(core::mem::take(payload)).map_err(|_| Error::InvalidValue("json"))?;
        Ok(Self(text))
    }
}
