//! Typed values: what a decrypted Django value becomes, the way Django's ORM would read it
//! (shared/testdata/django/FORMATS.md section 9), as a [`fieldcrypt::Value`] ready to seal.
//!
//! The text-based libraries store `str()` of a value, so the field's kind decides how the text
//! reads back:
//!
//! | kind | stored text | value |
//! | --- | --- | --- |
//! | `text` | as is | `String` |
//! | `integer` | `42`, `-9223372036854775808` | `Int` |
//! | `boolean` | `1`/`0`, `True`/`False`, `t`/`f` | `Bool` |
//! | `date` | `2024-02-29` | `Date` |
//! | `datetime` | `2024-02-29 13:37:42[.123456][+05:30]` | `Timestamp` (the instant) |
//! | `decimal` | `1234.50`, `1E+3` | `Decimal` (scale kept) |
//! | `float` | `3.14159`, `-0.0`, `1e-300` | `Float` |
//! | `json` | `{"a": 1}` | `Json` |
//!
//! Datetimes: the text carries its offset where Django's backend kept it (PostgreSQL, and
//! django-fernet-encrypted-fields everywhere). Where it is naive (SQLite and MySQL under
//! `USE_TZ`), Django reads it in the connection's zone, UTC unless configured: [`NaiveZone`]
//! says which. A datetime becomes the instant it names; fieldcrypt's timestamp does not keep the
//! offset it was written with (Django with `USE_TZ` hands out UTC datetimes from the database
//! too).

use fieldcrypt::{Date, Decimal, Timestamp, Value};

use crate::pickle::{PyDateTime, PyValue, TzInfo};

/// Why a decrypted value does not read as its kind. The plaintext is never in the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the decrypted value is not a valid {kind}: {why}")]
pub struct ValueError {
    /// The kind expected.
    pub kind: &'static str,
    /// What is wrong, in general terms.
    pub why: &'static str,
}

fn bad(kind: &'static str, why: &'static str) -> ValueError {
    ValueError { kind, why }
}

/// The Django field a column belongs to, which decides how its stored text reads back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// CharField, TextField, EmailField: the text itself.
    Text,
    /// IntegerField, BigIntegerField, SmallIntegerField, PositiveIntegerField.
    Integer,
    /// BooleanField.
    Boolean,
    /// DateField.
    Date,
    /// DateTimeField.
    DateTime,
    /// DecimalField.
    Decimal,
    /// FloatField.
    Float,
    /// JSONField (django-cryptography's pickled dicts and lists; fernet-encrypted-fields'
    /// EncryptedJSONField, whose leaves come back as strings).
    Json,
}

impl FieldKind {
    /// The kind's name as the CLI takes it.
    pub fn name(self) -> &'static str {
        match self {
            FieldKind::Text => "text",
            FieldKind::Integer => "integer",
            FieldKind::Boolean => "boolean",
            FieldKind::Date => "date",
            FieldKind::DateTime => "datetime",
            FieldKind::Decimal => "decimal",
            FieldKind::Float => "float",
            FieldKind::Json => "json",
        }
    }

    /// Parses a kind's name (also Django's field names: `char`, `email`, `bigint`, ...).
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "text" | "char" | "email" | "str" | "string" => FieldKind::Text,
            "integer" | "int" | "bigint" | "smallint" | "positiveint" => FieldKind::Integer,
            "boolean" | "bool" => FieldKind::Boolean,
            "date" => FieldKind::Date,
            "datetime" | "timestamp" => FieldKind::DateTime,
            "decimal" => FieldKind::Decimal,
            "float" => FieldKind::Float,
            "json" => FieldKind::Json,
            _ => return None,
        })
    }
}

/// The zone a naive datetime is read in (Django's connection time zone).
#[derive(Debug, Clone, Default)]
pub enum NaiveZone {
    /// UTC: what Django writes on SQLite and MySQL with `USE_TZ = True`.
    #[default]
    Utc,
    /// A zone by its IANA name (from the system's zoneinfo), for `USE_TZ = False` apps or a
    /// `DATABASES[...]["TIME_ZONE"]` setting.
    Zone(jiff::tz::TimeZone),
}

