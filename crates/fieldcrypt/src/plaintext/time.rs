//! Dates and timestamps, and their text forms.
//!
//! Text is RFC 3339 (`2024-05-01`, `2024-05-01T12:00:00.5+02:00`), plus ISO 8601's expanded
//! years (`+10000-01-01`, `-0001-12-31`) for the instants outside years 0000..=9999 that the
//! binary encodings hold: `Display` writes them, so every value reads back as itself. Parsing
//! walks the bytes with a cursor (no slicing by index), so no input can split a character.

use crate::error::Error;

use super::civil::{civil_from_days, days_from_civil, days_in_month};
use super::{Decode, Encode, TypeTag, expect_tag, fixed};

const BAD_DATE: Error = Error::InvalidValue("date (expected YYYY-MM-DD)");
const BAD_TIMESTAMP: Error =
    Error::InvalidValue("timestamp (expected RFC 3339, e.g. 2024-05-01T12:00:00Z)");

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
        let days = checked_days(i64::from(year), month, day)?;
        i32::try_from(days).ok().map(|days| Self { days })
    }

    /// Year, month (1-12), day (1-31).
    pub fn to_ymd(self) -> (i32, u32, u32) {
        let (y, m, d) = civil_from_days(i64::from(self.days));
        // Days in i32 span about ±5.9 million years: the year fits.
        (y as i32, m, d)
    }
}

impl core::fmt::Display for Date {
    /// ISO 8601 `YYYY-MM-DD` (years outside 0..=9999 get a sign and more digits).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let (y, m, d) = self.to_ymd();
        write_year(f, i64::from(y))?;
        write!(f, "-{m:02}-{d:02}")
    }
}

impl core::str::FromStr for Date {
    type Err = Error;
    /// Parses `YYYY-MM-DD`, or an expanded year `±YYYYY-MM-DD` as [`Date`]'s `Display` writes.
    fn from_str(s: &str) -> Result<Self, Error> {
        let mut cursor = Cursor::new(s);
        let days = cursor.date(true).ok_or(BAD_DATE)?;
        if !cursor.is_done() {
            return Err(BAD_DATE);
        }
        i32::try_from(days)
            .map(Self::from_days_since_epoch)
            .map_err(|_| BAD_DATE)
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
            seconds: i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
            nanos: since.subsec_nanos(),
        }
    }

    /// Parses RFC 3339 `date-time` only: a four-digit year, no expanded form. What the keyring
    /// document's `created` holds (FORMAT.md section 10.1); [`str::parse`] takes both forms.
    pub fn parse_rfc3339(s: &str) -> Result<Self, Error> {
        parse_timestamp(s, false)
    }
}

impl core::fmt::Display for Timestamp {
    /// RFC 3339 in UTC, `YYYY-MM-DDTHH:MM:SS[.fffffffff]Z` (years outside 0..=9999 get a sign
    /// and more digits, ISO 8601's expanded form, so that no two instants print alike).
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let days = self.seconds.div_euclid(86_400);
        let secs = self.seconds.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write_year(f, y)?;
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
    /// Parses RFC 3339, `YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM)` (`T`, `t` or a space between
    /// date and time), or the expanded year `±YYYYY-…` that [`Timestamp`]'s `Display` writes.
    fn from_str(s: &str) -> Result<Self, Error> {
        parse_timestamp(s, true)
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

/// `YYYY`, or with a sign and at least four digits outside 0..=9999.
fn write_year(f: &mut core::fmt::Formatter<'_>, y: i64) -> core::fmt::Result {
    if (0..=9999).contains(&y) {
        write!(f, "{y:04}")
    } else {
        write!(f, "{y:+05}")
    }
}

/// Days since 1970-01-01 of a date that exists.
fn checked_days(year: i64, month: u32, day: u32) -> Option<i64> {
    (day >= 1 && day <= days_in_month(year, month)).then(|| days_from_civil(year, month, day))
}

fn parse_timestamp(s: &str, expanded_years: bool) -> Result<Timestamp, Error> {
    let mut c = Cursor::new(s);
    let days = c.date(expanded_years).ok_or(BAD_TIMESTAMP)?;
    if !matches!(c.next(), Some(b'T' | b't' | b' ')) {
        return Err(BAD_TIMESTAMP);
    }
    let (hh, mm, ss) = c.hms().ok_or(BAD_TIMESTAMP)?;
    if hh > 23 || mm > 59 || ss > 59 {
        return Err(BAD_TIMESTAMP);
    }
    let nanos = if c.eat(b'.') {
        c.fraction().ok_or(BAD_TIMESTAMP)?
    } else {
        0
    };
    let offset = c.offset().ok_or(BAD_TIMESTAMP)?;
    if !c.is_done() {
        return Err(BAD_TIMESTAMP);
    }
    let seconds =
        i128::from(days) * 86_400 + i128::from(hh * 3600 + mm * 60 + ss) - i128::from(offset);
    let seconds = i64::try_from(seconds).map_err(|_| BAD_TIMESTAMP)?;
    Ok(Timestamp { seconds, nanos })
}

/// Reads ASCII fields off the front of a string, a byte at a time.
struct Cursor<'a> {
    rest: &'a [u8],
}

impl<'a> Cursor<'a> {
    fn new(s: &'a str) -> Self {
        Self { rest: s.as_bytes() }
    }

