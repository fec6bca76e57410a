//! # fieldcrypt
//!
//! Field-level encryption for the data Rust services keep in their databases: the application
//! seals a value before it reaches the database and opens it when it comes back, with keys kept
//! elsewhere. This crate is the core: the envelope format, the AEAD suites, keyrings, the context
//! a value is bound to, typed plaintext, and blind indexes for equality search. It does no I/O;
//! key providers live in `fieldcrypt-kms`, database column types in `fieldcrypt-sqlx`.
//!
//! ```
//! use fieldcrypt::{Context, Keyring, Suite};
//!
//! let keyring = Keyring::generate(Suite::KcXaes256Gcm)?;
//! let email = Context::new("customers", "email")?.with_row(42i64)?;
//!
//! let stored: String = keyring.seal_text(&email, "ann@example.org")?;
//! assert!(stored.starts_with("fc1c1."));            // version 1, KC-XAES, key 1
//! let back: String = keyring.open(&email, stored.as_bytes())?;
//! assert_eq!(back, "ann@example.org");
//!
//! // The same value in another row does not open, and neither does an integer read as text.
//! let other_row = Context::new("customers", "email")?.with_row(43i64)?;
//! assert!(keyring.open::<String>(&other_row, stored.as_bytes()).is_err());
//! let age = keyring.seal(&email, &41i64)?;
//! assert!(keyring.open::<String>(&email, &age).is_err());
//! # Ok::<(), fieldcrypt::Error>(())
//! ```
//!
//! The format is specified byte by byte in `docs/FORMAT.md`, with language-neutral vectors in
//! `testdata/vectors/`.

#![forbid(unsafe_code)]

pub mod aead;
mod backend;
mod batch;
pub mod blind_index;
pub mod context;
pub mod document;
pub mod envelope;
mod error;
pub mod keyring;
pub mod os_random;
pub mod parallel;
pub mod plaintext;
pub mod sealer;
mod secret;
pub mod stream;
mod strict_json;

pub use blind_index::{BlindIndexValue, BlindIndexer, ColumnIndex, IndexDefinition, Normalizer};
pub use context::{Context, RowKey};
pub use document::{KeyWrapper, KeyringDocument, LocalKek};
pub use envelope::{Envelope, Header, KeyId, Suite};
pub use error::{Error, KeyringError, ParseError};
pub use keyring::{KeyInfo, KeyState, Keyring, KeyringId};
pub use plaintext::{Date, Decimal, Decode, Encode, Json, JsonText, Timestamp, TypeTag, Value};
pub use sealer::Sealer;
pub use secret::{SecretKey, random_array};
pub use stream::{StreamHeader, StreamOpener, StreamSealer};
