//! Migration errors: each names the table, column or row and what to do; never a value.

/// What stopped a job. A job that stops leaves every row either as it was or fully done.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// The URL names no database this build supports.
    #[error("unsupported database URL (expected postgres://, mysql://, mariadb:// or sqlite:)")]
    UnsupportedUrl,
    /// The table does not exist.
    #[error("table {0:?} does not exist")]
    NoSuchTable(String),
    /// The column does not exist.
    #[error("column {table}.{column} does not exist")]
    NoSuchColumn {
        /// The table.
        table: String,
        /// The column.
        column: String,
    },
    /// The table has no single-column primary key and none was named.
    #[error(
        "table {0:?} has no single-column primary key; name a unique, non-null integer or text column with --pk"
    )]
    NoPrimaryKey(String),
    /// A column's SQL type cannot take part in this job.
    #[error("column {table}.{column} has type {sql_type}, which {why}")]
    UnsupportedType {
        /// The table.
        table: String,
        /// The column.
        column: String,
        /// Its SQL type.
        sql_type: String,
        /// Why not, and what to do instead.
        why: &'static str,
    },
    /// The job's options contradict each other.
    #[error("{0}")]
    Invalid(String),
    /// The database refused or went away; the current batch was rolled back.
    #[error("database error during {during}: {source}")]
    Database {
        /// What the job was doing.
        during: &'static str,
        /// The driver's error.
        source: sqlx::Error,
    },
    /// The keyring refused an operation (not a per-row failure, which is counted instead).
    #[error(transparent)]
    Crypto(#[from] fieldcrypt::Error),
    /// A blind index could not be computed.
    #[error(transparent)]
    Index(#[from] fieldcrypt_sqlx::Error),
}

impl MigrateError {
    pub(crate) fn db(during: &'static str) -> impl FnOnce(sqlx::Error) -> Self {
        move |source| MigrateError::Database { during, source }
    }
}
