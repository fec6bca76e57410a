//! The job loop: read a batch of pending rows, transform it in memory, write it back with one
//! compare-and-swap statement, repeat; then a verification pass over every value.
//!
//! The job keeps no state outside the database. Which rows are left is a property of the rows
//! themselves (plaintext where envelopes belong, envelopes under an old key, an empty target
//! column), so a job killed at any moment is resumed by running it again: a batch is one
//! statement, applied wholly or not at all.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fieldcrypt::Keyring;
use tokio::task::JoinSet;

use crate::db::KeyRange;
use crate::db::{Change, Pool, ReadRow, RowId};
use crate::error::MigrateError;
use crate::resolve::plan;
use crate::shard::{self, Shard};
use crate::spec::{ColumnJob, Operation, RunOptions, SourceFormat};
use crate::transform::{Contexts, Failure, Outcome, RowWork, Transformed, Verdict, Written};

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
    /// The shard the job ran on, and its keys (`None`: the whole table).
    pub shard: Option<(Shard, KeyRange)>,
    /// Rows pending at the start.
    pub pending_at_start: u64,
    /// Rows written.
    pub written: u64,
    /// Rows that changed under the job (each was read again later).
    pub concurrent: u64,
    /// Rows left as they were because they could not be transformed; `failed_keys` names the
    /// first hundred.
    pub failed: u64,
    /// Of the failed rows, those whose new value would not fit the column (never written).
    pub too_long: u64,
    /// The limit of the column written, when it has one (`100 characters`), for messages.
    pub target_limit: Option<String>,
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

/// Runs `job` to completion: rounds of passes and a verification (docs/MIGRATE.md, "Passes,
/// then verification, in rounds").
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
    let mut plan = plan(pool, job, keyring).await?;
    if let Some(shard) = options.shard {
        plan.range = shard::range(pool, &plan, shard, !options.dry_run).await?;
    }
    let pending_at_start = pool.count_pending(&plan).await?;
    // Decrypt's verification opens nothing (it looks for envelopes left): nothing to record.
    let record = job.operation != Operation::Decrypt;
    let mut run = Run {
        pool,
        work: RowWork {
            job,
            plan: &plan,
            keyring,
            source,
            contexts: Contexts::new(job)?,
        },
        options,
        started,
        state: Progress {
            pending_at_start,
            written: 0,
            concurrent: 0,
            failed: 0,
            pass: 0,
        },
        failed: BTreeMap::new(),
        written: Written::with_capacity(if record { pending_at_start } else { 0 }),
        record,
        verify_elapsed: Duration::ZERO,
    };
    let verification = if options.dry_run {
        None
    } else {
        Some(run.rounds(progress).await?)
    };
    Ok(run.summary(verification))
}

/// A job under way: what it works with and what it has counted so far.
struct Run<'a> {
    pool: &'a Pool,
    work: RowWork<'a>,
    options: &'a RunOptions,
    started: Instant,
    state: Progress,
    /// The rows left as they were, and why; each counted once, on the first pass that meets it.
    failed: BTreeMap<RowId, Failure>,
    /// What this run wrote, so that the verification need not open it all again.
    written: Written,
    record: bool,
    verify_elapsed: Duration,
}

/// What one pass wrote, and how many of its rows changed under it.
struct PassCounts {
    written: u64,
    concurrent: u64,
}

