//! What a job does: which column, which direction, where the result goes.

use fieldcrypt::Normalizer;

use crate::error::MigrateError;

/// The direction of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Plaintext to envelopes.
    Encrypt,
    /// Envelopes under a non-primary key to envelopes under the primary key.
    Rotate,
    /// Envelopes back to plaintext (the way back, for a rollback).
    Decrypt,
    /// The blind-index column recomputed under the keyring's primary index root.
    Reindex,
    /// Values in another library's format (a [`SourceFormat`]) to envelopes: `encrypt-column`
    /// with a decoder in front (`fieldcrypt import django`).
    Import,
}

/// Reads values another library stored (Django's field-encryption libraries, say), for
/// [`Operation::Import`]: the bytes of a text or binary cell to the typed value to seal. An
/// error leaves the row as it is and lists it.
pub trait SourceFormat: Send + Sync {
    /// The format's name, for messages.
    fn name(&self) -> &str;
    /// The value `stored` holds, or why it cannot be read (no plaintext in the message).
    fn read(&self, stored: &[u8]) -> Result<fieldcrypt::Value, String>;
}

impl Operation {
    /// The command's name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Operation::Encrypt => "encrypt-column",
            Operation::Rotate => "rotate",
            Operation::Decrypt => "decrypt-column",
            Operation::Reindex => "reindex",
            Operation::Import => "import",
        }
    }
}

/// One column to migrate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnJob {
    /// What to do.
    pub operation: Operation,
    /// The table.
    pub table: String,
    /// The column read.
    pub column: String,
    /// The column written, when not `column` itself. It must exist; a row is pending while it
    /// is NULL and `column` is not.
    pub into: Option<String>,
    /// The primary key (default: the table's own single-column primary key).
    pub pk: Option<String>,
    /// The table and column bound into envelopes (default: `table` and the encrypted column,
    /// which is `into` when encrypting into another column, else `column`).
    pub context: Option<(String, String)>,
    /// Bind every envelope to its row's primary key as well (`fieldcrypt_sqlx::Sealed`), not
    /// only to table and column (`fieldcrypt_sqlx::Encrypted`).
    pub bind_row: bool,
    /// A blind-index column filled beside the envelopes (`encrypt-column`) or recomputed
    /// (`reindex`).
    pub index: Option<IndexSpec>,
}

/// A blind-index column: an integer column holding `fieldcrypt_sqlx::BlindIndex` values of the
/// encrypted column's text, for the index defined as `IndexDefinition::new(table, column,
/// <index column>, bits)` with these normalisers (table and column: the context's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSpec {
    /// The integer column the values go to; also the index's name.
    pub column: String,
    /// Normalisers, in order.
    pub normalizers: Vec<Normalizer>,
    /// Bits kept (1 to 63).
    pub bits: u16,
}

impl IndexSpec {
    /// Parses `COLUMN:NORMALISERS:BITS`, e.g. `email_idx:nfkc,trim,casefold:16` or
    /// `ssn_idx::24` (no normalisers).
    pub fn parse(spec: &str) -> Result<Self, MigrateError> {
        let invalid = |why: &str| {
            MigrateError::Invalid(format!(
                "--index {spec:?}: {why} (expected COLUMN:NORMALISERS:BITS, e.g. email_idx:nfkc,trim,casefold:16)"
            ))
        };
        let mut parts = spec.split(':');
        let (Some(column), Some(normalizers), Some(bits), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(invalid("three parts separated by ':'"));
        };
        if column.is_empty() {
            return Err(invalid("no column"));
        }
        let bits: u16 = bits.parse().map_err(|_| invalid("bits is not a number"))?;
        if !(1..=63).contains(&bits) {
            return Err(invalid("bits must be 1 to 63 (a BIGINT column)"));
        }
        let normalizers = if normalizers.is_empty() {
            Vec::new()
        } else {
            Normalizer::parse_list(normalizers).map_err(|e| invalid(&e.to_string()))?
        };
        Ok(Self {
            column: column.to_owned(),
            normalizers,
            bits,
        })
    }
}

impl ColumnJob {
    /// A job on `table.column`, in place, with the table's primary key.
    pub fn new(operation: Operation, table: &str, column: &str) -> Self {
        Self {
            operation,
            table: table.to_owned(),
            column: column.to_owned(),
            into: None,
            pk: None,
            context: None,
            bind_row: false,
            index: None,
        }
    }

    /// The column the envelopes are in: the one written when encrypting, the one read otherwise.
    pub fn encrypted_column(&self) -> &str {
        match (self.operation, &self.into) {
            (Operation::Encrypt | Operation::Import, Some(into)) => into,
            _ => &self.column,
        }
    }

    /// The table and column bound into envelopes.
    pub fn context_names(&self) -> (String, String) {
        self.context
            .clone()
            .unwrap_or_else(|| (self.table.clone(), self.encrypted_column().to_owned()))
    }
}

/// How a job runs.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    /// Rows read and written per statement.
    pub batch: usize,
    /// Batch writes in flight at once, each on its own connection (1: strictly one at a time).
    pub parallel: usize,
    /// A ceiling on rows written per second (`None`: as fast as the database goes).
    pub rows_per_sec: Option<f64>,
    /// Count what would change and check the columns; write nothing.
    pub dry_run: bool,
    /// Passes over the table at most. After the first, a pass takes the rows that changed under
    /// the job; an application that keeps writing plaintext keeps them coming, so the job stops
    /// here and the verification pass reports what is left.
    pub max_passes: u32,
    /// Work on one shard of the table (`--shard I/N`, see [`crate::shard`]) rather than all of it.
    pub shard: Option<crate::shard::Shard>,
    /// For tests only: runs before each batch write, in the window between the batch's read and
    /// its compare-and-swap, where a test makes the application's concurrent write.
    #[doc(hidden)]
    pub before_write: BeforeWrite,
}

/// A hook a test runs between a batch's read and its write ([`RunOptions::before_write`]).
#[doc(hidden)]
#[derive(Clone, Default)]
#[allow(clippy::type_complexity)]
pub struct BeforeWrite(
    pub  Option<
        std::sync::Arc<
            dyn Fn() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>
                + Send
                + Sync,
        >,
    >,
);

impl core::fmt::Debug for BeforeWrite {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(if self.0.is_some() {
            "BeforeWrite(set)"
        } else {
            "BeforeWrite(none)"
        })
    }
}

impl PartialEq for BeforeWrite {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (None, None) => true,
            (Some(a), Some(b)) => std::sync::Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            batch: 1000,
            parallel: 3,
            rows_per_sec: None,
            dry_run: false,
            max_passes: 10,
            shard: None,
            before_write: BeforeWrite::default(),
        }
    }
}
