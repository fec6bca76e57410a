//! The job loop: read a batch of pending rows, transform it in memory, write it back with one
//! compare-and-swap statement, repeat; then a verification pass over every value.
//!
//! The job keeps no state outside the database. Which rows are left is a property of the rows
//! themselves (plaintext where envelopes belong, envelopes under an old key, an empty target
//! column), so a job killed at any moment is resumed by running it again: a batch is one
//! statement, applied wholly or not at all.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashSet};
use std::hash::BuildHasher;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use fieldcrypt::envelope::HEADER_LEN;
use std::sync::Arc;

use fieldcrypt::{Context, Envelope, IndexDefinition, Keyring, RowKey, Sealer, Value};
use fieldcrypt_sqlx::BlindIndex;

use crate::db::{Cell, Change, Class, ColumnInfo, Key, Pending, Plan, Pool};
use crate::error::MigrateError;
use crate::spec::{ColumnJob, Operation, RunOptions, SourceFormat};

/// Where a job is, reported after every batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows pending when the job started (the bar's length).
    pub pending_at_start: u64,
    /// Rows written so far.
    pub written: u64,
    /// Rows that changed under the job and were left to a later pass.
    pub concurrent: u64,
    /// Rows that could not be transformed (they do not open, or hold a value of the wrong type).
    pub failed: u64,
    /// The pass over the table, from 1.
    pub pass: u32,
}

/// What the verification pass found, over every non-NULL value of the encrypted column.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verification {
    /// Values checked.
    pub checked: u64,
    /// Values that opened (encrypt, rotate) or are plaintext (decrypt).
    pub good: u64,
    /// Values still to do: plaintext left (encrypt), under an old key (rotate), envelopes left
    /// (decrypt). Non-zero only if the application wrote them after the last pass.
    pub left: u64,
    /// Envelopes that do not open with this keyring and context.
    pub failed_to_open: u64,
    /// Values whose blind-index column does not hold their index value under the primary root
    /// (with `--index`).
    pub index_mismatch: u64,
    /// Of the good values, those read back byte for byte as this run wrote them (envelope and
    /// index value, at that row), which are not opened again (see `Written` in the engine).
    pub as_written: u64,
}

/// What a job did.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// The job.
    pub operation: Operation,
    /// Rows pending at the start.
    pub pending_at_start: u64,
    /// Rows written.
    pub written: u64,
    /// Rows that changed under the job (each was read again later).
    pub concurrent: u64,
    /// Rows left as they were because they could not be transformed; `failed_keys` names the
    /// first hundred.
    pub failed: u64,
    /// Primary keys of the first failed rows.
    pub failed_keys: Vec<String>,
    /// Passes over the table.
    pub passes: u32,
    /// The verification pass (`None` on a dry run).
    pub verification: Option<Verification>,
    /// Wall time.
    pub elapsed: Duration,
    /// Of which the verification pass.
    pub verify_elapsed: Duration,
}

impl Summary {
    /// Whether the column is in the state the job promises: nothing left, nothing failed.
    pub fn is_clean(&self) -> bool {
        self.failed == 0
            && self
                .verification
                .as_ref()
                .is_none_or(|v| v.left == 0 && v.failed_to_open == 0 && v.index_mismatch == 0)
    }
}