impl NaiveZone {
    /// `UTC`, or an IANA zone name (`Europe/Paris`).
    pub fn parse(name: &str) -> Result<Self, ValueError> {
        if name.eq_ignore_ascii_case("utc") {
            return Ok(NaiveZone::Utc);
        }
        jiff::tz::TimeZone::get(name)
            .map(NaiveZone::Zone)
            .map_err(|_| bad("time zone", "no such zone in the system's zoneinfo"))
    }
}

/// Reads `text` (what a text-based library decrypted) as a value of `kind`.
pub fn parse_text(kind: FieldKind, text: &str, naive: &NaiveZone) -> Result<Value, ValueError> {
    Ok(match kind {
        FieldKind::Text => Value::String(text.to_owned()),
        FieldKind::Integer => Value::Int(
            text.trim()
                .parse()
                .map_err(|_| bad("integer", "not a 64-bit integer"))?,
        ),
        FieldKind::Boolean => Value::Bool(match text.trim() {
            "1" | "True" | "true" | "t" => true,
            "0" | "False" | "false" | "f" => false,
            _ => return Err(bad("boolean", "not 1, 0, True or False")),
        }),
        FieldKind::Date => {
            let (date, rest) = parse_date_prefix(text.trim())?;
            if !rest.is_empty() {
                return Err(bad("date", "not YYYY-MM-DD"));
            }
            Value::Date(date)
        }
        FieldKind::DateTime => Value::Timestamp(parse_datetime(text.trim(), naive)?),
        FieldKind::Decimal => Value::Decimal(python_decimal(text.trim())?),
        FieldKind::Float => Value::Float(python_float(text.trim())?),
        FieldKind::Json => {
            // Kept as written: Python reads integers of any size exactly.
            Value::Json(fieldcrypt::JsonText::new(text).map_err(|_| bad("json", "not JSON"))?)
        }
    })
}

/// Reads an unpickled Python value (django-cryptography) as a value of `kind`.
pub fn from_python(
    kind: FieldKind,
    value: PyValue,
    naive: &NaiveZone,
) -> Result<Value, ValueError> {
    let name = kind.name();
    Ok(match (kind, value) {
        (FieldKind::Text, PyValue::Str(s)) => Value::String(s),
        (FieldKind::Integer, PyValue::Int(v)) => {
            Value::Int(i64::try_from(v).map_err(|_| bad(name, "wider than 64 bits"))?)
        }
        (FieldKind::Boolean, PyValue::Bool(v)) => Value::Bool(v),
        (FieldKind::Date, PyValue::Date(y, m, d)) => Value::Date(ymd(y, m, d)?),
        (FieldKind::DateTime, PyValue::DateTime(dt)) => Value::Timestamp(instant(&dt, naive)?),
        (FieldKind::Decimal, PyValue::Decimal(text)) => Value::Decimal(python_decimal(&text)?),
        (FieldKind::Float, PyValue::Float(v)) => Value::Float(v),
        (FieldKind::Float, PyValue::Int(v)) => Value::Float(v as f64),
        (FieldKind::Json, v) => Value::Json(fieldcrypt::JsonText::from_value(&to_json(v, 0)?)),
        _ => return Err(bad(name, "the pickled object is of another type")),
    })
}

fn to_json(value: PyValue, depth: usize) -> Result<serde_json::Value, ValueError> {
    use serde_json::Value as J;
    if depth > crate::pickle::MAX_DEPTH {
        return Err(bad("json", "nested too deeply"));
    }
    Ok(match value {
        PyValue::None => J::Null,
        PyValue::Bool(v) => J::Bool(v),
        PyValue::Int(v) => match (i64::try_from(v), u64::try_from(v)) {
            (Ok(v), _) => J::from(v),
            (_, Ok(v)) => J::from(v),
            _ => return Err(bad("json", "an integer wider than 64 bits")),
        },
        PyValue::Float(v) => {
            J::Number(serde_json::Number::from_f64(v).ok_or(bad("json", "NaN or infinity"))?)
        }
        PyValue::Str(s) => J::String(s),
        PyValue::List(items) => J::Array(
            items
                .into_iter()
                .map(|v| to_json(v, depth + 1))
                .collect::<Result<_, _>>()?,
        ),
        PyValue::Dict(items) => J::Object(
            items
                .into_iter()
                .map(|(k, v)| match k {
                    PyValue::Str(k) => Ok((k, to_json(v, depth + 1)?)),
                    _ => Err(bad("json", "a dict key that is not a str")),
                })
                .collect::<Result<_, _>>()?,
        ),
        PyValue::Decimal(_) | PyValue::Date(..) | PyValue::DateTime(_) => {
            return Err(bad("json", "a value JSON cannot hold"));
        }
    })
}

