//! What a job does to one row, on every core: the transform (seal, open, re-seal, re-index),
//! the check the verification pass makes, and what this run wrote (so that it need not open it
//! all again). The contexts values are bound to, and the conversions between cells and typed
//! values, live here too.

use std::borrow::Cow;
use std::collections::HashSet;
use std::hash::BuildHasher;

use fieldcrypt::{Context, Envelope, Keyring, RowKey, Sealer, Value};

use crate::db::{Cell, Class, Plan, ReadRow, RowId};
use crate::error::MigrateError;
use crate::spec::{ColumnJob, Operation, SourceFormat};

/// The contexts values are bound to: one for the column, built once per job; per row, that one
/// with the row's key when the job binds values to rows.
#[derive(Clone)]
pub(crate) struct Contexts {
    column: Context,
    bind_row: bool,
}

impl Contexts {
    pub(crate) fn new(job: &ColumnJob) -> Result<Self, fieldcrypt::Error> {
        let (table, column) = job.context_names();
        Ok(Self {
            column: Context::new(table, column)?,
            bind_row: job.bind_row,
        })
    }

    fn for_row(&self, id: &RowId) -> Result<Cow<'_, Context>, fieldcrypt::Error> {
        if !self.bind_row {
            return Ok(Cow::Borrowed(&self.column));
        }
        Ok(Cow::Owned(self.column.clone().with_row(match id {
            RowId::Int(v) => RowKey::from(*v),
            RowId::Text(v) => RowKey::from(v.as_str()),
        })?))
    }
}

/// The value a plaintext cell of a column of `class` holds; `None` when its text is not a value
/// of the column's type that the core can hold exactly (`infinity`, a BC date, `NaN`, MySQL's
/// zero date): the row is reported, not guessed at.
fn to_value(cell: Cell, class: Class) -> Option<Value> {
    Some(match (cell, class) {
        (Cell::Text(v), Class::Date) => Value::Date(v.trim().parse().ok()?),
        (Cell::Text(v), Class::Timestamp) => Value::Timestamp(timestamp_from_text(&v)?),
        (Cell::Text(v), Class::Decimal) => Value::Decimal(fieldcrypt::Decimal::new(v.trim()).ok()?),
        (Cell::Text(v), Class::Uuid) => Value::String(canonical_uuid(&v)?),
        (Cell::Text(v), Class::Json) => Value::Json(fieldcrypt::JsonText::new(&v).ok()?),
        (Cell::Text(v), _) => Value::String(v),
        (Cell::Binary(v), _) => Value::Bytes(v),
        (Cell::Int(v), _) => Value::Int(v),
        (Cell::Float(v), _) => Value::Float(v),
        (Cell::Bool(v), _) => Value::Bool(v),
    })
}

/// A UUID in the form row keys and sealed UUIDs take, lower-case and hyphenated
/// (`0190a6e2-7c1b-7d3e-9f00-2a1b3c4d5e6f`), from that form in either case; `None` for text
/// that is not a UUID (a SQLite column declared `uuid` holds whatever was stored).
fn canonical_uuid(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let well_formed = bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        });
    well_formed.then(|| text.to_ascii_lowercase())
}

/// A timestamp column's text: `YYYY-MM-DD HH:MM:SS[.ffffff]`, with PostgreSQL's `+00` (the
/// session runs in UTC), an RFC 3339 offset, or no zone at all (taken as UTC wall time).
fn timestamp_from_text(text: &str) -> Option<fieldcrypt::Timestamp> {
    let text = text.trim();
    let text = text.strip_suffix("+00").unwrap_or(text);
    text.parse().or_else(|_| format!("{text}Z").parse()).ok()
}

/// The text a date, timestamp or decimal column takes, for years 1 to 9999 (what every
/// supported database's date types hold). Timestamps are UTC wall time with six fractional
/// digits when there is a fraction (nine below a microsecond), as Python and the databases
/// print them, so that SQLite's text columns get back the text they held.
fn textual(value: &Value) -> Option<String> {
    let in_range = |text: &str| {
        text.as_bytes().first().is_some_and(u8::is_ascii_digit) && !text.starts_with("0000")
    };
    match value {
        Value::Date(date) => Some(date.to_string()).filter(|t| in_range(t)),
        Value::Timestamp(at) => {
            // `YYYY-MM-DDTHH:MM:SS[.f]Z` for these years.
            let text = at.to_string();
            let (date, time) = (text.get(..10)?, text.get(11..19)?);
            let fraction = match at.nanos() {
                0 => String::new(),
                n if n % 1000 == 0 => format!(".{:06}", n / 1000),
                n => format!(".{n:09}"),
            };
            in_range(&text).then(|| format!("{date} {time}{fraction}"))
        }
        Value::Decimal(decimal) => Some(decimal.to_string()),
        _ => None,
    }
}

