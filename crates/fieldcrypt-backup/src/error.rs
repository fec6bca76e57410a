//! Errors of backups, verification and restores.

use std::io;

use crate::Kind;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The backup does not open: wrong key or keyring, a retired key, tampered, truncated (a
    /// backup cut short, or killed half-way), not a fieldcrypt stream at all.
    #[error("the backup does not verify: {0}")]
    Stream(#[from] fieldcrypt::Error),
    /// The stream opened but is not a backup this version reads (a sealed file, say).
    #[error("not a fieldcrypt backup: {0}")]
    NotABackup(&'static str),
    /// The dump inside does not match the length or digest its trailer records.
    #[error("the backup's dump does not match its recorded length and digest")]
    DigestMismatch,
    /// The file changed between the verify pass and the restore pass of a restore.
    #[error("the backup changed while it was being restored")]
    Changed,
    /// The database URL is not one this supports.
    #[error("database URL: {0}")]
    Url(String),
    /// The backup is of another kind of database than the target.
    #[error("the backup is of a {backup} database; it cannot restore into {target}")]
    WrongDatabase {
        /// The backup's.
        backup: Kind,
        /// The target's.
        target: Kind,
    },
    /// The dump or restore tool could not run, or failed (its last lines of error output).
    #[error("{tool}: {message}")]
    Tool {
        /// The program.
        tool: String,
        /// What went wrong.
        message: String,
    },
    /// SQLite's backup API failed.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(io::Error),
}

impl From<io::Error> for Error {
    /// Unwraps a stream error carried by an I/O error (the readers' way of failing).
    fn from(err: io::Error) -> Self {
        match fieldcrypt_files::Error::from(err) {
            fieldcrypt_files::Error::Stream(e) => Error::Stream(e),
            fieldcrypt_files::Error::Io(e) => Error::Io(e),
        }
    }
}

impl From<fieldcrypt_files::Error> for Error {
    fn from(err: fieldcrypt_files::Error) -> Self {
        match err {
            fieldcrypt_files::Error::Stream(e) => Error::Stream(e),
            fieldcrypt_files::Error::Io(e) => Error::Io(e),
        }
    }
}
