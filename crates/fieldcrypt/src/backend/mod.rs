//! The crypto backend: the handful of primitives fieldcrypt needs, behind small traits.
//!
//! Everything above this module speaks only these traits, so a second backend (for example a
//! pure-Rust RustCrypto one) is a new file here and a cargo feature, not a change to the envelope
//! code. The one backend today is aws-lc-rs.

#[cfg(feature = "aws-lc")]
mod aws_lc;

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
    /// Encrypts whole blocks in place; `blocks.len()` is a multiple of [`BLOCK_LEN`].
    fn encrypt_blocks(&self, blocks: &mut [u8]);
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
pub(crate) use aws_lc::{Aes256, Aes256Gcm, Hmac, fill_random, hkdf_sha256};