/// The plaintext cell for a column of `class`, if the value fits it without loss.
fn from_value(value: Value, class: Class) -> Option<Cell> {
    Some(match (value, class) {
        (value @ Value::Date(_), Class::Date)
        | (value @ Value::Timestamp(_), Class::Timestamp)
        | (value @ Value::Decimal(_), Class::Decimal) => Cell::Text(textual(&value)?),
        (Value::String(v), Class::Text) => Cell::Text(v),
        (Value::String(v), Class::Uuid) => Cell::Text(canonical_uuid(&v)?),
        (Value::Json(v), Class::Json | Class::Text) => Cell::Text(v.into_string()),
        // A JSON text sealed as a string (say, from a MariaDB JSON column encrypted when it was
        // taken for text) goes back into a JSON column when it is JSON.
        (Value::String(v), Class::Json) => {
            fieldcrypt::JsonText::new(&v).ok()?;
            Cell::Text(v)
        }
        (Value::Bytes(v), Class::Binary) => Cell::Binary(v),
        (Value::String(v), Class::Binary) => Cell::Binary(v.into_bytes()),
        (Value::Int(v), Class::Int) => Cell::Int(v),
        (Value::Int(v), Class::Text) => Cell::Text(v.to_string()),
        (Value::Float(v), Class::Float) => Cell::Float(v),
        (Value::Bool(v), Class::Bool) => Cell::Bool(v),
        _ => return None,
    })
}

fn seal(
    sealer: &mut Sealer,
    keyring: &Keyring,
    context: &Context,
    value: &Value,
    class: Class,
) -> Result<Cell, fieldcrypt::Error> {
    Ok(match class {
        Class::Text => Cell::Text(sealer.seal_text(keyring, context, value)?),
        _ => Cell::Binary(sealer.seal(keyring, context, value)?),
    })
}

/// What happens to one row. No `Debug`: it holds a blind-index value.
pub(crate) enum Outcome {
    /// Write this value (and this index value, when the job has an index column).
    Change(Cell, Option<i64>),
    /// Nothing to do (reindex: the stored index value is already right).
    Unchanged,
    /// It cannot be transformed: counted and named, left as it is.
    Failed(Failure),
}

/// Why a row is left as it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Its value does not open, is under a key the keyring lacks, or is not a value of the
    /// column's type (or, importing, not in the source format).
    Unreadable,
    /// What it would become does not fit the column (`varchar(100)` and a 189-character
    /// envelope): never written, since MySQL and MariaDB outside strict mode would truncate it.
    TooLong,
}

/// The index value of `value` under the primary root, when the job has an index.
fn index_of(plan: &Plan, keyring: &Keyring, value: &Value) -> Result<Option<i64>, MigrateError> {
    match (&plan.blind_index, value) {
        (None, _) => Ok(None),
        (Some(index), Value::String(text)) => Ok(Some(index.value(keyring, text)?.get())),
        (Some(_), _) => Err(MigrateError::Invalid(
            "a blind index needs text values".to_owned(),
        )),
    }
}

/// What this run wrote, as keyed 64-bit digests of (row key, stored value, index value), so that
/// the verification pass need not open again what this process sealed a moment ago.
///
/// A value read back byte for byte as this run wrote it, at the same row and with the same index
/// value, is one this keyring sealed and indexed from the row's own plaintext: it is counted as
/// good without being opened. Every other value (the application's writes, values from earlier
/// runs, anything changed since) is opened and its index recomputed, and so is one in 64 of the
/// values that match (chosen by the keyed digest), so that a fault in sealing itself still shows.
/// The digests are SipHash under a random key of this process (`RandomState`), so a value
/// written by someone else matches one of them with probability about 2^-64 each. A write this
/// run attempted but lost to a concurrent update is recorded too, harmlessly: the row then holds
/// the other writer's bytes, which do not match. Up to 16M rows are remembered (about 150 MB);
/// beyond that, values are opened as before.
pub(crate) struct Written {
    hasher: std::hash::RandomState,
    digests: HashSet<u64, std::hash::BuildHasherDefault<Digest>>,
}

