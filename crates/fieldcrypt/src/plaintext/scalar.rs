//! Strings, bytes, integers, floats and booleans.

use crate::error::Error;

use super::{Decode, Encode, TypeTag, expect_tag, fixed};

// --- strings and bytes ---

impl Encode for str {
    fn type_tag(&self) -> TypeTag {
        TypeTag::String
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(self.as_bytes());
        Ok(())
    }
    fn size_hint(&self) -> usize {
        self.len()
    }
}

impl Encode for String {
    fn type_tag(&self) -> TypeTag {
        TypeTag::String
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        self.as_str().encode_payload(out)
    }
    fn size_hint(&self) -> usize {
        self.len()
    }
}

impl Decode for String {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::String)?;
        if core::str::from_utf8(payload).is_err() {
            return Err(Error::InvalidValue("string"));
        }
        // Takes the buffer over instead of copying the plaintext once more.
        String::from_utf8(core::mem::take(payload)).map_err(|_| Error::InvalidValue("string"))
    }
}

impl Encode for [u8] {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Bytes
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(self);
        Ok(())
    }
    fn size_hint(&self) -> usize {
        self.len()
    }
}

impl Encode for Vec<u8> {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Bytes
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(self);
        Ok(())
    }
    fn size_hint(&self) -> usize {
        self.len()
    }
}

impl Decode for Vec<u8> {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::Bytes)?;
        Ok(core::mem::take(payload))
    }
}

// --- integers: all widths share the Int tag; reading narrows with a range check ---

macro_rules! int_codec {
    ($($t:ty),*) => {$(
        impl Encode for $t {
            fn type_tag(&self) -> TypeTag {
                TypeTag::Int
            }
            fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
                out.extend_from_slice(&i64::from(*self).to_be_bytes());
                Ok(())
            }
            fn size_hint(&self) -> usize {
                8
            }
        }

        impl Decode for $t {
            fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
                expect_tag(tag, TypeTag::Int)?;
                let wide = i64::from_be_bytes(fixed(payload, "int")?);
                <$t>::try_from(wide).map_err(|_| Error::InvalidValue(concat!("int (out of range for ", stringify!($t), ")")))
            }
        }
    )*};
}
int_codec!(i8, i16, i32, i64, u8, u16, u32);

// --- floats ---

/// The one NaN bit pattern that is ever sealed.
const CANONICAL_NAN: u64 = 0x7ff8_0000_0000_0000;

impl Encode for f64 {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Float
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        let bits = if self.is_nan() {
            CANONICAL_NAN
        } else {
            self.to_bits()
        };
        out.extend_from_slice(&bits.to_be_bytes());
        Ok(())
    }
    fn size_hint(&self) -> usize {
        8
    }
}

impl Decode for f64 {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::Float)?;
        let bits = u64::from_be_bytes(fixed(payload, "float")?);
        let value = f64::from_bits(bits);
        if value.is_nan() && bits != CANONICAL_NAN {
            return Err(Error::InvalidValue("float (non-canonical NaN)"));
        }
        Ok(value)
    }
}

impl Encode for f32 {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Float
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        f64::from(*self).encode_payload(out)
    }
}

impl Decode for f32 {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        let wide = f64::decode_payload(tag, payload)?;
        let narrow = wide as f32;
        // Only exact conversions: an f64 that f32 cannot hold is refused, not rounded.
        if f64::from(narrow) == wide || wide.is_nan() {
            Ok(narrow)
        } else {
            Err(Error::InvalidValue(
                "float (not exactly representable as f32)",
            ))
        }
    }
}

// --- bool ---

impl Encode for bool {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Bool
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.push(u8::from(*self));
        Ok(())
    }
    fn size_hint(&self) -> usize {
        1
    }
}

impl Decode for bool {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::Bool)?;
        match payload.as_slice() {
            [0] => Ok(false),
            [1] => Ok(true),
            _ => Err(Error::InvalidValue("bool")),
        }
    }
}