    fn next(&mut self) -> Option<u8> {
        let (&b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(b)
    }

    fn peek(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        if hit {
            self.rest = self.rest.get(1..).unwrap_or_default();
        }
        hit
    }

    fn is_done(&self) -> bool {
        self.rest.is_empty()
    }

    /// Up to `max` ASCII digits (at least `min`), as a number and how many were read.
    fn digits(&mut self, min: usize, max: usize) -> Option<(i64, usize)> {
        let mut value: i64 = 0;
        let mut n = 0;
        while n < max {
            let Some(d @ b'0'..=b'9') = self.peek() else {
                break;
            };
            value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
            self.next();
            n += 1;
        }
        (n >= min).then_some((value, n))
    }

    /// Exactly two digits.
    fn two(&mut self) -> Option<u32> {
        let (v, _) = self.digits(2, 2)?;
        u32::try_from(v).ok()
    }

    /// `YYYY-MM-DD` (or `±Y{4,12}-MM-DD` when `expanded`), as days since 1970-01-01.
    fn date(&mut self, expanded: bool) -> Option<i64> {
        let year = match self.peek()? {
            sign @ (b'+' | b'-') if expanded => {
                self.next();
                // Twelve digits cover every year a Timestamp can hold.
                let (y, _) = self.digits(4, 12)?;
                if sign == b'-' { -y } else { y }
            }
            _ => self.digits(4, 4)?.0,
        };
        if !self.eat(b'-') {
            return None;
        }
        let month = self.two()?;
        if !self.eat(b'-') {
            return None;
        }
        let day = self.two()?;
        checked_days(year, month, day)
    }

    /// `HH:MM:SS`.
    fn hms(&mut self) -> Option<(u32, u32, u32)> {
        let h = self.two()?;
        self.eat(b':').then_some(())?;
        let m = self.two()?;
        self.eat(b':').then_some(())?;
        Some((h, m, self.two()?))
    }

    /// One to nine digits after the point, as nanoseconds.
    fn fraction(&mut self) -> Option<u32> {
        let (v, n) = self.digits(1, 9)?;
        if matches!(self.peek(), Some(b'0'..=b'9')) {
            return None; // a tenth digit
        }
        let scale = 10i64.pow(9 - u32::try_from(n).ok()?);
        u32::try_from(v * scale).ok()
    }

    /// `Z`, `z` or `±HH:MM`, in seconds east of UTC.
    fn offset(&mut self) -> Option<i64> {
        let sign = match self.next()? {
            b'Z' | b'z' => return Some(0),
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        let h = self.two()?;
        self.eat(b':').then_some(())?;
        let m = self.two()?;
        (h <= 23 && m <= 59).then(|| sign * i64::from(h * 3600 + m * 60))
    }
}