impl Run<'_> {
    fn max_passes(&self) -> u32 {
        self.options.max_passes.max(1)
    }

    /// Rounds until one leaves nothing unexplained: passes, then a verification. Values left
    /// beyond the rows known to fail were written by the application behind the passes; another
    /// round takes them, up to `max_passes` passes in all and only while rounds keep writing.
    async fn rounds(
        &mut self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<Verification, MigrateError> {
        let mut round = 0;
        loop {
            round += 1;
            let written_before = self.state.written;
            self.passes(progress).await?;
            let verify_started = Instant::now();
            // Verification only reads: larger pages than the write batches mean fewer round
            // trips.
            let verification = verify(
                self.pool,
                &self.work,
                &self.written,
                self.options.batch.max(10_000),
            )
            .await?;
            self.verify_elapsed += verify_started.elapsed();
            let unexplained =
                verification.left + verification.index_mismatch > self.failed.len() as u64;
            let round_wrote = self.state.written > written_before;
            if !unexplained || self.state.pass >= self.max_passes() || (round > 1 && !round_wrote) {
                return Ok(verification);
            }
        }
    }

    /// Passes over the pending rows. Another pass follows at once only when this one met rows
    /// that changed under it (and wrote something): a pass that wrote nothing leaves only rows
    /// that cannot be transformed. Rows the application changes behind a pass are found by the
    /// verification.
    async fn passes(&mut self, progress: &mut dyn FnMut(Progress)) -> Result<(), MigrateError> {
        loop {
            self.state.pass += 1;
            let pass = self.pass(progress).await?;
            if pass.written == 0 || pass.concurrent == 0 || self.state.pass >= self.max_passes() {
                return Ok(());
            }
        }
    }

    /// One pass: read a batch of pending rows after the last, transform it in memory while the
    /// next is read, and write it with one compare-and-swap statement, up to `parallel` writes in
    /// flight, each on its own connection.
    async fn pass(
        &mut self,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<PassCounts, MigrateError> {
        let (written_before, concurrent_before) = (self.state.written, self.state.concurrent);
        let mut writes: JoinSet<Result<(u64, u64), MigrateError>> = JoinSet::new();
        let read = |cursor: Option<RowId>| {
            let (pool, plan, limit) = (
                self.pool.clone(),
                self.work.plan.clone(),
                self.options.batch,
            );
            tokio::spawn(async move { pool.fetch_pending(&plan, cursor.as_ref(), limit).await })
        };
        let mut next = read(None);
        loop {
            let batch: Vec<ReadRow> = joined(next.await)?;
            let Some(last) = batch.last() else {
                break;
            };
            // The next batch is read while this one is sealed and written.
            next = read(Some(last.id.clone()));
            let transformed = self
                .work
                .transform_batch(batch, self.record.then_some(&self.written))?;
            let changes = self.changes(transformed);
            while writes.len() >= self.options.parallel.max(1) {
                finish_write(&mut writes, &mut self.state, progress).await?;
            }
            if let Some(hook) = &self.options.before_write.0 {
                hook().await;
            }
            let (pool, plan) = (self.pool.clone(), self.work.plan.clone());
            writes.spawn(async move {
                let attempted = changes.len() as u64;
                let applied = pool.apply(&plan, changes).await?;
                Ok((attempted, applied))
            });
            if let Some(limit) = self.options.rows_per_sec.filter(|l| *l > 0.0) {
                let due = Duration::from_secs_f64(self.state.written as f64 / limit);
                if let Some(wait) = due.checked_sub(self.started.elapsed()) {
                    tokio::time::sleep(wait).await;
                }
            }
        }
        while !writes.is_empty() {
            finish_write(&mut writes, &mut self.state, progress).await?;
        }
        Ok(PassCounts {
            written: self.state.written - written_before,
            concurrent: self.state.concurrent - concurrent_before,
        })
    }

    /// The batch's compare-and-swaps; failed rows are counted (once) instead.
    fn changes(&mut self, batch: Vec<Transformed>) -> Vec<Change> {
        let mut changes = Vec::with_capacity(batch.len());
        for Transformed {
            id,
            old,
            tid,
            outcome,
            digest,
        } in batch
        {
            match outcome {
                Outcome::Change(new, index) => {
                    if let Some(digest) = digest {
                        self.written.record(digest);
                    }
                    changes.push(Change {
                        id,
                        old,
                        new,
                        index,
                        tid,
                    });
                }
                Outcome::Unchanged => {}
                Outcome::Failed(why) => {
                    if self.failed.insert(id, why).is_none() {
                        self.state.failed += 1;
                    }
                }
            }
        }
        changes
    }

    fn summary(&self, verification: Option<Verification>) -> Summary {
        let plan = self.work.plan;
        Summary {
            operation: self.work.job.operation,
            shard: self.options.shard.map(|s| (s, plan.range.clone())),
            pending_at_start: self.state.pending_at_start,
            written: self.state.written,
            concurrent: self.state.concurrent,
            failed: self.state.failed,
            too_long: self
                .failed
                .values()
                .filter(|why| **why == Failure::TooLong)
                .count() as u64,
            target_limit: plan.target_info.limit(),
            failed_keys: self
                .failed
                .keys()
                .take(100)
                .map(ToString::to_string)
                .collect(),
            passes: self.state.pass,
            verification,
            elapsed: self.started.elapsed(),
            verify_elapsed: self.verify_elapsed,
        }
    }
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
        let verdicts = fieldcrypt::parallel::map_chunks(rows, |rows: Vec<ReadRow>| {
            rows.into_iter()
                .map(|row| {
                    if written.vouches_for(&row.id, &row.value, row.index) {
                        Ok(Verdict::AsWritten)
                    } else {
                        work.check(primary, &row.id, &row.value, row.index)
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
        let not_done = pool.count_pending(plan).await?;
        result.checked += not_done;
        result.left += not_done;
    }
    Ok(result)
}
