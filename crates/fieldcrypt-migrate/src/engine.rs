//! The job loop: read a batch of pending rows, transform it in memory, write it back with one
//! compare-and-swap statement, repeat; then a verification pass over every value.
//!
//! The job keeps no state outside the database. Which rows are left is a property of the rows
//! themselves (plaintext where envelopes belong, envelopes under an old key, an empty target
//! column), so a job killed at any moment is resumed by running it again: a batch is one
//! statement, applied wholly or not at all.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use fieldcrypt::envelope::HEADER_LEN;
use std::sync::Arc;

use fieldcrypt::{Context, Envelope, IndexDefinition, Keyring, RowKey, Value};
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
    if !matches!(pk_info.class, Class::Int | Class::Text) {
        return Err(MigrateError::UnsupportedType {
            table: job.table.clone(),
            column: pk,
            sql_type: pk_info.sql_type,
            why: "cannot order the job as a primary key (integer and text keys can)",
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

fn context_for(job: &ColumnJob, key: &Key) -> Result<Context, fieldcrypt::Error> {
    let (table, column) = job.context_names();
    let context = Context::new(table, column)?;
    if !job.bind_row {
        return Ok(context);
    }
    context.with_row(match key {
        Key::Int(v) => RowKey::from(*v),
        Key::Text(v) => RowKey::from(v.as_str()),
    })
}

fn to_value(cell: Cell) -> Value {
    match cell {
        Cell::Text(v) => Value::String(v),
        Cell::Binary(v) => Value::Bytes(v),
        Cell::Int(v) => Value::Int(v),
        Cell::Float(v) => Value::Float(v),
        Cell::Bool(v) => Value::Bool(v),
    }
}

/// The plaintext cell for a column of `class`, if the value fits it without loss.
fn from_value(value: Value, class: Class) -> Option<Cell> {
    Some(match (value, class) {
        (Value::String(v), Class::Text) => Cell::Text(v),
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
    keyring: &Keyring,
    context: &Context,
    value: &Value,
    class: Class,
) -> Result<Cell, fieldcrypt::Error> {
    Ok(match class {
        Class::Text => Cell::Text(keyring.seal_text(context, value)?),
        _ => Cell::Binary(keyring.seal(context, value)?),
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

/// What one row becomes.
fn transform(
    job: &ColumnJob,
    plan: &Plan,
    keyring: &Keyring,
    source: Option<&dyn SourceFormat>,
    key: &Key,
    cell: &Cell,
    stored_index: Option<i64>,
) -> Result<Outcome, MigrateError> {
    let context = context_for(job, key)?;
    let opened = || {
        cell.envelope_bytes()
            .and_then(|bytes| keyring.open::<Value>(&context, bytes).ok())
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
                (Operation::Encrypt, _) => to_value(cell.clone()),
                (_, Some(source)) => match cell.envelope_bytes().map(|b| source.read(b)) {
                    Some(Ok(value)) => value,
                    _ => return Ok(Outcome::Failed),
                },
                (_, None) => return Ok(Outcome::Failed),
            };
            let index = index_of(plan, keyring, &value)?;
            Outcome::Change(
                seal(keyring, &context, &value, plan.target_info.class)?,
                index,
            )
        }
        Operation::Rotate => match opened() {
            Some(value) => Outcome::Change(
                seal(keyring, &context, &value, plan.source_info.class)?,
                None,
            ),
            None => Outcome::Failed,
        },
        Operation::Decrypt => match opened().and_then(|v| from_value(v, plan.target_info.class)) {
            Some(plain) => Outcome::Change(plain, None),
            None => Outcome::Failed,
        },
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

/// A transformed row: its key, the value read, and what happens to it.
type Transformed = (Key, Cell, Outcome);

/// `work` over `items` split into one chunk per core (up to 4), results in order: sealing and
/// opening are the job's own CPU work, and a batch's rows are independent.
fn on_threads<T: Send, R: Send>(
    items: Vec<T>,
    work: &(dyn Fn(Vec<T>) -> Result<Vec<R>, MigrateError> + Sync),
) -> Result<Vec<R>, MigrateError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(4));
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

/// [`transform`] over a batch, on every core.
fn transform_batch(
    job: &ColumnJob,
    plan: &Plan,
    keyring: &Keyring,
    source: Option<&dyn SourceFormat>,
    batch: Vec<Pending>,
) -> Result<Vec<Transformed>, MigrateError> {
    on_threads(batch, &|rows: Vec<Pending>| {
        rows.into_iter()
            .map(|(key, cell, stored)| {
                let outcome = transform(job, plan, keyring, source, &key, &cell, stored)?;
                Ok((key, cell, outcome))
            })
            .collect()
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
    let pending_at_start = pool.count(&plan.count_pending()).await?;
    let mut state = Progress {
        pending_at_start,
        written: 0,
        concurrent: 0,
        failed: 0,
        pass: 0,
    };
    let mut failed: BTreeSet<Key> = BTreeSet::new();
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
                for (key, cell, outcome) in transform_batch(job, &plan, keyring, source, batch)? {
                    match outcome {
                        Outcome::Change(new, index) => changes.push(Change {
                            key,
                            old: cell,
                            new,
                            index,
                        }),
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
        let verification = verify(pool, job, &plan, keyring, options.batch.max(10_000)).await?;
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
    job: &ColumnJob,
    plan: &Plan,
    keyring: &Keyring,
    batch: usize,
) -> Result<Verification, MigrateError> {
    let (column, class) = match job.operation {
        Operation::Encrypt | Operation::Import => {
            (job.encrypted_column().to_owned(), plan.target_info.class)
        }
        Operation::Rotate | Operation::Reindex => (job.column.clone(), plan.source_info.class),
        Operation::Decrypt => (plan.target.clone(), plan.target_info.class),
    };
    let primary = keyring.primary();
    let mut result = Verification::default();
    let read = |cursor: Option<Key>| {
        let (pool, plan, column) = (pool.clone(), plan.clone(), column.clone());
        tokio::spawn(async move {
            pool.fetch_all(&plan, &column, class, cursor.as_ref(), batch)
                .await
        })
    };
    let mut next = read(None);
    loop {
        let rows = joined(next.await)?;
        let Some((last, _, _)) = rows.last() else {
            break;
        };
        // The next batch is read while this one is opened, on every core.
        next = read(Some(last.clone()));
        let verdicts = on_threads(rows, &|rows: Vec<Pending>| {
            rows.into_iter()
                .map(|(key, cell, stored_index)| {
                    check(job, plan, keyring, primary, &key, &cell, stored_index)
                })
                .collect()
        })?;
        for verdict in verdicts {
            result.checked += 1;
            match verdict {
                Verdict::Good => result.good += 1,
                Verdict::Left => result.left += 1,
                Verdict::FailedToOpen => result.failed_to_open += 1,
                Verdict::IndexMismatch => result.index_mismatch += 1,
            }
        }
    }
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
    Left,
    FailedToOpen,
    IndexMismatch,
}

/// Checks one value the job wrote (or should have).
fn check(
    job: &ColumnJob,
    plan: &Plan,
    keyring: &Keyring,
    primary: fieldcrypt::KeyId,
    key: &Key,
    cell: &Cell,
    stored_index: Option<i64>,
) -> Result<Verdict, MigrateError> {
    let bytes = cell.envelope_bytes();
    let envelope = bytes.and_then(|b| Envelope::parse(b).ok());
    Ok(match (job.operation, envelope) {
        (Operation::Decrypt, None) => Verdict::Good,
        (Operation::Decrypt, Some(_)) | (_, None) => Verdict::Left,
        (_, Some(envelope)) => {
            let context = context_for(job, key)?;
            let opened = bytes.and_then(|b| keyring.open::<Value>(&context, b).ok());
            match opened {
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