fn ymd(year: i32, month: u8, day: u8) -> Result<Date, ValueError> {
    Date::from_ymd(year, month.into(), day.into()).ok_or(bad("date", "no such day"))
}

/// `YYYY-MM-DD` at the start of `text` (Django's `date_re`: one or two digits for month and
/// day), and the rest.
fn parse_date_prefix(text: &str) -> Result<(Date, &str), ValueError> {
    let (year, rest) = digits(text, 4, 4).ok_or(bad("date", "not YYYY-MM-DD"))?;
    let rest = rest
        .strip_prefix('-')
        .ok_or(bad("date", "not YYYY-MM-DD"))?;
    let (month, rest) = digits(rest, 1, 2).ok_or(bad("date", "not YYYY-MM-DD"))?;
    let rest = rest
        .strip_prefix('-')
        .ok_or(bad("date", "not YYYY-MM-DD"))?;
    let (day, rest) = digits(rest, 1, 2).ok_or(bad("date", "not YYYY-MM-DD"))?;
    let date = Date::from_ymd(year as i32, month, day).ok_or(bad("date", "no such day"))?;
    Ok((date, rest))
}

/// At least `min` and at most `max` ASCII digits at the start of `text`, and the rest.
fn digits(text: &str, min: usize, max: usize) -> Option<(u32, &str)> {
    let n = text
        .bytes()
        .take(max)
        .take_while(u8::is_ascii_digit)
        .count();
    if n < min {
        return None;
    }
    Some((text[..n].parse().ok()?, &text[n..]))
}

/// Django's `parse_datetime`: `YYYY-MM-DD[T ]HH:MM[:SS[.ffffff]][ ][Z|±HH[[:]MM]]`.
fn parse_datetime(text: &str, naive: &NaiveZone) -> Result<Timestamp, ValueError> {
    const WHAT: &str = "datetime";
    let fail = || bad(WHAT, "not YYYY-MM-DD HH:MM[:SS[.ffffff]][+HH:MM]");
    let (date, rest) = parse_date_prefix(text).map_err(|_| fail())?;
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix(' '))
        .ok_or_else(fail)?;
    let (hour, rest) = digits(rest, 1, 2).ok_or_else(fail)?;
    let rest = rest.strip_prefix(':').ok_or_else(fail)?;
    let (minute, mut rest) = digits(rest, 1, 2).ok_or_else(fail)?;
    let (mut second, mut micros) = (0, 0);
    if let Some(r) = rest.strip_prefix(':') {
        let (s, r) = digits(r, 1, 2).ok_or_else(fail)?;
        second = s;
        rest = r;
        if let Some(r) = rest.strip_prefix('.').or_else(|| rest.strip_prefix(',')) {
            // Up to six digits count; Django ignores up to six more.
            let n = r.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 12 {
                return Err(fail());
            }
            let used = &r[..n.min(6)];
            micros = used.parse::<u32>().map_err(|_| fail())? * 10_u32.pow(6 - used.len() as u32);
            rest = &r[n..];
        }
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Err(bad(WHAT, "time out of range"));
    }
    let rest = rest.trim_start();
    let offset = match rest {
        "" => None,
        "Z" => Some(0),
        _ => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(fail()),
            };
            let (hh, r) = digits(&rest[1..], 2, 2).ok_or_else(fail)?;
            let r = r.strip_prefix(':').unwrap_or(r);
            let mm = if r.is_empty() {
                0
            } else {
                let (mm, r) = digits(r, 2, 2).ok_or_else(fail)?;
                if !r.is_empty() {
                    return Err(fail());
                }
                mm
            };
            if hh > 23 || mm > 59 {
                return Err(bad(WHAT, "offset out of range"));
            }
            Some(sign * (hh * 3600 + mm * 60) as i32)
        }
    };
    let (year, month, day) = date.to_ymd();
    let wall = PyDateTime {
        year,
        month: month as u8,
        day: day as u8,
        hour: hour as u8,
        minute: minute as u8,
        second: second as u8,
        microsecond: micros,
        fold: 0,
        tz: offset.map(TzInfo::Fixed),
    };
    instant(&wall, naive)
}