/// The set's own hasher: a digest is already a keyed hash, so the set takes it as it is
/// instead of hashing it a second time.
#[derive(Default)]
struct Digest(u64);

impl std::hash::Hasher for Digest {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is called for a `u64`; anything else is folded in all the same.
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Written {
    const MAX: usize = 16 << 20;
    /// One in this many matching values is opened anyway.
    const SAMPLE: u64 = 64;

    /// Room for `rows` digests from the start (up to the limit), so that the set is not rebuilt
    /// as it grows.
    pub(crate) fn with_capacity(rows: u64) -> Self {
        let rows = usize::try_from(rows).unwrap_or(Self::MAX).min(Self::MAX);
        Self {
            hasher: std::hash::RandomState::new(),
            digests: HashSet::with_capacity_and_hasher(rows, Default::default()),
        }
    }

    /// The digest of a value written at a row (computed where the value is sealed, on every
    /// core; [`Written::record`] only stores it).
    pub(crate) fn digest(&self, id: &RowId, cell: &Cell, index: Option<i64>) -> Option<u64> {
        let bytes = cell.envelope_bytes()?;
        Some(self.hasher.hash_one((id, bytes, index)))
    }

    pub(crate) fn record(&mut self, digest: u64) {
        if self.digests.len() < Self::MAX {
            self.digests.insert(digest);
        }
    }

    /// Whether the value is one this run wrote and is not in the sample opened anyway.
    pub(crate) fn vouches_for(&self, id: &RowId, cell: &Cell, index: Option<i64>) -> bool {
        self.digest(id, cell, index)
            .is_some_and(|d| d % Self::SAMPLE != 0 && self.digests.contains(&d))
    }
}

/// What every row of a job is transformed and checked with.
pub(crate) struct RowWork<'a> {
    pub(crate) job: &'a ColumnJob,
    pub(crate) plan: &'a Plan,
    pub(crate) keyring: &'a Keyring,
    /// The format an import reads.
    pub(crate) source: Option<&'a dyn SourceFormat>,
    pub(crate) contexts: Contexts,
}

impl RowWork<'_> {
    /// What one row becomes.
    fn transform(
        &self,
        sealer: &mut Sealer,
        id: &RowId,
        cell: &Cell,
        stored_index: Option<i64>,
    ) -> Result<Outcome, MigrateError> {
        let RowWork {
            job,
            plan,
            keyring,
            source,
            ..
        } = *self;
        let context = self.contexts.for_row(id)?;
        let context = context.as_ref();
        let opened = || {
            cell.envelope_bytes()
                .and_then(|bytes| keyring.open::<Value>(context, bytes).ok())
        };
        let outcome = match job.operation {
            Operation::Encrypt | Operation::Import => {
                // In place, a value that parses as an envelope under a key this keyring lacks is
                // neither plaintext nor ours: report it.
                if !plan.into
                    && cell
                        .envelope_bytes()
                        .is_some_and(|b| Envelope::parse(b).is_ok())
                {
                    return Ok(Outcome::Failed(Failure::Unreadable));
                }
                // Plaintext as it is; an import's value as its source format reads it.
                let value = match (job.operation, source) {
                    (Operation::Encrypt, _) => match to_value(cell.clone(), plan.source_info.class)
                    {
                        Some(value) => value,
                        None => return Ok(Outcome::Failed(Failure::Unreadable)),
                    },
                    (_, Some(source)) => match cell.envelope_bytes().map(|b| source.read(b)) {
                        Some(Ok(value)) => value,
                        _ => return Ok(Outcome::Failed(Failure::Unreadable)),
                    },
                    (_, None) => return Ok(Outcome::Failed(Failure::Unreadable)),
                };
                let index = index_of(plan, keyring, &value)?;
                Outcome::Change(
                    seal(sealer, keyring, context, &value, plan.target_info.class)?,
                    index,
                )
            }
            Operation::Rotate => match opened() {
                Some(value) => Outcome::Change(
                    seal(sealer, keyring, context, &value, plan.source_info.class)?,
                    None,
                ),
                None => Outcome::Failed(Failure::Unreadable),
            },
            Operation::Decrypt => {
                match opened().and_then(|v| from_value(v, plan.target_info.class)) {
                    Some(plain) => Outcome::Change(plain, None),
                    None => Outcome::Failed(Failure::Unreadable),
                }
            }
            Operation::Reindex => match opened() {
                Some(value @ Value::String(_)) => {
                    let index = index_of(plan, keyring, &value)?;
                    if index == stored_index {
                        Outcome::Unchanged
                    } else {
                        // The envelope is written back as it is; the compare-and-swap on it keeps
                        // a value the application changed meanwhile (with its own index value).
                        Outcome::Change(cell.clone(), index)
                    }
                }
                _ => Outcome::Failed(Failure::Unreadable),
            },
        };
        Ok(match outcome {
            Outcome::Change(new, _) if !plan.target_info.fits(&new) => {
                Outcome::Failed(Failure::TooLong)
            }
            other => other,
        })
    }

    /// [`RowWork::transform`] over a batch, on every core.
    /// With `written`, each new value's digest for it is computed here too.
    pub(crate) fn transform_batch(
        &self,
        batch: Vec<ReadRow>,
        written: Option<&Written>,
    ) -> Result<Vec<Transformed>, MigrateError> {
        fieldcrypt::parallel::map_chunks(batch, |rows: Vec<ReadRow>| {
            // One derived key per 256 values (a nonce prefix per batch, a fresh suffix per
            // value); the sealer lives for this chunk only.
            let mut sealer = Sealer::new(rows.len());
            rows.into_iter()
                .map(|row| {
                    let outcome = self.transform(&mut sealer, &row.id, &row.value, row.index)?;
                    let digest = match (&outcome, written) {
                        (Outcome::Change(new, index), Some(written)) => {
                            written.digest(&row.id, new, *index)
                        }
                        _ => None,
                    };
                    Ok(Transformed {
                        id: row.id,
                        old: row.value,
                        tid: row.tid,
                        outcome,
                        digest,
                    })
                })
                .collect()
        })
    }
}

