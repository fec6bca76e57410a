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

use serde::{Serialize, de::DeserializeOwned};
use zeroize::Zeroize;

use crate::error::Error;

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

fn expect_tag(found: TypeTag, expected: TypeTag) -> Result<(), Error> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::TypeMismatch { expected, found })
    }
}

fn fixed<const N: usize>(payload: &[u8], what: &'static str) -> Result<[u8; N], Error> {
    payload.try_into().map_err(|_| Error::InvalidValue(what))
}

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

// --- dates and timestamps ---

/// A calendar date (proleptic Gregorian), stored as days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    days: i32,
}

impl Date {
    /// The date `days` after 1970-01-01 (negative: before).
    pub fn from_days_since_epoch(days: i32) -> Self {
        Self { days }
    }

    /// Days since 1970-01-01.
    pub fn days_since_epoch(self) -> i32 {
        self.days
    }

    /// The date for a year, month (1-12) and day (1-31); `None` if no such date.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Self> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        let days = days_from_civil(i64::from(year), month, day);
        i32::try_from(days).ok().map(|days| Self { days })
    }

    /// Year, month (1-12), day (1-31).
    pub fn to_ymd(self) -> (i32, u32, u32) {
        civil_from_days(i64::from(self.days))
    }
}

impl core::fmt::Display for Date {
    /// ISO 8601 `YYYY-MM-DD` (years outside 0..=9999 get a sign and more digits).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (y, m, d) = self.to_ymd();
        if (0..=9999).contains(&y) {
            write!(f, "{y:04}-{m:02}-{d:02}")
        } else {
            write!(f, "{y:+05}-{m:02}-{d:02}")
        }
    }
}

impl core::str::FromStr for Date {
    type Err = Error;
    /// Parses `YYYY-MM-DD`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = || Error::InvalidValue("date (expected YYYY-MM-DD)");
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(bad());
        }
        let y = parse_digits(&s[0..4]).ok_or_else(bad)?;
        let m = parse_digits(&s[5..7]).ok_or_else(bad)?;
        let d = parse_digits(&s[8..10]).ok_or_else(bad)?;
        Date::from_ymd(y as i32, m, d).ok_or_else(bad)
    }
}

impl Encode for Date {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Date
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(&self.days.to_be_bytes());
        Ok(())
    }
    fn size_hint(&self) -> usize {
        4
    }
}

impl Decode for Date {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::Date)?;
        Ok(Self {
            days: i32::from_be_bytes(fixed(payload, "date")?),
        })
    }
}

/// An instant in UTC with nanosecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    seconds: i64,
    nanos: u32,
}

impl Timestamp {
    /// `seconds` since the Unix epoch plus `nanos` (< 10^9); `None` if `nanos` is too large.
    pub fn new(seconds: i64, nanos: u32) -> Option<Self> {
        (nanos < 1_000_000_000).then_some(Self { seconds, nanos })
    }

    /// Seconds since the Unix epoch.
    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// Nanoseconds within the second.
    pub fn nanos(self) -> u32 {
        self.nanos
    }

    /// The current time from the system clock.
    pub fn now() -> Self {
        let since = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            seconds: since.as_secs() as i64,
            nanos: since.subsec_nanos(),
        }
    }
}

impl core::fmt::Display for Timestamp {
    /// RFC 3339 in UTC, `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z`.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        // Like `Date`: years outside 0..=9999 get a sign (ISO 8601 expanded form), so that no
        // two instants print alike.
        if (0..=9999).contains(&y) {
            write!(f, "{y:04}")?;
        } else {
            write!(f, "{y:+05}")?;
        }
        write!(
            f,
            "-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs / 60 % 60,
            secs % 60
        )?;
        if self.nanos != 0 {
            let frac = format!("{:09}", self.nanos);
            write!(f, ".{}", frac.trim_end_matches('0'))?;
        }
        f.write_str("Z")
    }
}