/// The instant a Python datetime names: its own zone if aware, else `naive`'s. `fold` picks
/// between the two readings of a repeated or skipped wall time as PEP 495 does (0: the offset
/// in force before the transition).
pub fn instant(dt: &PyDateTime, naive: &NaiveZone) -> Result<Timestamp, ValueError> {
    const WHAT: &str = "datetime";
    let date = ymd(dt.year, dt.month, dt.day)?;
    let wall_seconds = i64::from(date.days_since_epoch()) * 86_400
        + i64::from(dt.hour) * 3600
        + i64::from(dt.minute) * 60
        + i64::from(dt.second);
    let zone = match &dt.tz {
        Some(TzInfo::Fixed(offset)) => return stamp(wall_seconds - i64::from(*offset), dt),
        Some(TzInfo::Named(name)) => jiff::tz::TimeZone::get(name)
            .map_err(|_| bad(WHAT, "its time zone is not in the system's zoneinfo"))?,
        None => match naive {
            NaiveZone::Utc => return stamp(wall_seconds, dt),
            NaiveZone::Zone(zone) => zone.clone(),
        },
    };
    let civil = jiff::civil::DateTime::new(
        i16::try_from(dt.year).map_err(|_| bad(WHAT, "year out of range"))?,
        dt.month as i8,
        dt.day as i8,
        dt.hour as i8,
        dt.minute as i8,
        dt.second as i8,
        0,
    )
    .map_err(|_| bad(WHAT, "not a valid wall time"))?;
    use jiff::tz::AmbiguousOffset;
    let offset = match zone.to_ambiguous_timestamp(civil).offset() {
        AmbiguousOffset::Unambiguous { offset } => offset,
        AmbiguousOffset::Gap { before, after } | AmbiguousOffset::Fold { before, after } => {
            if dt.fold == 0 { before } else { after }
        }
    };
    stamp(wall_seconds - i64::from(offset.seconds()), dt)
}

fn stamp(seconds: i64, dt: &PyDateTime) -> Result<Timestamp, ValueError> {
    Timestamp::new(seconds, dt.microsecond * 1000)
        .ok_or(bad("datetime", "microseconds out of range"))
}

/// Python's `str(Decimal)` (`1234.50`, `-0.01`, `1E+3`, `0E-10`) as fieldcrypt's canonical
/// decimal text, keeping the scale. NaN and infinities are refused: no column type holds them.
pub fn python_decimal(text: &str) -> Result<Decimal, ValueError> {
    const WHAT: &str = "decimal";
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (
            &body[..at],
            body[at + 1..]
                .parse::<i32>()
                .map_err(|_| bad(WHAT, "not a finite decimal"))?,
        ),
        None => (body, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part
            .bytes()
            .chain(frac_part.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad(WHAT, "not a finite decimal"));
    }
    if exponent.unsigned_abs() > 1000 {
        return Err(bad(WHAT, "exponent out of range"));
    }
    // All digits, and the position of the point counted from the right.
    let digits: String = format!("{int_part}{frac_part}");
    let scale = frac_part.len() as i64 - i64::from(exponent);
    let (whole, fraction) = if scale <= 0 {
        (
            format!("{digits}{}", "0".repeat((-scale) as usize)),
            String::new(),
        )
    } else {
        let scale = scale as usize;
        let padded = if digits.len() <= scale {
            format!("{}{digits}", "0".repeat(scale - digits.len() + 1))
        } else {
            digits
        };
        let split = padded.len() - scale;
        (padded[..split].to_owned(), padded[split..].to_owned())
    };
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    let is_zero = whole == "0" && fraction.bytes().all(|b| b == b'0');
    let mut out = String::new();
    if negative && !is_zero {
        out.push('-');
    }
    out.push_str(whole);
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(&fraction);
    }
    Decimal::new(out).map_err(|_| bad(WHAT, "not a finite decimal"))
}

