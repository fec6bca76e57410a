//! # fieldcrypt-compat
//!
//! Readers for the formats other encryption libraries left in databases, so that a team moving
//! from Django (or running both on one database) can read those values and re-seal them in
//! fieldcrypt's format. Decrypt only: nothing here writes the old formats, except what the
//! published test vectors need.
//!
//! - [`fernet`]: Fernet tokens and MultiFernet key lists (the spec at
//!   <https://github.com/fernet/spec>), the base of django-encrypted-model-fields,
//!   django-fernet-fields and django-fernet-encrypted-fields.
//! - [`django`]: how those three libraries turn Django settings into Fernet keys.
//! - [`cryptbase`]: cryptbase's `base64@base64` AES-256-CTR values (unauthenticated).

#![forbid(unsafe_code)]

pub mod cryptbase;
pub mod django;
pub mod fernet;

pub use fernet::{Fernet, FernetKey, InvalidKey, MultiFernet, TokenError};
