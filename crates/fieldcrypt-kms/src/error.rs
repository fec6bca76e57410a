//! Provider errors: each says which file or service and what to do, never a key.

use std::path::PathBuf;

/// What went wrong while finding, reading or writing keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KmsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// A key file is readable by group or others.
    #[error(
        "{path} is readable by group or others (mode {mode:o}); a key file must be private: chmod 600 {path}"
    )]
    InsecurePermissions {
        /// The file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A master-key file is not in the expected format.
    #[error(
        "{path} is not a fieldcrypt master-key file (expected one line: fieldcrypt-master-key-v1:<43 base64url characters>)"
    )]
    BadMasterKeyFile {
        /// The file.
        path: PathBuf,
    },
    /// A keyring file is not a keyring document.
    #[error("{path} is not a fieldcrypt keyring: {reason}")]
    BadKeyringFile {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// A keyring file already exists where a new one was to be created.
    #[error("{0} already exists; refusing to overwrite a keyring (its keys would be lost)")]
    KeyringExists(PathBuf),
    /// A keyring is wrapped by a provider this build does not have.
    #[error("{path} is wrapped by provider {provider:?}, which this build does not have")]
    UnsupportedProvider {
        /// The keyring file.
        path: PathBuf,
        /// The provider it names.
        provider: String,
    },
    /// A keyring does not record where its master key is, and none was given.
    #[error("{0} does not say where its master key is; name the master key file")]
    NoMasterKeyPath(PathBuf),
    /// The keyring refused the operation (wrong KEK, damaged document, ...).
    #[error(transparent)]
    Core(#[from] fieldcrypt::Error),
}

impl KmsError {
    pub(crate) fn io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> Self + '_ {
        move |source| KmsError::Io {
            path: path.to_owned(),
            source,
        }
    }
}