/// A transformed row: its key, the value read, and what happens to it.
pub(crate) struct Transformed {
    pub(crate) id: RowId,
    pub(crate) old: Cell,
    /// Where the row's version was when it was read ([`ReadRow::tid`]).
    pub(crate) tid: Option<String>,
    pub(crate) outcome: Outcome,
    /// The new value's digest for [`Written`], when the run records what it writes.
    pub(crate) digest: Option<u64>,
}

/// What the verification pass makes of one value.
pub(crate) enum Verdict {
    Good,
    /// Good: byte for byte what this run wrote there (see [`Written`]).
    AsWritten,
    Left,
    FailedToOpen,
    IndexMismatch,
}

impl RowWork<'_> {
    /// Checks one value the job wrote (or should have).
    pub(crate) fn check(
        &self,
        primary: fieldcrypt::KeyId,
        id: &RowId,
        cell: &Cell,
        stored_index: Option<i64>,
    ) -> Result<Verdict, MigrateError> {
        let (job, plan, keyring) = (self.job, self.plan, self.keyring);
        // Parsed once (a text envelope's base64 is decoded here), then opened as parsed.
        let envelope = cell.envelope_bytes().and_then(|b| Envelope::parse(b).ok());
        Ok(match (job.operation, envelope) {
            (Operation::Decrypt, None) => Verdict::Good,
            (Operation::Decrypt, Some(_)) | (_, None) => Verdict::Left,
            (_, Some(envelope)) => {
                let context = self.contexts.for_row(id)?;
                match keyring.open_envelope::<Value>(&context, &envelope).ok() {
                    None => Verdict::FailedToOpen,
                    Some(_)
                        if job.operation == Operation::Rotate
                            && envelope.header().key_id != primary =>
                    {
                        Verdict::Left
                    }
                    Some(value)
                        if plan.blind_index.is_some()
                            && index_of(plan, keyring, &value)? != stored_index =>
                    {
                        Verdict::IndexMismatch
                    }
                    Some(_) => Verdict::Good,
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn timestamp_texts_of_each_database_read_as_the_same_instant() {
        let expected: fieldcrypt::Timestamp = "2024-03-01T10:05:35.01234Z".parse().unwrap();
        for text in [
            "2024-03-01 10:05:35.01234+00", // PostgreSQL timestamptz, session in UTC
            "2024-03-01 10:05:35.012340",   // MySQL DATETIME(6), PostgreSQL timestamp
            "2024-03-01T10:05:35.01234Z",   // RFC 3339 in a SQLite text column
            "2024-03-01T12:05:35.012340+02:00", // with an offset
        ] {
            assert_eq!(timestamp_from_text(text), Some(expected), "{text}");
        }
        for text in [
            "infinity",
            "2024-03-01",
            "2024-03-01 10:05:35 BC",
            "0000-00-00 00:00:00",
        ] {
            assert_eq!(timestamp_from_text(text), None, "{text}");
        }
    }

    #[test]
    fn written_vouches_only_for_the_exact_row_value_and_index_it_recorded() {
        let mut written = Written::with_capacity(2000);
        let value = |s: &str| Cell::Text(s.to_owned());
        let rows: Vec<(RowId, Cell)> = (0..2000)
            .map(|i| (RowId::Int(i), value(&format!("fc1c1.envelope-{i}"))))
            .collect();
        for (key, cell) in &rows {
            let digest = written.digest(key, cell, Some(7)).unwrap();
            written.record(digest);
        }
        let vouched = rows
            .iter()
            .filter(|(key, cell)| written.vouches_for(key, cell, Some(7)))
            .count();
        // All but the sample opened anyway (about one in 64).
        assert!((1900..2000).contains(&vouched), "{vouched}");
        let (key, cell) = &rows[1];
        let other_key = RowId::Int(1_000_000);
        for (k, c, index) in [
            (&other_key, cell, Some(7)),                      // moved to another row
            (key, &value("fc1c1.envelope-changed"), Some(7)), // value changed
            (key, cell, Some(8)),                             // index changed
            (key, cell, None),                                // index cleared
        ] {
            assert!(!written.vouches_for(k, c, index));
        }
        assert!(
            !written.vouches_for(key, &Cell::Int(1), Some(7)),
            "not an envelope column"
        );
    }

    #[test]
    fn typed_values_print_as_their_columns_hold_them() {
        let at = |s: &str| Value::Timestamp(s.parse().unwrap());
        assert_eq!(
            textual(&at("2024-03-01T10:05:35Z")).unwrap(),
            "2024-03-01 10:05:35"
        );
        assert_eq!(
            textual(&at("2024-03-01T10:05:35.01234Z")).unwrap(),
            "2024-03-01 10:05:35.012340"
        );
        assert_eq!(
            textual(&at("2024-03-01T10:05:35.000000001Z")).unwrap(),
            "2024-03-01 10:05:35.000000001"
        );
        assert_eq!(
            textual(&Value::Date("0001-01-01".parse().unwrap())).unwrap(),
            "0001-01-01"
        );
        // Years the databases' date types do not hold are refused, not mangled.
        assert_eq!(textual(&at("0000-12-31T00:00:00Z")), None);
        let far = fieldcrypt::Timestamp::new(300_000_000_000, 0).unwrap();
        assert_eq!(textual(&Value::Timestamp(far)), None);
        assert_eq!(
            to_value(Cell::Text("-12.50".to_owned()), Class::Decimal),
            Some(Value::Decimal(fieldcrypt::Decimal::new("-12.50").unwrap()))
        );
        assert_eq!(to_value(Cell::Text("NaN".to_owned()), Class::Decimal), None);
        // JSON sealed as a string goes back into a JSON column only when it is JSON.
        let json_string = |v: &str| from_value(Value::String(v.to_owned()), Class::Json);
        assert_eq!(
            json_string(r#"{"a": 1.10}"#),
            Some(Cell::Text(r#"{"a": 1.10}"#.to_owned()))
        );
        assert_eq!(json_string("not json"), None);
        assert_eq!(
            to_value(Cell::Text("{\"a\" : 1.10}".to_owned()), Class::Json),
            Some(Value::Json(
                fieldcrypt::JsonText::new("{\"a\":1.10}").unwrap()
            ))
        );
        assert_eq!(
            to_value(
                Cell::Text("0190A6E2-7C1B-7D3E-9F00-2A1B3C4D5E6F".to_owned()),
                Class::Uuid
            ),
            Some(Value::String(
                "0190a6e2-7c1b-7d3e-9f00-2a1b3c4d5e6f".to_owned()
            ))
        );
        assert_eq!(
            to_value(
                Cell::Text("0190a6e2-7c1b-7d3e-9f00-2a1b3c4d5e6".to_owned()),
                Class::Uuid
            ),
            None
        );
        assert_eq!(
            to_value(Cell::Text("2024-02-30".to_owned()), Class::Date),
            None
        );
    }
}
