//! # fieldcrypt-kms
//!
//! Where key-encryption keys (KEKs) live and how keyrings are stored, so that data keys never
//! sit next to the data in the clear.
//!
//! - [`KeyProvider`]: wraps a keyring's KEK. In this crate, each behind its own feature:
//!   [`local`] (a master-key file, default), `providers::env` (an environment variable, feature
//!   `env`) and `providers::passphrase` (Argon2id, feature `passphrase`). AWS KMS and
//!   Vault/OpenBao Transit are separate crates (`fieldcrypt-kms-aws`, `fieldcrypt-kms-vault`), so
//!   the default build pulls in no HTTP client or cloud SDK.
//! - [`UnlockedKeyring`]: the two-level scheme (FORMAT.md section 10.5): the provider wraps a
//!   per-document KEK, which wraps every data key and keys the document MAC. One provider call
//!   opens a keyring however many keys it holds; a rewrap changes one value and no data row.
//! - [`KeyringStore`]: where documents are kept ([`FileStore`]; the database table
//!   `fieldcrypt_keys` is in `fieldcrypt-sqlx`), written all or nothing, compare-and-swap.
//! - [`ManagedKeyring`]: unwrapped keys cached with a time-to-live and a use limit.
//! - [`LocalKeyring`]: a keyring file under a master-key file, created on first use.

#![forbid(unsafe_code)]

pub mod cache;
pub mod configured;
pub mod error;
pub mod keyring_file;
#[cfg(feature = "local")]
pub mod local;
#[cfg(feature = "local")]
pub mod local_keyring;
mod private_file;
pub mod provider;
pub mod providers;
mod ready;
pub mod store;
pub mod unlocked;

pub use cache::{CachePolicy, ManagedKeyring};
pub use configured::InProcessConfig;
pub use error::KmsError;
#[cfg(feature = "local")]
pub use local_keyring::LocalKeyring;
pub use provider::{KeyProvider, Settings, WrapContext};
pub use store::{FileStore, KeyringStore, Stored, Version};
pub use unlocked::{Pins, UnlockedKeyring};