/// Python's `float()` of its own `repr`: `3.14159`, `-0.0`, `1e-300`, `inf`, `nan`.
fn python_float(text: &str) -> Result<f64, ValueError> {
    text.parse::<f64>()
        .map_err(|_| bad("float", "not a number"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn decimals_as_python_prints_them() {
        for (python, canonical) in [
            ("1234.50", "1234.50"),
            ("-0.01", "-0.01"),
            ("1E+3", "1000"),
            ("1.23E+5", "123000"),
            ("0E-10", "0.0000000000"),
            ("-0", "0"),
            ("-0.00", "0.00"),
            ("12345678901234.50", "12345678901234.50"),
            ("1.5E-7", "0.00000015"),
            ("007", "7"),
        ] {
            assert_eq!(
                python_decimal(python).unwrap().as_str(),
                canonical,
                "{python}"
            );
        }
        for refused in [
            "NaN",
            "Infinity",
            "-Infinity",
            "sNaN",
            "",
            "1.2.3",
            "1E",
            "E5",
            ".",
        ] {
            assert!(python_decimal(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn datetimes_with_and_without_offsets() {
        let utc = NaiveZone::Utc;
        let at = |t: &str, z: &NaiveZone| parse_datetime(t, z).unwrap().to_string();
        assert_eq!(
            at("2024-02-29 13:37:42.123456", &utc),
            "2024-02-29T13:37:42.123456Z"
        );
        assert_eq!(
            at("2024-02-29 19:07:42+05:30", &utc),
            "2024-02-29T13:37:42Z"
        );
        assert_eq!(
            at("2024-02-29T05:37:42-08:00", &utc),
            "2024-02-29T13:37:42Z"
        );
        assert_eq!(at("2024-02-29 13:37", &utc), "2024-02-29T13:37:00Z");
        assert_eq!(at("2024-2-9 3:07:42Z", &utc), "2024-02-09T03:07:42Z");
        assert_eq!(at("2024-02-29 13:37:42+0530", &utc), "2024-02-29T08:07:42Z");
        let paris = NaiveZone::parse("Europe/Paris").unwrap();
        assert_eq!(at("2024-02-29 14:37:42", &paris), "2024-02-29T13:37:42Z");
        // The repeated hour of 2024-10-27 in Paris: fold 0 is the first (summer, +02:00).
        assert_eq!(at("2024-10-27 02:30:00", &paris), "2024-10-27T00:30:00Z");
        for refused in [
            "2024-02-30 00:00",
            "2024-02-29",
            "2024-02-29 24:00",
            "x",
            "2024-02-29 13:37+5",
        ] {
            assert!(parse_datetime(refused, &utc).is_err(), "{refused}");
        }
    }

    #[test]
    fn the_fold_picks_the_offset_as_python_does() {
        let paris = NaiveZone::Utc;
        let wall = |fold, hour| PyDateTime {
            year: 2024,
            month: 10,
            day: 27,
            hour,
            minute: 30,
            second: 0,
            microsecond: 0,
            fold,
            tz: Some(TzInfo::Named("Europe/Paris".to_owned())),
        };
        assert_eq!(
            instant(&wall(0, 2), &paris).unwrap().to_string(),
            "2024-10-27T00:30:00Z"
        );
        assert_eq!(
            instant(&wall(1, 2), &paris).unwrap().to_string(),
            "2024-10-27T01:30:00Z"
        );
        // In the spring gap (02:30 does not exist on 2024-03-31), fold 0 reads it with the
        // offset before the gap (+01:00), as Python does.
        let mut gap = wall(0, 2);
        gap.month = 3;
        gap.day = 31;
        assert_eq!(
            instant(&gap, &paris).unwrap().to_string(),
            "2024-03-31T01:30:00Z"
        );
    }
}
