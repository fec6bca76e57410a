//! # fieldcrypt-migrate
//!
//! Online, crash-safe jobs over existing columns, for PostgreSQL, MySQL/MariaDB and SQLite:
//! encrypt a plaintext column (in place or into another column), rotate envelopes to the primary
//! key, and decrypt back to plaintext for a rollback. The `fieldcrypt` command drives them
//! (`encrypt-column`, `rotate`, `decrypt-column`), and [`doctor()`] reports what state a table's
//! encrypted columns are in.
//!
//! How a job stays safe while the application keeps writing:
//!
//! - **No state outside the database.** A row is pending because of what it holds (plaintext
//!   where envelopes belong, an envelope under an old key, an empty target column), so a job
//!   killed at any moment, even with SIGKILL, is resumed by running it again.
//! - **Batches, each one statement.** A batch is read without locks, transformed in memory and
//!   written with one `UPDATE` that is applied wholly or not at all.
//! - **Compare-and-swap on the old value.** Each row is written only if it still holds the value
//!   the job read (byte for byte, whatever the collation): an update the application made in
//!   between wins, and the row is read again on the next pass. No update is ever lost.
//! - **Passes until nothing is left**, then a verification pass that reads every value back:
//!   envelopes must open, nothing may be left to do. Rows that cannot be transformed (they do
//!   not open with this keyring) are counted and named, never dropped or overwritten.
//!
//! With `--into`, the application must write the new column itself (or set it to NULL) whenever
//! it writes the old one after the job has passed that row; a row is pending only while the new
//! column is NULL.

#![forbid(unsafe_code)]

pub mod db;
pub mod doctor;
pub mod engine;
pub mod error;
mod resolve;
pub mod shard;
pub mod spec;
mod transform;

pub use db::{Class, ColumnInfo, KeyRange, Pool, RowId};
pub use doctor::{ColumnReport, DoctorReport, doctor};
pub use engine::{Progress, Summary, Verification, run, run_import};
pub use error::MigrateError;
pub use shard::{Shard, ShardStatus};
pub use spec::{BeforeWrite, ColumnJob, IndexSpec, Operation, RunOptions, SourceFormat};
