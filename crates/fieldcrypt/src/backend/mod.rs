//! The crypto backend: the handful of primitives fieldcrypt needs, behind small traits.
//!
//! Everything above this module speaks only these traits, so a second backend (for example a
//! pure-Rust RustCrypto one) is a new file here and a cargo feature, not a change to the envelope
//! code. aws-lc-rs does AES-GCM, HMAC and HKDF; RustCrypto's `aes` does the XAES derivation's few
//! blocks, where it is faster (docs/PERFORMANCE.md).

#[cfg(feature = "aws-lc")]
mod aws_lc;
mod rust_crypto;

#[cfg(not(feature = "aws-lc"))]
compile_error!("fieldcrypt needs a crypto backend: enable the `aws-lc` feature");

/// AES block size in bytes.
pub(crate) const BLOCK_LEN: usize = 16;
/// AES-256-GCM nonce length in bytes.
pub(crate) const GCM_NONCE_LEN: usize = 12;
/// AES-256-GCM tag length in bytes.
pub(crate) const GCM_TAG_LEN: usize = 16;

/// AES-256 with a prepared key schedule, used one block at a time (XAES key derivation).
pub(crate) trait BlockCipher: Sized {
    fn new(key: &[u8; 32]) -> Self;
    /// Encrypts whole blocks in place.
    fn encrypt_blocks(&self, blocks: &mut [[u8; BLOCK_LEN]]);
}

/// AES-256-GCM with a prepared key.
pub(crate) trait Gcm: Sized {
    fn new(key: &[u8; 32]) -> Self;
    /// Encrypts `in_out` in place and returns the tag.
    fn seal_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> [u8; GCM_TAG_LEN];
    /// Decrypts `in_out` (ciphertext followed by the tag) in place; returns the plaintext length.
    fn open_in_place(
        &self,
        nonce: &[u8; GCM_NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
    ) -> Result<usize, Unspecified>;
}

/// HMAC-SHA-256 with a prepared key.
pub(crate) trait HmacSha256: Sized {
    fn new(key: &[u8]) -> Self;
    /// The MAC of the concatenation of `parts`.
    fn sign(&self, parts: &[&[u8]]) -> [u8; 32];
}

/// A failure that says nothing more (an authentication failure, on purpose).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unspecified;

#[cfg(feature = "aws-lc")]
pub(crate) use aws_lc::{Aes256Gcm, Hmac, ct_eq, hkdf_sha256};
pub(crate) use rust_crypto::Aes256;
