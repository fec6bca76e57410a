//! # fieldcrypt-kms
//!
//! Where key-encryption keys (KEKs) live and how keyrings are stored, so that data keys never
//! sit next to the data in the clear. Each provider is behind its own cargo feature; the default
//! build has only the local master-key file and pulls in no HTTP client or cloud SDK.
//!
//! - [`local`]: a 32-byte master key in a file created with mode 0600; group- or world-readable
//!   files are refused with the command that fixes them.
//! - [`keyring_file`]: a keyring document (only wrapped keys) in a JSON file, written atomically.
//! - [`local_keyring`]: the two together, created on first use: the embedded default.

#![forbid(unsafe_code)]

pub mod error;
pub mod keyring_file;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "local")]
pub mod local_keyring;
mod private_file;

pub use error::KmsError;
#[cfg(feature = "local")]
pub use local_keyring::LocalKeyring;
