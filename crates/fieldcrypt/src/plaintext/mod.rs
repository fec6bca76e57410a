//! Typed plaintext: a type tag byte and a canonical encoding, sealed together.
//!
//! Because the tag is inside the ciphertext, a value sealed as an integer cannot be opened as a
//! string by mistake: [`Error::TypeMismatch`]. Encodings (fixed by `docs/FORMAT.md`):
//!
//! | tag | type | payload |
//! | --- | --- | --- |
//! | 0x01 | string | UTF-8 bytes |
//! | 0x02 | bytes | the bytes |
//! | 0x03 | int | i64, 8 bytes big-endian two's complement |
//! | 0x04 | float | f64, 8 bytes big-endian IEEE 754; every NaN as 0x7ff8000000000000 |
//! | 0x05 | bool | one byte, 0x00 or 0x01 |
//! | 0x06 | date | i32 big-endian: days since 1970-01-01, proleptic Gregorian |
//! | 0x07 | timestamp | i64 big-endian seconds since the Unix epoch (UTC), u32 big-endian nanoseconds < 10^9 |
//! | 0x08 | decimal | ASCII `-?(0|[1-9][0-9]*)(\.[0-9]+)?`, scale kept as written |
//! | 0x09 | json | UTF-8 JSON text, without whitespace between tokens |

use zeroize::Zeroize;

use crate::error::Error;

mod civil;
mod decimal;
mod json;
mod scalar;
mod time;
mod value;

pub use decimal::Decimal;
pub use json::{Json, JsonText};
pub use time::{Date, Timestamp};
pub use value::Value;

/// The type a value was sealed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum TypeTag {
    /// UTF-8 text.
    String = 0x01,
    /// Raw bytes.
    Bytes = 0x02,
    /// A 64-bit signed integer.
    Int = 0x03,
    /// A 64-bit IEEE 754 float.
    Float = 0x04,
    /// A boolean.
    Bool = 0x05,
    /// A calendar date.
    Date = 0x06,
    /// An instant, UTC, with nanoseconds.
    Timestamp = 0x07,
    /// An exact decimal number, as text.
    Decimal = 0x08,
    /// Any serde value, as JSON.
    Json = 0x09,
}

impl TypeTag {
    /// All tags, in tag order.
    pub const ALL: [TypeTag; 9] = [
        TypeTag::String,
        TypeTag::Bytes,
        TypeTag::Int,
        TypeTag::Float,
        TypeTag::Bool,
        TypeTag::Date,
        TypeTag::Timestamp,
        TypeTag::Decimal,
        TypeTag::Json,
    ];

    /// The tag for a byte, if it is one.
    pub fn from_byte(b: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u8 == b)
    }

    /// The lower-case name used by the CLI and the docs.
    pub fn name(self) -> &'static str {
        match self {
            TypeTag::String => "string",
            TypeTag::Bytes => "bytes",
            TypeTag::Int => "int",
            TypeTag::Float => "float",
            TypeTag::Bool => "bool",
            TypeTag::Date => "date",
            TypeTag::Timestamp => "timestamp",
            TypeTag::Decimal => "decimal",
            TypeTag::Json => "json",
        }
    }

    /// The tag with this name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == name)
    }
}

impl core::fmt::Display for TypeTag {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.pad(self.name())
    }
}

/// A value that can be sealed.
pub trait Encode {
    /// The tag this value is sealed under.
    fn type_tag(&self) -> TypeTag;
    /// Appends the canonical payload (without the tag byte). Fails, and the value is not
    /// sealed, when it has no encoding (a JSON map with non-string keys, say).
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error>;
    /// A guess at the payload size, to allocate once.
    fn size_hint(&self) -> usize {
        16
    }
}

/// A value that can be opened.
pub trait Decode: Sized {
    /// Decodes a payload sealed under `tag`; refuses tags this type does not accept.
    ///
    /// `payload` is a buffer the caller owns and wipes afterwards; a decoder may take it over
    /// (for example `String` reuses it) by leaving it empty.
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error>;
}

pub(super) fn expect_tag(found: TypeTag, expected: TypeTag) -> Result<(), Error> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::TypeMismatch { expected, found })
    }
}

pub(super) fn fixed<const N: usize>(payload: &[u8], what: &'static str) -> Result<[u8; N], Error> {
    payload.try_into().map_err(|_| Error::InvalidValue(what))
}

impl<T: Encode + ?Sized> Encode for &T {
    fn type_tag(&self) -> TypeTag {
        (**self).type_tag()
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        (**self).encode_payload(out)
    }
    fn size_hint(&self) -> usize {
        (**self).size_hint()
    }
}

/// Encodes `value` as `tag || payload` into `out`.
pub(crate) fn encode_typed<T: Encode + ?Sized>(value: &T, out: &mut Vec<u8>) -> Result<(), Error> {
    out.push(value.type_tag() as u8);
    value.encode_payload(out)
}

/// Decodes `tag || payload` (the buffer is wiped, whether or not decoding succeeds).
pub(crate) fn decode_typed<T: Decode>(mut buf: Vec<u8>) -> Result<T, Error> {
    let Some(&tag_byte) = buf.first() else {
        return Err(Error::InvalidValue("empty plaintext"));
    };
    let result = match TypeTag::from_byte(tag_byte) {
        None => Err(Error::InvalidValue("type tag")),
        Some(tag) => {
            buf.remove(0);
            T::decode_payload(tag, &mut buf)
        }
    };
    buf.zeroize();
    result
}

#[cfg(test)]
mod tests;
