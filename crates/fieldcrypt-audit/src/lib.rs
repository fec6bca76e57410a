//! # fieldcrypt-audit
//!
//! The decrypt trail that `fieldcrypt-server` writes and an auditor checks without the server's
//! secrets. Each replica keeps its own chain: entry `n` carries SHA-256 over the chain value of
//! entry `n - 1` and its own fields ([`record::entry_hash`]), and every so often a
//! [`record::Checkpoint`] signs the chain value with an Ed25519 key. [`verify::verify`] needs the
//! public key only and reports entries modified, removed, reordered, repeated, and entries
//! after the last checkpoint.
//!
//! - [`record`]: the records and the bytes they are hashed and signed as (no I/O);
//! - [`chain`]: the writer's state for one replica (no I/O);
//! - [`signing`]: the Ed25519 keys as PKCS#8 / SPKI PEM;
//! - [`mod@verify`]: the offline check (no I/O);
//! - [`mod@file`]: the local append-only sink and its reader;
//! - `postgres` (feature `postgres`): the shared table sink and its reader.

#![forbid(unsafe_code)]

pub mod chain;
pub mod file;
#[cfg(feature = "postgres")]
pub mod postgres;
pub mod record;
pub mod signing;
pub mod verify;

pub use chain::{Chain, Event};
pub use record::{Checkpoint, Entry, Record};
pub use signing::{SigningKey, VerifyingKey};
pub use verify::{Problem, Report, verify};

use std::path::{Path, PathBuf};

/// What can go wrong writing or reading a trail, or loading its keys. Never carries a key.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A file could not be read or written.
    #[error("{what} {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The cause.
        source: std::io::Error,
    },
    /// The database refused.
    #[error("{what}: {reason}")]
    Database {
        /// What was being done.
        what: &'static str,
        /// The driver's message.
        reason: String,
    },
    /// A key that is not what it should be.
    #[error("audit signing key: {0}")]
    Key(&'static str),
}

impl AuditError {
    pub(crate) fn io(path: &Path, what: &'static str, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_owned(),
            what,
            source,
        }
    }
}
