//! # fieldcrypt-sqlx
//!
//! Encrypted columns for [sqlx](https://docs.rs/sqlx) on Postgres, SQLite and MySQL/MariaDB: the
//! application marks fields as encrypted and reads and writes plain values; the database holds
//! only [`fieldcrypt`] envelopes, each bound to its table and column (and, in explicit
//! mode, its row), plus blind indexes for equality search.
//!
//! The types are generic over `sqlx::Database`, implemented through sqlx's own `Vec<u8>`,
//! `String` and `i64` support, so they work with any driver the application enables (and `Any`).
//!
//! ## Transparent: plain values in, plain values out
//!
//! Install a keyring at start-up and declare each column once; [`Encrypted`] seals on bind and
//! opens on read:
//!
//! ```no_run
//! use fieldcrypt_sqlx::prelude::*;
//! fieldcrypt_sqlx::column!(pub Email = "customers"."email");
//!
//! #[derive(sqlx::FromRow)]
//! struct Customer {
//!     id: i64,
//!     email: Encrypted<String, Email>,
//! }
//!
//! # async fn demo(pool: sqlx::SqlitePool) -> Result<(), Box<dyn std::error::Error>> {
//! install_local("data/keyring.json")?; // opens (or creates) the keyring, once at start-up
//! sqlx::query("INSERT INTO customers (id, email) VALUES (?, ?)")
//!     .bind(1_i64)
//!     .bind(Email::new("ann@example.org"))
//!     .execute(&pool)
//!     .await?;
//! let ann: Customer = sqlx::query_as("SELECT id, email FROM customers WHERE id = ?")
//!     .bind(1_i64)
//!     .fetch_one(&pool)
//!     .await?;
//! assert_eq!(ann.email.plaintext(), "ann@example.org");
//! # Ok(()) }
//! ```
//!
//! The plain value is reached only by an explicit call ([`Encrypted::plaintext`]), not through
//! `Deref`, so neither `&*e` nor a compiler's suggestion binds it by accident:
//!
//! ```compile_fail
//! # use fieldcrypt_sqlx::prelude::*;
//! # fieldcrypt_sqlx::column!(pub Email = "customers"."email");
//! let e = Email::new("ann@example.org".to_owned());
//! sqlx::query::<sqlx::Sqlite>("INSERT INTO customers (email) VALUES (?)").bind(&*e);
//! ```
//!
//! ```compile_fail
//! # use fieldcrypt_sqlx::prelude::*;
//! # fieldcrypt_sqlx::column!(pub Email = "customers"."email");
//! let e = Email::new("ann@example.org".to_owned());
//! sqlx::query::<sqlx::Sqlite>("INSERT INTO customers (email) VALUES (?)").bind(e.as_str());
//! ```
//!
//! ```compile_fail
//! # use fieldcrypt_sqlx::prelude::*;
//! # fieldcrypt_sqlx::column!(pub Email = "customers"."email");
//! let e = Email::new("ann@example.org".to_owned());
//! sqlx::query::<sqlx::Sqlite>("INSERT INTO customers (email) VALUES (?)").bind(e.to_string());
//! ```
//!
//! (The same lines with `.bind(e)` compile; the one way left to store plaintext is to bind the
//! plain value itself, `.bind(e.plaintext())` or `.bind(email)`, which reads back with an error
//! that says so, and which `fieldcrypt doctor` finds.)
//!
//! ```
//! # use fieldcrypt_sqlx::prelude::*;
//! # fieldcrypt_sqlx::column!(pub Email = "customers"."email");
//! let e = Email::new("ann@example.org".to_owned());
//! let _ = sqlx::query::<sqlx::Sqlite>("INSERT INTO customers (email) VALUES (?)").bind(e);
//! ```
//!
//! ## Explicit: every value bound to its row
//!
//! [`Sealed`] holds the envelope; the application seals and opens with a keyring it passes and
//! the row's key, so a value copied into another row does not open. The row key must exist
//! before sealing: generate ids before `INSERT` (UUIDv7), or insert the row first and write the
//! sealed columns with an `UPDATE` in the same transaction. `examples/customers` shows both.
//!
//! ## Search
//!
//! [`BlindIndex`] computes the `BIGINT` to store beside a column and the values to look up by,
//! under every blind-index root the keyring holds (see the [`index`] module).
//!
//! ## Keys in the database
//!
//! [`keystore::TableStore`] keeps the keyring document (wrapped keys only) in a
//! `fieldcrypt_keys` table created by a migration this crate ships, and
//! [`keystore::refresh_installed`] re-installs it for transparent columns as a
//! [`ManagedKeyring`](fieldcrypt_kms::ManagedKeyring)'s cache expires.
//!
//! ## The `query!` macros
//!
//! The macros check column types against the database, which sees `bytea`/`BLOB`/`text`; name the
//! Rust type with an override: `SELECT email AS "email: Encrypted<String, Email>" FROM customers`,
//! and bind with `.bind`-style casts: `query!("INSERT .. VALUES ($1)", value as _)`.
//!
//! ## Errors
//!
//! A value that does not open makes sqlx return `Error::ColumnDecode` for that row only (read
//! rows one by one with `fetch` to skip it); [`column_error`] returns the typed fieldcrypt error.

#![forbid(unsafe_code)]

// With both version features on (`--all-features`), sqlx 0.8 is used: an application on 0.9
// sets `default-features = false, features = ["sqlx-09"]`.
#[cfg(not(any(feature = "sqlx-08", feature = "sqlx-09")))]
compile_error!("fieldcrypt-sqlx: enable a sqlx version: the feature `sqlx-08` or `sqlx-09`");

// Under `sqlx-09` the dependency is named `sqlx09`; this crate's code says `sqlx` either way.
#[cfg(all(feature = "sqlx-09", not(feature = "sqlx-08")))]
extern crate sqlx09 as sqlx;

mod bulk;
mod codec;
pub mod column;
pub mod compat;
mod encrypted;
mod error;
pub mod index;
mod installed;
pub mod keystore;
pub mod migrating;
pub mod rows;
mod sealed;

#[doc(hidden)]
pub use fieldcrypt as __fieldcrypt;

/// The core crate (types, keyrings, blind-index definitions), for what the prelude leaves out.
pub use fieldcrypt;
/// The key providers and keyring stores.
pub use fieldcrypt_kms;

/// One `use` for an application: `use fieldcrypt_sqlx::prelude::*;`. (The `column!` macro is
/// written `fieldcrypt_sqlx::column!`: a glob import of it would clash with `std::column!`.)
pub mod prelude {
    pub use crate::index::{BlindIndex, IndexLookup, IndexValue};
    pub use crate::installed::{install, install_local, installed};
    pub use crate::sealed::OptionalSealed;
    pub use crate::{Encrypted, Migrating, Sealed, column_error};
    pub use fieldcrypt::{IndexDefinition, Keyring, Normalizer, RowKey, Suite};
}

pub use bulk::bulk;
pub use column::{Column, Storage};
pub use encrypted::Encrypted;
pub use error::{Error, column_error};
pub use index::{BlindIndex, IndexLookup, IndexPair, IndexValue};
pub use installed::{install, install_local, install_shared, installed};
pub use keystore::TableStore;
pub use migrating::Migrating;
pub use sealed::{OptionalSealed, Sealed};
