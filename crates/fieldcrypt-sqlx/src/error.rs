//! Errors, and how to get them back out of `sqlx::Error`.

/// What went wrong sealing or opening a column value.
///
/// Inside sqlx this arrives boxed, as the source of `sqlx::Error::ColumnDecode` (reading) or
/// `sqlx::Error::Encode` (writing); [`column_error`] gets it back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No keyring was installed for transparent columns: call [`install`](crate::install).
    #[error("no keyring installed: call fieldcrypt_sqlx::install(keyring) at start-up")]
    NoKeyring,
    /// Sealing or opening failed: wrong key, wrong table, column or row, tampering, a malformed
    /// envelope, a retired key, or another type.
    #[error(transparent)]
    Crypto(#[from] fieldcrypt::Error),
    /// A blind-index value wider than a `BIGINT` holds.
    #[error("a blind index of {0} bits does not fit a BIGINT column; use 63 bits or fewer")]
    IndexTooWide(u16),
}

impl Error {
    /// The core error, if this is one.
    pub fn crypto(&self) -> Option<&fieldcrypt::Error> {
        match self {
            Error::Crypto(e) => Some(e),
            _ => None,
        }
    }
}

/// The fieldcrypt error behind a `sqlx::Error`, if there is one: a value that did not open
/// (reading) or could not be sealed (writing).
///
/// ```
/// # fn handle(err: sqlx::Error) {
/// match fieldcrypt_sqlx::column_error(&err) {
///     Some(e) => eprintln!("encrypted column: {e}"),
///     None => eprintln!("database: {err}"),
/// }
/// # }
/// ```
pub fn column_error(err: &sqlx::Error) -> Option<&Error> {
    match err {
        sqlx::Error::ColumnDecode { source, .. } | sqlx::Error::Encode(source) => {
            source.downcast_ref::<Error>()
        }
        _ => None,
    }
}