impl core::str::FromStr for Timestamp {
    type Err = Error;
    /// Parses RFC 3339: `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)`.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad =
            || Error::InvalidValue("timestamp (expected RFC 3339, e.g. 2024-05-01T12:00:00Z)");
        if s.len() < 20 || !s.is_char_boundary(10) || !s.is_char_boundary(19) {
            return Err(bad());
        }
        let date: Date = s[..10].parse().map_err(|_| bad())?;
        let t = s.as_bytes();
        if !matches!(t[10], b'T' | b't' | b' ') || t[13] != b':' || t[16] != b':' {
            return Err(bad());
        }
        let hh = parse_digits(&s[11..13]).ok_or_else(bad)?;
        let mm = parse_digits(&s[14..16]).ok_or_else(bad)?;
        let ss = parse_digits(&s[17..19]).ok_or_else(bad)?;
        if hh > 23 || mm > 59 || ss > 59 {
            return Err(bad());
        }
        let mut rest = &s[19..];
        let mut nanos = 0u32;
        if let Some(frac) = rest.strip_prefix('.') {
            let n = frac.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return Err(bad());
            }
            nanos = parse_digits(&frac[..n]).ok_or_else(bad)? * 10u32.pow(9 - n as u32);
            rest = &frac[n..];
        }
        let offset: i64 = match rest {
            "Z" | "z" => 0,
            _ if rest.len() == 6 && rest.is_char_boundary(3) && &rest[3..4] == ":" => {
                let sign = match &rest[..1] {
                    "+" => 1,
                    "-" => -1,
                    _ => return Err(bad()),
                };
                let oh = parse_digits(&rest[1..3]).ok_or_else(bad)?;
                let om = parse_digits(&rest[4..6]).ok_or_else(bad)?;
                if oh > 23 || om > 59 {
                    return Err(bad());
                }
                sign * i64::from(oh * 3600 + om * 60)
            }
            _ => return Err(bad()),
        };
        let seconds = i64::from(date.days) * 86_400 + i64::from(hh * 3600 + mm * 60 + ss) - offset;
        Ok(Self { seconds, nanos })
    }
}

impl Encode for Timestamp {
    fn type_tag(&self) -> TypeTag {
        TypeTag::Timestamp
    }
    fn encode_payload(&self, out: &mut Vec<u8>) -> Result<(), Error> {
        out.extend_from_slice(&self.seconds.to_be_bytes());
        out.extend_from_slice(&self.nanos.to_be_bytes());
        Ok(())
    }
    fn size_hint(&self) -> usize {
        12
    }
}

impl Decode for Timestamp {
    fn decode_payload(tag: TypeTag, payload: &mut Vec<u8>) -> Result<Self, Error> {
        expect_tag(tag, TypeTag::Timestamp)?;
        let raw: [u8; 12] = fixed(payload, "timestamp")?;
        let (s, n) = raw.split_at(8);
        let seconds = i64::from_be_bytes(fixed(s, "timestamp")?);
        let nanos = u32::from_be_bytes(fixed(n, "timestamp")?);
        Timestamp::new(seconds, nanos).ok_or(Error::InvalidValue("timestamp"))
    }
}

fn parse_digits(s: &str) -> Option<u32> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(i64::from(year)) => 29,
        _ => 28,
    }
}

/// Howard Hinnant's `days_from_civil`: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

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
/// [`Value`]), since `serde_json::Value` rounds numbers to `f64`; [`Json<T>`] is the typed way.
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
mod tests {
    use super::*;

    #[test]
    fn json_without_an_encoding_is_refused_at_seal_time() {
        let mut by_pair = std::collections::BTreeMap::new();
        by_pair.insert((1, 2), "a");
        let mut out = Vec::new();
        assert_eq!(
            Json(by_pair).encode_payload(&mut out),
            Err(Error::Unencodable("json"))
        );
    }

