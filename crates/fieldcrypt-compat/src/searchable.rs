//! django-searchable-encrypted-fields 0.2.1 (shared/testdata/django/FORMATS.md section 6): a
//! binary column holding `nonce (16) || tag (16) || ciphertext`, AES-256-GCM with pycryptodome's
//! default 16-byte nonce (J0 derived through GHASH, which most AES-GCM APIs, aws-lc-rs's
//! included, do not offer; RustCrypto's `aes-gcm` does), no associated data, under the first of
//! `FIELD_ENCRYPTION_KEYS` that authenticates it. The plaintext is the `str()` of the value the
//! database backend was given, as for django-fernet-fields.
//!
//! Its `SearchField` column is `"xx"` + hex SHA-256 of `str(value) + hash_key`: a plain hash
//! (not an HMAC, not keyed by the encryption keys), with the `hash_key` written into the app's
//! migrations. [`search_hash`] computes it, so a lookup can keep using that column while the
//! data moves to fieldcrypt, whose blind indexes replace it.

use aes_gcm::aead::AeadInOut as _;
use aes_gcm::aead::KeyInit as _;
use aes_gcm::aead::consts::U16;
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, Nonce, Tag};
use aws_lc_rs::digest;
use zeroize::Zeroizing;

type Aes256Gcm16 = AesGcm<Aes256, U16>;

/// Why a stored value does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SearchableError {
    /// A key that is not 64 hex digits.
    #[error("a FIELD_ENCRYPTION_KEYS entry is 64 hex digits (32 bytes)")]
    InvalidKey,
    /// No key given.
    #[error("FIELD_ENCRYPTION_KEYS is empty")]
    NoKeys,
    /// Shorter than nonce and tag.
    #[error("not a django-searchable-encrypted-fields value (shorter than nonce and tag)")]
    Malformed,
    /// No key authenticates it: another key list, or altered bytes.
    #[error(
        "the value does not authenticate under any FIELD_ENCRYPTION_KEYS entry (another key, or altered)"
    )]
    BadTag,
    /// Authenticated, but the plaintext is not UTF-8 (the library stores text only).
    #[error("the value's plaintext is not text")]
    NotText,
}

/// `FIELD_ENCRYPTION_KEYS`, in the order they are tried (the first one encrypts).
pub struct SearchableKeys {
    keys: Vec<Aes256Gcm16>,
}

impl core::fmt::Debug for SearchableKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SearchableKeys({} keys, [REDACTED])", self.keys.len())
    }
}

impl SearchableKeys {
    /// The keys from their hex text.
    pub fn from_hex(keys: &[&str]) -> Result<Self, SearchableError> {
        if keys.is_empty() {
            return Err(SearchableError::NoKeys);
        }
        let keys = keys
            .iter()
            .map(|k| {
                let raw =
                    Zeroizing::new(hex::decode(k.trim()).map_err(|_| SearchableError::InvalidKey)?);
                Aes256Gcm16::new_from_slice(&raw).map_err(|_| SearchableError::InvalidKey)
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { keys })
    }

    /// Decrypts a stored value to its text.
    pub fn decrypt(&self, stored: &[u8]) -> Result<Zeroizing<String>, SearchableError> {
        if stored.len() < 32 {
            return Err(SearchableError::Malformed);
        }
        let nonce =
            Nonce::<U16>::try_from(&stored[..16]).map_err(|_| SearchableError::Malformed)?;
        let tag = Tag::<U16>::try_from(&stored[16..32]).map_err(|_| SearchableError::Malformed)?;
        for key in &self.keys {
            let mut buffer = Zeroizing::new(stored[32..].to_vec());
            if key
                .decrypt_inout_detached(&nonce, b"", buffer.as_mut_slice().into(), &tag)
                .is_ok()
            {
                let text = String::from_utf8(core::mem::take(&mut *buffer))
                    .map_err(|_| SearchableError::NotText)?;
                return Ok(Zeroizing::new(text));
            }
        }
        Err(SearchableError::BadTag)
    }
}

/// The `SearchField` value of `text` under `hash_key`: `"xx"` + lowercase hex of
/// SHA-256(`text` + `hash_key`). Case-sensitive, like the library.
pub fn search_hash(text: &str, hash_key: &str) -> String {
    let mut context = digest::Context::new(&digest::SHA256);
    context.update(text.as_bytes());
    context.update(hash_key.as_bytes());
    let digest = context.finish();
    format!("xx{}", hex::encode(digest.as_ref()))
}
