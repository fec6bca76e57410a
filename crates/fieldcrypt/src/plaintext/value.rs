//! [`Value`]: a value of whichever type it was sealed as.

use crate::error::Error;

use super::{Date, Decimal, Decode, Encode, JsonText, Timestamp, TypeTag};

// --- any type, for tools ---

/// A value of whichever type it was sealed as; for tools such as the CLI and `doctor`.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Value {
    /// [`TypeTag::String`]
    String(String),
    /// [`TypeTag::Bytes`]
    Bytes(Vec<u8>),
    /// [`TypeTag::Int`]
    Int(i64),
    /// [`TypeTag::Float`]
    Float(f64),
    /// [`TypeTag::Bool`]
    Bool(bool),
    /// [`TypeTag::Date`]
    Date(Date),
    /// [`TypeTag::Timestamp`]
    Timestamp(Timestamp),
    /// [`TypeTag::Decimal`]
    Decimal(Decimal),
    /// [`TypeTag::Json`], its text kept exactly.
    Json(JsonText),
}

impl core::fmt::Debug for Value {
    /// Shows the type only: values are plaintext.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Value::{}(..)", self.type_tag())
    }
}

impl Value {
    /// The value's type.
    pub fn type_tag(&self) -> TypeTag {
        match self {
            Value::String(_) => TypeTag::String,
            Value::Bytes(_) => TypeTag::Bytes,
            Value::Int(_) => TypeTag::Int,
            Value::Float(_) => TypeTag::Float,
            Value::Bool(_) => TypeTag::Bool,
            Value::Date(_) => TypeTag::Date,
            Value::Timestamp(_) => TypeTag::Timestamp,
            Value::Decimal(_) => TypeTag::Decimal,
            Value::Json(_) => TypeTag::Json,
        }
    }

    /// Parses text as a value of `tag` (bytes: the text's UTF-8; bool: `true`/`false`).
    pub fn parse(tag: TypeTag, text: &str) -> Result<Self, Error> {
        Ok(match tag {
            TypeTag::String => Value::String(text.to_owned()),
            TypeTag::Bytes => Value::Bytes(text.as_bytes().to_vec()),
            TypeTag::Int => Value::Int(
                text.trim()
                    .parse()
                    .map_err(|_| Error::InvalidValue("int"))?,
            ),
            TypeTag::Float => Value::Float(
                text.trim()
                    .parse()
                    .map_err(|_| Error::InvalidValue("float"))?,
            ),
            TypeTag::Bool => match text.trim() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                _ => return Err(Error::InvalidValue("bool (expected true or false)")),
            },
            TypeTag::Date => Value::Date(text.trim().parse()?),
            TypeTag::Timestamp => Value::Timestamp(text.trim().parse()?),
            TypeTag::Decimal => Value::Decimal(Decimal::new(text.trim())?),
            TypeTag::Json => Value::Json(JsonText::new(text)?),
        })
    }
}

impl Encode for Value {
    fn type_tag(&self) -> TypeTag {
        Value::type_tag(self)
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        match self {
            Value::String(v) => v.encode_payload(out),
            Value::Bytes(v) => v.encode_payload(out),
            Value::Int(v) => v.encode_payload(out),
            Value::Float(v) => v.encode_payload(out),
            Value::Bool(v) => v.encode_payload(out),
            Value::Date(v) => v.encode_payload(out),
            Value::Timestamp(v) => v.encode_payload(out),
            Value::Decimal(v) => v.encode_payload(out),
            Value::Json(v) => v.encode_payload(out),
        }
    }
    /// Forwarded, so a `Value` is sealed into a buffer allocated once.
    fn size_hint(&self) -> usize {
        match self {
            Value::String(v) => v.size_hint(),
            Value::Bytes(v) => v.size_hint(),
            Value::Int(v) => v.size_hint(),
            Value::Float(v) => v.size_hint(),
            Value::Bool(v) => v.size_hint(),
            Value::Date(v) => v.size_hint(),
            Value::Timestamp(v) => v.size_hint(),
            Value::Decimal(v) => v.size_hint(),
            Value::Json(v) => v.size_hint(),
        }
    }
}

impl Decode for Value {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        Ok(match tag {
            TypeTag::String => Value::String(String::decode_payload(tag, payload)?),
            TypeTag::Bytes => Value::Bytes(Vec::decode_payload(tag, payload)?),
            TypeTag::Int => Value::Int(i64::decode_payload(tag, payload)?),
            TypeTag::Float => Value::Float(f64::decode_payload(tag, payload)?),
            TypeTag::Bool => Value::Bool(bool::decode_payload(tag, payload)?),
            TypeTag::Date => Value::Date(Date::decode_payload(tag, payload)?),
            TypeTag::Timestamp => Value::Timestamp(Timestamp::decode_payload(tag, payload)?),
            TypeTag::Decimal => Value::Decimal(Decimal::decode_payload(tag, payload)?),
            TypeTag::Json => Value::Json(JsonText::decode_payload(tag, payload)?),
        })
    }
}