/// Resolves `job` against the database: names, classes, the pending condition.
pub(crate) async fn plan(
    pool: &Pool,
    job: &ColumnJob,
    keyring: &Keyring,
) -> Result<Plan, MigrateError> {
    let dialect = pool.dialect();
    let source_info = pool.describe(&job.table, &job.column).await?;
    let (target, target_info) = match &job.into {
        Some(into) if into == &job.column => {
            return Err(MigrateError::Invalid(
                "--into names the column itself; leave it out to work in place".to_owned(),
            ));
        }
        Some(into) if matches!(job.operation, Operation::Rotate | Operation::Reindex) => {
            return Err(MigrateError::Invalid(format!(
                "{} works in place; --into {into} does not apply",
                job.operation.name()
            )));
        }
        Some(into) => (into.clone(), pool.describe(&job.table, into).await?),
        None => (job.column.clone(), source_info.clone()),
    };
    let pk = match &job.pk {
        Some(pk) => pk.clone(),
        None => pool
            .primary_key(&job.table)
            .await?
            .ok_or_else(|| MigrateError::NoPrimaryKey(job.table.clone()))?,
    };
    let pk_info = pool.describe(&job.table, &pk).await?;
    for (column, info) in [
        (&pk, &pk_info),
        (&job.column, &source_info),
        (&target, &target_info),
    ] {
        if matches!(info.class, Class::Uuid | Class::Json)
            && pool.sqlite_blobs(&job.table, column).await? > 0
        {
            return Err(MigrateError::UnsupportedType {
                table: job.table.clone(),
                column: column.clone(),
                sql_type: info.sql_type.clone(),
                why: "holds BLOB values (a UUID as 16 bytes, JSONB), which the job does not read; store them as text first",
            });
        }
    }
    if !matches!(pk_info.class, Class::Int | Class::Text | Class::Uuid) {
        return Err(MigrateError::UnsupportedType {
            table: job.table.clone(),
            column: pk,
            sql_type: pk_info.sql_type,
            why: "cannot order the job as a primary key (integer, text and UUID keys can)",
        });
    }
    let envelope_column = match job.operation {
        Operation::Encrypt | Operation::Import => (&target, &target_info),
        Operation::Rotate | Operation::Decrypt | Operation::Reindex => (&job.column, &source_info),
    };
    if !matches!(envelope_column.1.class, Class::Text | Class::Binary) {
        return Err(MigrateError::UnsupportedType {
            table: job.table.clone(),
            column: envelope_column.0.clone(),
            sql_type: envelope_column.1.sql_type.clone(),
            why: "cannot hold envelopes; encrypt into a text or binary column with --into",
        });
    }
    if let (Operation::Encrypt | Operation::Import, Some(max)) =
        (job.operation, target_info.max_len)
    {
        // The shortest envelope (a one-byte value) already needs this much room.
        let needed = if target_info.class == Class::Text {
            60
        } else {
            43
        };
        if max < needed {
            return Err(MigrateError::UnsupportedType {
                table: job.table.clone(),
                column: target.clone(),
                sql_type: target_info.sql_type.clone(),
                why: "is too narrow for envelopes; widen it (text or a large varchar/varbinary) first",
            });
        }
    }
    let q = |c: &str| dialect.quote(c);
    // A value is taken for an envelope when it starts with the header of a key this keyring
    // holds (`fc1c7.` as text, FC 01 <suite> <id> as bytes). Plaintext that merely starts with
    // "fc1" is still plaintext; a value under a key the keyring lacks is reported, not touched.
    let header_of = |info: &ColumnInfo, suite, key_id| {
        let header = fieldcrypt::Header { suite, key_id };
        match info.class {
            Class::Text => header.text_prefix().into_bytes(),
            _ => header.to_bytes()[..HEADER_LEN].to_vec(),
        }
    };
    let under_keys =
        |info: &ColumnInfo, column: &str, keys: &mut dyn Iterator<Item = &fieldcrypt::KeyInfo>| {
            let terms: Vec<String> = keys
                .map(|k| {
                    dialect.starts_with(column, info.class, &header_of(info, k.suite, k.id), false)
                })
                .collect();
            if terms.is_empty() {
                "1 = 0".to_owned()
            } else {
                format!("({})", terms.join(" OR "))
            }
        };
    let source = q(&job.column);
    let any_key = under_keys(&source_info, &source, &mut keyring.keys());
    let pending = match (job.operation, job.into.is_some()) {
        (Operation::Encrypt | Operation::Import | Operation::Decrypt, true) => {
            format!("{source} IS NOT NULL AND {} IS NULL", q(&target))
        }
        (Operation::Encrypt | Operation::Import, false) => {
            format!("{source} IS NOT NULL AND NOT {any_key}")
        }
        (Operation::Decrypt, false) => format!("{source} IS NOT NULL AND {any_key}"),
        // Which rows hold an index value under an old root cannot be told in SQL: every row
        // is read, and only those whose value differs are written.
        (Operation::Reindex, _) => format!("{source} IS NOT NULL"),
        (Operation::Rotate, _) => {
            let primary = keyring.primary();
            let older = under_keys(
                &source_info,
                &source,
                &mut keyring.keys().filter(|k| k.id != primary),
            );
            format!("{source} IS NOT NULL AND {older}")
        }
    };
    let blind_index = match (&job.index, job.operation) {
        (None, Operation::Reindex) => {
            return Err(MigrateError::Invalid(
                "reindex needs --index COLUMN:NORMALISERS:BITS".to_owned(),
            ));
        }
        (None, _) => None,
        (Some(spec), Operation::Encrypt | Operation::Import | Operation::Reindex) => {
            let index_info = pool.describe(&job.table, &spec.column).await?;
            if index_info.class != Class::Int {
                return Err(MigrateError::UnsupportedType {
                    table: job.table.clone(),
                    column: spec.column.clone(),
                    sql_type: index_info.sql_type,
                    why: "cannot hold blind-index values; use a BIGINT column",
                });
            }
            if job.operation == Operation::Encrypt && source_info.class != Class::Text {
                return Err(MigrateError::UnsupportedType {
                    table: job.table.clone(),
                    column: job.column.clone(),
                    sql_type: source_info.sql_type.clone(),
                    why: "is not text; blind indexes are computed over text values",
                });
            }
            let (table, column) = job.context_names();
            let definition = IndexDefinition::new(table, column, spec.column.clone(), spec.bits)
                .normalized(spec.normalizers.iter().copied());
            Some(Arc::new(BlindIndex::new(definition)?))
        }
        (Some(_), other) => {
            return Err(MigrateError::Invalid(format!(
                "--index applies to encrypt-column and reindex, not {}",
                other.name()
            )));
        }
    };
    Ok(Plan {
        dialect,
        table: job.table.clone(),
        pk,
        pk_class: pk_info.class,
        source: job.column.clone(),
        source_info,
        target,
        target_info,
        into: job.into.is_some(),
        index_column: job.index.as_ref().map(|i| i.column.clone()),
        blind_index,
        pending,
    })
}

