//! Exact decimals, kept as their canonical text.

use crate::error::Error;

use super::{Decode, Encode, TypeTag, expect_tag};

// --- decimals ---

/// An exact decimal number kept as its text, e.g. `-12.50` (scale is kept: `1.50` is not `1.5`).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Decimal(String);

impl Decimal {
    /// Validates `-?(0|[1-9][0-9]*)(\.[0-9]+)?` and refuses `-0` (with any zeros after the point).
    pub fn new(text: impl Into<String>) -> Result<Self, Error> {
        let text = text.into();
        if is_canonical_decimal(&text) {
            Ok(Self(text))
        } else {
            Err(Error::InvalidValue("decimal"))
        }
    }

    /// The decimal's text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl core::fmt::Debug for Decimal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("Decimal(..)")
    }
}

impl core::fmt::Display for Decimal {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_canonical_decimal(s: &str) -> bool {
    let unsigned = s.strip_prefix('-').unwrap_or(s);
    let (int, frac) = match unsigned.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (unsigned, None),
    };
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || (int.len() > 1 && int.starts_with('0')) {
        return false;
    }
    if frac.is_some_and(|f| !digits(f)) {
        return false;
    }
    let is_zero = int == "0" && frac.is_none_or(|f| f.bytes().all(|b| b == b'0'));
    !(s.starts_with('-') && is_zero)
}

impl Encode for Decimal {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Decimal
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(())
    }
    fn size_hint(&self) -> usize {
        self.0.len()
    }
}

impl Decode for Decimal {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::Decimal)?;
        let text = core::str::from_utf8(payload).map_err(|_| Error::InvalidValue("decimal"))?;
        Decimal::new(text)
    }
}
