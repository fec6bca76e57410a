//! django-cryptography 1.1 and its Django 5 forks (shared/testdata/django/FORMATS.md section 4):
//! a binary column holding
//!
//! ```text
//! 0x80 || timestamp (u64 BE) || IV (16) || AES-256-CBC-PKCS7(pickle) || HMAC-SHA256 (32)
//! ```
//!
//! with no base64. The AES key is PBKDF2-HMAC-SHA256 of `CRYPTOGRAPHY_KEY` (default
//! `SECRET_KEY`) over `CRYPTOGRAPHY_SALT` (default `django-cryptography`), 30,000 iterations;
//! the HMAC key is the raw UTF-8 of `SECRET_KEY`, not derived, even when `CRYPTOGRAPHY_KEY` is
//! set. The plaintext is a pickle of the field's Python value, read by the restricted
//! [`unpickle`]. The HMAC is checked, in constant time, before anything
//! is decrypted or unpickled.

use core::num::NonZeroU32;

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptionContext, PaddedBlockDecryptingKey, UnboundCipherKey,
};
use aws_lc_rs::{constant_time, hmac, pbkdf2};
use zeroize::Zeroizing;

use crate::pickle::{PickleError, PyValue, unpickle};

const HEADER_LEN: usize = 1 + 8 + 16;
const MAC_LEN: usize = 32;
/// The library's PBKDF2 iteration count.
pub const ITERATIONS: u32 = 30_000;
/// `CRYPTOGRAPHY_SALT`'s default.
pub const DEFAULT_SALT: &str = "django-cryptography";

/// Why a stored value does not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptographyError {
    /// A per-field key that is not 16, 24 or 32 bytes.
    #[error("a django-cryptography field key is 16, 24 or 32 bytes")]
    InvalidKey,
    /// Too short, not block-aligned, or not version 0x80.
    #[error("not a django-cryptography value")]
    Malformed,
    /// The HMAC does not verify: another `SECRET_KEY`, or altered bytes.
    #[error(
        "the django-cryptography value's signature does not verify (another SECRET_KEY, or altered)"
    )]
    BadSignature,
    /// Signed, but the AES key does not decrypt it (another `CRYPTOGRAPHY_KEY` or salt).
    #[error(
        "the django-cryptography value does not decrypt (another CRYPTOGRAPHY_KEY or CRYPTOGRAPHY_SALT)"
    )]
    BadPadding,
    /// The decrypted pickle is refused.
    #[error(transparent)]
    Pickle(#[from] PickleError),
}

/// The keys of one django-cryptography field.
pub struct CryptographyKeys {
    aes: Zeroizing<Vec<u8>>,
    hmac: hmac::Key,
}

impl core::fmt::Debug for CryptographyKeys {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CryptographyKeys([REDACTED])")
    }
}

impl CryptographyKeys {
    /// The keys from Django settings: `SECRET_KEY`, `CRYPTOGRAPHY_KEY` (default: `SECRET_KEY`)
    /// and `CRYPTOGRAPHY_SALT` (default [`DEFAULT_SALT`]).
    pub fn from_settings(secret_key: &str, cryptography_key: Option<&str>, salt: &str) -> Self {
        const N: NonZeroU32 = NonZeroU32::MIN.saturating_add(ITERATIONS - 1);
        let mut aes = Zeroizing::new(vec![0_u8; 32]);
        pbkdf2::derive(
            pbkdf2::PBKDF2_HMAC_SHA256,
            N,
            salt.as_bytes(),
            cryptography_key.unwrap_or(secret_key).as_bytes(),
            &mut aes,
        );
        Self {
            aes,
            hmac: hmac::Key::new(hmac::HMAC_SHA256, secret_key.as_bytes()),
        }
    }

    /// The keys of a field declared with `encrypt(..., key=b"...")`: those bytes are the AES key
    /// (AES-128, -192 or -256 by length); the HMAC key is still `SECRET_KEY`.
    pub fn with_field_key(secret_key: &str, key: &[u8]) -> Result<Self, CryptographyError> {
        if ![16, 24, 32].contains(&key.len()) {
            return Err(CryptographyError::InvalidKey);
        }
        Ok(Self {
            aes: Zeroizing::new(key.to_vec()),
            hmac: hmac::Key::new(hmac::HMAC_SHA256, secret_key.as_bytes()),
        })
    }

    /// Verifies and decrypts a stored value to its pickle bytes.
    pub fn decrypt_pickle(&self, stored: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptographyError> {
        if stored.len() < HEADER_LEN + 16 + MAC_LEN
            || !(stored.len() - HEADER_LEN - MAC_LEN).is_multiple_of(16)
            || stored[0] != 0x80
        {
            return Err(CryptographyError::Malformed);
        }
        let (signed, mac) = stored.split_at(stored.len() - MAC_LEN);
        constant_time::verify_slices_are_equal(hmac::sign(&self.hmac, signed).as_ref(), mac)
            .map_err(|_| CryptographyError::BadSignature)?;
        let mut iv = [0_u8; 16];
        iv.copy_from_slice(&signed[9..HEADER_LEN]);
        let algorithm = match self.aes.len() {
            16 => &AES_128,
            24 => &AES_192,
            _ => &AES_256,
        };
        let key = UnboundCipherKey::new(algorithm, &self.aes)
            .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
            .map_err(|_| CryptographyError::InvalidKey)?;
        let mut buffer = Zeroizing::new(signed[HEADER_LEN..].to_vec());
        let plaintext = key
            .decrypt(buffer.as_mut_slice(), DecryptionContext::Iv128(iv.into()))
            .map_err(|_| CryptographyError::BadPadding)?;
        Ok(Zeroizing::new(plaintext.to_vec()))
    }

    /// Verifies, decrypts and unpickles a stored value.
    pub fn decrypt(&self, stored: &[u8]) -> Result<PyValue, CryptographyError> {
        Ok(unpickle(&self.decrypt_pickle(stored)?)?)
    }
}