/// The contexts values are bound to: one for the column, built once per job; per row, that one
/// with the row's key when the job binds values to rows.
#[derive(Clone)]
struct Contexts {
    column: Context,
    bind_row: bool,
}

impl Contexts {
    fn new(job: &ColumnJob) -> Result<Self, fieldcrypt::Error> {
        let (table, column) = job.context_names();
        Ok(Self {
            column: Context::new(table, column)?,
            bind_row: job.bind_row,
        })
    }

    fn for_row(&self, key: &Key) -> Result<Cow<'_, Context>, fieldcrypt::Error> {
        if !self.bind_row {
            return Ok(Cow::Borrowed(&self.column));
        }
        Ok(Cow::Owned(self.column.clone().with_row(match key {
            Key::Int(v) => RowKey::from(*v),
            Key::Text(v) => RowKey::from(v.as_str()),
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
enum Outcome {
    /// Write this value (and this index value, when the job has an index column).
    Change(Cell, Option<i64>),
    /// Nothing to do (reindex: the stored index value is already right).
    Unchanged,
    /// It cannot be transformed: counted and named, left as it is.
    Failed,
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
struct Written {
    hasher: std::hash::RandomState,
    digests: HashSet<u64>,
}

impl Written {
    const MAX: usize = 16 << 20;
    /// One in this many matching values is opened anyway.
    const SAMPLE: u64 = 64;

    fn new() -> Self {
        Self {
            hasher: std::hash::RandomState::new(),
            digests: HashSet::new(),
        }
    }

    fn digest(&self, key: &Key, cell: &Cell, index: Option<i64>) -> Option<u64> {
        let bytes = cell.envelope_bytes()?;
        Some(self.hasher.hash_one((key, bytes, index)))
    }

    fn record(&mut self, key: &Key, cell: &Cell, index: Option<i64>) {
        if self.digests.len() < Self::MAX
            && let Some(digest) = self.digest(key, cell, index)
        {
            self.digests.insert(digest);
        }
    }

    /// Whether the value is one this run wrote and is not in the sample opened anyway.
    fn vouches_for(&self, key: &Key, cell: &Cell, index: Option<i64>) -> bool {
        self.digest(key, cell, index)
            .is_some_and(|d| d % Self::SAMPLE != 0 && self.digests.contains(&d))
    }
}

/// What every row of a job is transformed and checked with.
struct RowWork<'a> {
    job: &'a ColumnJob,
    plan: &'a Plan,
    keyring: &'a Keyring,
    /// The format an import reads.
    source: Option<&'a dyn SourceFormat>,
    contexts: Contexts,
}

impl RowWork<'_> {
    /// What one row becomes.
    fn transform(
        &self,
        sealer: &mut Sealer,
        key: &Key,
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
        let context = self.contexts.for_row(key)?;
        let context = context.as_ref();
        let opened = || {
            cell.envelope_bytes()
                .and_then(|bytes| keyring.open::<Value>(context, bytes).ok())
        };
        Ok(match job.operation {
            Operation::Encrypt | Operation::Import => {
                // In place, a value that parses as an envelope under a key this keyring lacks is
                // neither plaintext nor ours: report it.
                if !plan.into
                    && cell
                        .envelope_bytes()
                        .is_some_and(|b| Envelope::parse(b).is_ok())
                {
                    return Ok(Outcome::Failed);
                }
                // Plaintext as it is; an import's value as its source format reads it.
                let value = match (job.operation, source) {
                    (Operation::Encrypt, _) => match to_value(cell.clone(), plan.source_info.class)
                    {
                        Some(value) => value,
                        None => return Ok(Outcome::Failed),
                    },
                    (_, Some(source)) => match cell.envelope_bytes().map(|b| source.read(b)) {
                        Some(Ok(value)) => value,
                        _ => return Ok(Outcome::Failed),
                    },
                    (_, None) => return Ok(Outcome::Failed),
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
                None => Outcome::Failed,
            },
            Operation::Decrypt => {
                match opened().and_then(|v| from_value(v, plan.target_info.class)) {
                    Some(plain) => Outcome::Change(plain, None),
                    None => Outcome::Failed,
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
                _ => Outcome::Failed,
            },
        })
    }

    /// [`RowWork::transform`] over a batch, on every core.
    fn transform_batch(&self, batch: Vec<Pending>) -> Result<Vec<Transformed>, MigrateError> {
        on_threads(batch, &|rows: Vec<Pending>| {
            // One CSPRNG call per block of nonces instead of one per value; the sealer lives
            // for this chunk only.
            let mut sealer = Sealer::new(rows.len());
            rows.into_iter()
                .map(|(key, cell, stored)| {
                    let outcome = self.transform(&mut sealer, &key, &cell, stored)?;
                    Ok((key, cell, outcome))
                })
                .collect()
        })
    }
}

/// A transformed row: its key, the value read, and what happens to it.
type Transformed = (Key, Cell, Outcome);

/// `work` over `items` split into one chunk per core (up to 4), results in order: sealing and
/// opening are the job's own CPU work, and a batch's rows are independent.
fn on_threads<T: Send, R: Send>(
    items: Vec<T>,
    work: &(dyn Fn(Vec<T>) -> Result<Vec<R>, MigrateError> + Sync),
) -> Result<Vec<R>, MigrateError> {
    // Asked once: on Linux the answer comes from reading cgroup files.
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let threads =
        *THREADS.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get().min(4)));
    if threads < 2 || items.len() < 256 {
        return work(items);
    }
    let chunk = items.len().div_ceil(threads);
    let mut rest = items;
    let mut parts = Vec::with_capacity(threads);
    while rest.len() > chunk {
        let tail = rest.split_off(chunk);
        parts.push(rest);
        rest = tail;
    }
    parts.push(rest);
    std::thread::scope(|scope| {
        let mut parts = parts.into_iter();
        let first = parts.next().unwrap_or_default();
        let handles: Vec<_> = parts.map(|part| scope.spawn(move || work(part))).collect();
        let mut out = work(first)?;
        for handle in handles {
            let part = handle
                .join()
                .map_err(|_| MigrateError::Invalid("a worker thread stopped".to_owned()))??;
            out.extend(part);
        }
        Ok(out)
    })
}

/// Runs `job` to completion: passes until a pass finds nothing it can write, then verifies.
pub async fn run(
    pool: &Pool,
    job: &ColumnJob,
    keyring: &Keyring,
    options: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, MigrateError> {
    if job.operation == Operation::Import {
        return Err(MigrateError::Invalid(
            "import reads another library's format; run it with run_import".to_owned(),
        ));
    }
    run_with(pool, job, keyring, None, options, progress).await
}

/// Runs an [`Operation::Import`] job: every value of the column is read with `source` and
/// sealed, as `encrypt-column` seals plaintext. Values `source` cannot read are listed in the
/// summary and left as they are.
pub async fn run_import(
    pool: &Pool,
    job: &ColumnJob,
    keyring: &Keyring,
    source: &dyn SourceFormat,
    options: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, MigrateError> {
    if job.operation != Operation::Import {
        return Err(MigrateError::Invalid(format!(
            "run_import runs import jobs, not {}",
            job.operation.name()
        )));
    }
    run_with(pool, job, keyring, Some(source), options, progress).await
}

async fn run_with(
    pool: &Pool,
    job: &ColumnJob,
    keyring: &Keyring,
    source: Option<&dyn SourceFormat>,
    options: &RunOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Summary, MigrateError> {
    if options.batch == 0 || options.batch > 10_000 {
        return Err(MigrateError::Invalid(
            "the batch size must be 1 to 10000".to_owned(),
        ));
    }
    let started = Instant::now();
    let plan = plan(pool, job, keyring).await?;
    let work = RowWork {
        job,
        plan: &plan,
        keyring,
        source,
        contexts: Contexts::new(job)?,
    };
    let pending_at_start = pool.count(&plan.count_pending()).await?;
    let mut state = Progress {
        pending_at_start,
        written: 0,
        concurrent: 0,
        failed: 0,
        pass: 0,
    };
    let mut failed: BTreeSet<Key> = BTreeSet::new();
    // Decrypt's verification opens nothing (it looks for envelopes left), so it records nothing.
    let mut written = Written::new();
    let record = job.operation != Operation::Decrypt;
    if options.dry_run {
        return Ok(Summary {
            operation: job.operation,
            pending_at_start,
            written: 0,
            concurrent: 0,
            failed: 0,
            failed_keys: Vec::new(),
            passes: 0,
            verification: None,
            elapsed: started.elapsed(),
            verify_elapsed: Duration::ZERO,
        });
    }
    let mut verify_elapsed = Duration::ZERO;
    let mut round = 0;
    let verification = loop {
        round += 1;
        let round_written_before = state.written;
        loop {
            state.pass += 1;
            let written_before = state.written;
            let concurrent_before = state.concurrent;
            // Up to `parallel` batch writes in flight, each on its own connection, while the next
            // batch is read and sealed: the database and the sealing overlap.
            let mut writes: JoinSet<Result<(u64, u64), MigrateError>> = JoinSet::new();
            let read = |cursor: Option<Key>| {
                let (pool, plan, limit) = (pool.clone(), plan.clone(), options.batch);
                tokio::spawn(async move { pool.fetch_pending(&plan, cursor.as_ref(), limit).await })
            };
            let mut next = read(None);
            loop {
                let batch = joined(next.await)?;
                let Some((last, _, _)) = batch.last() else {
                    break;
                };
                // The next batch is read while this one is sealed and written.
                next = read(Some(last.clone()));
                let mut changes = Vec::with_capacity(batch.len());
                for (key, cell, outcome) in work.transform_batch(batch)? {
                    match outcome {
                        Outcome::Change(new, index) => {
                            if record {
                                written.record(&key, &new, index);
                            }
                            changes.push(Change {
                                key,
                                old: cell,
                                new,
                                index,
                            });
                        }
                        Outcome::Unchanged => {}
                        // Counted once, on the first pass that meets it.
                        Outcome::Failed => {
                            if failed.insert(key.clone()) {
                                state.failed += 1;
                            }
                        }
                    }
                }
                while writes.len() >= options.parallel.max(1) {
                    finish_write(&mut writes, &mut state, progress).await?;
                }
                let (pool, plan) = (pool.clone(), plan.clone());
                writes.spawn(async move {
                    let attempted = changes.len() as u64;
                    let applied = pool.apply(&plan, changes).await?;
                    Ok((attempted, applied))
                });
                if let Some(limit) = options.rows_per_sec.filter(|l| *l > 0.0) {
                    let due = Duration::from_secs_f64(state.written as f64 / limit);
                    if let Some(wait) = due.checked_sub(started.elapsed()) {
                        tokio::time::sleep(wait).await;
                    }
                }
            }
            while !writes.is_empty() {
                finish_write(&mut writes, &mut state, progress).await?;
            }
            // Another pass at once only when this one met rows that changed under it. A pass that
            // wrote nothing leaves only rows that cannot be transformed: stop there too. Rows the
            // application changed behind the pass are found by the verification below.
            if state.written == written_before
                || state.concurrent == concurrent_before
                || state.pass >= options.max_passes.max(1)
            {
                break;
            }
        }
        let verify_started = Instant::now();
        // Verification only reads: larger pages than the write batches mean fewer round trips.
        let verification = verify(pool, &work, &written, options.batch.max(10_000)).await?;
        verify_elapsed += verify_started.elapsed();
        // Values still to do beyond the rows known to fail: the application wrote them during the
        // job. Another round (passes, then verification) takes them, up to `max_passes`, and only
        // while rounds keep writing.
        let unexplained = verification.left + verification.index_mismatch > failed.len() as u64;
        let round_wrote = state.written > round_written_before;
        if !unexplained || state.pass >= options.max_passes.max(1) || (round > 1 && !round_wrote) {
            break verification;
        }
    };
    Ok(Summary {
        operation: job.operation,
        pending_at_start,
        written: state.written,
        concurrent: state.concurrent,
        failed: state.failed,
        failed_keys: failed.iter().take(100).map(ToString::to_string).collect(),
        passes: state.pass,
        verification: Some(verification),
        elapsed: started.elapsed(),
        verify_elapsed,
    })
}

/// The result of a spawned task (a read), with a panic or cancellation as an error.
fn joined<T>(
    result: Result<Result<T, MigrateError>, tokio::task::JoinError>,
) -> Result<T, MigrateError> {
    result.map_err(|e| MigrateError::Invalid(format!("a batch read stopped: {e}")))?
}

/// Waits for one batch write and counts it. A failed write fails the job (the other writes in
/// flight are aborted when the set is dropped; each is one statement, applied wholly or not).
async fn finish_write(
    writes: &mut JoinSet<Result<(u64, u64), MigrateError>>,
    state: &mut Progress,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), MigrateError> {
    let Some(joined) = writes.join_next().await else {
        return Ok(());
    };
    let (attempted, applied) =
        joined.map_err(|e| MigrateError::Invalid(format!("a batch write stopped: {e}")))??;
    state.written += applied;
    state.concurrent += attempted.saturating_sub(applied);
    progress(*state);
    Ok(())
}

/// Reads every non-NULL value of the column the job wrote and checks it.
async fn verify(
    pool: &Pool,
    work: &RowWork<'_>,
    written: &Written,
    batch: usize,
) -> Result<Verification, MigrateError> {
    let (job, plan, keyring) = (work.job, work.plan, work.keyring);
    let (column, class) = match job.operation {
        Operation::Encrypt | Operation::Import => {
            (job.encrypted_column().to_owned(), plan.target_info.class)
        }
        Operation::Rotate | Operation::Reindex => (job.column.clone(), plan.source_info.class),
        Operation::Decrypt => (plan.target.clone(), plan.target_info.class),
    };
    let primary = keyring.primary();
    let mut result = Verification::default();
    // One statement streams the column (a sequential scan, one snapshot: right after a pass
    // over the whole table this reads in half the time a walk of the primary key takes), and
    // each chunk is checked on every core while the next arrives.
    let (chunks, mut arrived) = tokio::sync::mpsc::channel(2);
    let reader = {
        let (pool, plan, column) = (pool.clone(), plan.clone(), column.clone());
        tokio::spawn(async move { pool.stream_all(&plan, &column, class, batch, chunks).await })
    };
    while let Some(rows) = arrived.recv().await {
        let verdicts = on_threads(rows, &|rows: Vec<Pending>| {
            rows.into_iter()
                .map(|(key, cell, stored_index)| {
                    if written.vouches_for(&key, &cell, stored_index) {
                        Ok(Verdict::AsWritten)
                    } else {
                        work.check(primary, &key, &cell, stored_index)
                    }
                })
                .collect()
        })?;
        for verdict in verdicts {
            result.checked += 1;
            match verdict {
                Verdict::Good => result.good += 1,
                Verdict::AsWritten => {
                    result.good += 1;
                    result.as_written += 1;
                }
                Verdict::Left => result.left += 1,
                Verdict::FailedToOpen => result.failed_to_open += 1,
                Verdict::IndexMismatch => result.index_mismatch += 1,
            }
        }
    }
    // The stream ended: because the table did, or because the read failed.
    joined(reader.await)?;
    // Into another column, a row still to do has no value there at all, so the read above
    // cannot see it: count those rows (the pending condition) as left.
    if plan.into {
        let not_done = pool.count(&plan.count_pending()).await?;
        result.checked += not_done;
        result.left += not_done;
    }
    Ok(result)
}

/// What the verification pass makes of one value.
enum Verdict {
    Good,
    /// Good: byte for byte what this run wrote there (see [`Written`]).
    AsWritten,
    Left,
    FailedToOpen,
    IndexMismatch,
}

impl RowWork<'_> {
    /// Checks one value the job wrote (or should have).
    fn check(
        &self,
        primary: fieldcrypt::KeyId,
        key: &Key,
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
                let context = self.contexts.for_row(key)?;
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
        let mut written = Written::new();
        let value = |s: &str| Cell::Text(s.to_owned());
        let rows: Vec<(Key, Cell)> = (0..2000)
            .map(|i| (Key::Int(i), value(&format!("fc1c1.envelope-{i}"))))
            .collect();
        for (key, cell) in &rows {
            written.record(key, cell, Some(7));
        }
        let vouched = rows
            .iter()
            .filter(|(key, cell)| written.vouches_for(key, cell, Some(7)))
            .count();
        // All but the sample opened anyway (about one in 64).
        assert!((1900..2000).contains(&vouched), "{vouched}");
        let (key, cell) = &rows[1];
        let other_key = Key::Int(1_000_000);
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
