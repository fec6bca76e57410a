//! # fieldcrypt-server
//!
//! fieldcrypt as an HTTPS service for applications in any language: `seal`, `open`, `mask`
//! (open-masked) and `blind-index` over batches, with
//!
//! - [`auth`]: bearer tokens (kept as hashes) and client certificates;
//! - [`policy`]: roles, operations, `table.column` patterns and purposes (deny wins, default
//!   deny), masking profiles, budgets;
//! - [`limits`]: decrypt budgets and request rates, shared by replicas through PostgreSQL;
//! - [`audit`]: the decrypt trail, written before any plaintext leaves (fail closed), in the
//!   format of `fieldcrypt-audit` (hash chain per replica, Ed25519 checkpoints);
//! - [`tls`] and [`serve`]: rustls with reload, deadlines, connection caps, graceful shutdown;
//! - [`http`]: the router, security headers, OpenAPI, health, readiness and metrics;
//! - [`admin`]: the admin page.
//!
//! The cryptography is the `fieldcrypt` crate's and the keys come from `fieldcrypt-kms`'s
//! providers: the server is a thin layer that decides who may use them and records that they
//! did. docs/SERVER.md is the reference.

#![forbid(unsafe_code)]
// Handlers return a ready `Response` as their error (axum's idiom); its size is not a cost here.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod api;
pub mod audit;
pub mod auth;
pub mod config;
pub mod http;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod policy;
pub mod serve;
pub mod state;
pub mod tls;
pub mod values;