    #[test]
    fn json_text_drops_whitespace_between_tokens_only() {
        let text = " {\"a b\" : [ 1.10 , 123456789012345678901234567890.5, 1e400 ],\n\t\"s\": \"x \\\" y\\\\\" } ";
        let json = JsonText::new(text).unwrap();
        assert_eq!(
            json.as_str(),
            r#"{"a b":[1.10,123456789012345678901234567890.5,1e400],"s":"x \" y\\"}"#
        );
        // serde_json cannot read 1e400 into a Value at all; the text keeps it.
        assert!(json.parse::<serde_json::Value>().is_err());
        // Without it, serde_json reads the compact text as the same value as the original.
        let plain = " [ 1.5 , {\"k\" : \"a  b\"} ] ";
        assert_eq!(
            JsonText::new(plain)
                .unwrap()
                .parse::<serde_json::Value>()
                .unwrap(),
            serde_json::from_str::<serde_json::Value>(plain).unwrap()
        );
        for bad in ["", "{", "[1,]", "NaN", "01", "1 2", "{'a':1}", "\"\\x\""] {
            assert_eq!(
                JsonText::new(bad),
                Err(Error::InvalidValue("json")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn json_text_opens_as_it_was_sealed_and_as_a_value() {
        let mut payload = b"[1.10, {\"k\": null}]".to_vec();
        let opened = JsonText::decode_payload(TypeTag::Json, &mut payload).unwrap();
        assert_eq!(
            opened.as_str(),
            "[1.10, {\"k\": null}]",
            "whitespace a writer left stays"
        );
        let mut out = Vec::new();
        JsonText::new("[1.10, {\"k\": null}]")
            .unwrap()
            .encode_payload(&mut out)
            .unwrap();
        assert_eq!(out, b"[1.10,{\"k\":null}]");
        let mut invalid = b"[1,".to_vec();
        assert!(JsonText::decode_payload(TypeTag::Json, &mut invalid).is_err());
        let mut not_utf8 = b"\"\xff\"".to_vec();
        assert!(JsonText::decode_payload(TypeTag::Json, &mut not_utf8).is_err());
        assert!(JsonText::decode_payload(TypeTag::String, &mut b"1".to_vec()).is_err());
    }

    #[test]
    fn timestamps_outside_four_digit_years_print_with_a_sign() {
        let far = Timestamp::new(253_402_300_800, 0).unwrap(); // 10000-01-01
        assert_eq!(far.to_string(), "+10000-01-01T00:00:00Z");
        let before = Timestamp::new(-62_167_219_201, 5).unwrap(); // 0000-01-01 minus 1 s
        assert_eq!(before.to_string(), "-0001-12-31T23:59:59.000000005Z");
    }

    #[test]
    fn civil_round_trip_and_known_days() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(1969, 12, 31), -1);
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(i64::from(y), m, d), z);
        }
    }

    #[test]
    fn timestamps_parse_with_offsets() -> Result<(), Error> {
        let a: Timestamp = "1985-10-26T01:20:00-07:00".parse()?;
        assert_eq!(a.seconds(), 499_162_800);
        let b: Timestamp = "2024-02-29T23:59:59.5Z".parse()?;
        assert_eq!(b.nanos(), 500_000_000);
        assert_eq!(b.to_string(), "2024-02-29T23:59:59.5Z");
        assert!("2023-02-29T00:00:00Z".parse::<Timestamp>().is_err());
        assert!("2024-01-01T24:00:00Z".parse::<Timestamp>().is_err());
        Ok(())
    }

    #[test]
    fn decimals_are_checked() {
        for ok in [
            "0",
            "1.50",
            "-12.5",
            "0.000",
            "123456789012345678901234567890.1",
        ] {
            assert!(Decimal::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "", "-", "01", "1.", ".5", "1e5", "+1", "-0", "-0.00", "1,5", " 1",
        ] {
            assert!(Decimal::new(bad).is_err(), "{bad}");
        }
    }
}
