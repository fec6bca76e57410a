//! Providers that hold their key in this process. AWS KMS and Vault/OpenBao Transit, which keep
//! the key in a service, are in their own crates.

#[cfg(feature = "env")]
pub mod env;
pub(crate) mod local_kek;
#[cfg(feature = "passphrase")]
pub mod passphrase;
