//! # fieldcrypt-compat
//!
//! Readers for the formats other encryption libraries left in databases, so that a team moving
//! from Django (or running both on one database) can read those values and re-seal them in
//! fieldcrypt's format. Decrypt only: nothing here writes the old formats, except what the
//! published test vectors need.
//!
//! - [`reader`]: one reader per library and field ([`LegacyReader`]), keys from Django
//!   settings, the value typed as Django's ORM reads it; [`ReadThrough`] opens either that or a
//!   fieldcrypt envelope.
//! - The formats: [`fernet`] (Fernet and MultiFernet, the base of django-encrypted-model-fields,
//!   django-fernet-fields and django-fernet-encrypted-fields, whose key derivations are in
//!   [`django`]); [`django_cryptography`] (pickles, read by the restricted [`pickle`] reader);
//!   [`cryptbase`] (AES-256-CTR, unauthenticated); [`searchable`]
//!   (django-searchable-encrypted-fields: AES-GCM with 16-byte nonces, and its search hash).
//! - [`value`]: the stored text or pickled object as a typed value.
//! - [`password`]: Django's password hashes (PBKDF2 and Argon2): verify, upgrade, produce.

#![forbid(unsafe_code)]

pub mod cryptbase;
pub mod django;
pub mod django_cryptography;
pub mod fernet;
pub mod password;
pub mod pickle;
pub mod reader;
pub mod searchable;
pub mod value;

pub use fernet::{Fernet, FernetKey, InvalidKey, MultiFernet, TokenError};
pub use reader::{
    CompatError, DjangoSettings, Flavor, LegacyReader, ReadOptions, ReadThrough, ReadThroughError,
    Source,
};
pub use value::{FieldKind, NaiveZone};
