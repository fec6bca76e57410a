//! cryptbase 1.0.0 (shared/testdata/django/FORMATS.md section 5): a text column holding
//! `<std-base64(ciphertext)>@<std-base64(IV)>`, AES-256-CTR with the 16-byte IV as the initial
//! big-endian counter, under a per-field 64-hex-digit key. There is no authentication: a
//! modified ciphertext decrypts to modified text without any error, which is one more reason to
//! move such columns to fieldcrypt. What can be checked is checked: the layout, the IV length,
//! and that the plaintext is UTF-8 (the library stores `str` only).

use aws_lc_rs::cipher::{AES_256, DecryptingKey, DecryptionContext, UnboundCipherKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

/// Why a stored value does not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptbaseError {
    /// The key is not 64 hex digits.
    #[error("a cryptbase key is 64 hex digits (32 bytes)")]
    InvalidKey,
    /// Not `base64@base64` with a 16-byte IV.
    #[error("not a cryptbase value (expected <base64 ciphertext>@<base64 16-byte IV>)")]
    Malformed,
    /// The decrypted bytes are not UTF-8: another key, or an altered value.
    #[error("the cryptbase value does not decrypt to text (another key, or altered)")]
    NotText,
}

/// One cryptbase field key.
pub struct CryptbaseKey(Zeroizing<[u8; 32]>);

impl core::fmt::Debug for CryptbaseKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("CryptbaseKey([REDACTED])")
    }
}

impl CryptbaseKey {
    /// The key as the field's `key=` holds it: 64 hex digits (whitespace between them is
    /// allowed, as Python's `bytearray.fromhex` allows it).
    pub fn from_hex(text: &str) -> Result<Self, CryptbaseError> {
        let digits: Zeroizing<Vec<u8>> =
            Zeroizing::new(text.bytes().filter(|b| !b.is_ascii_whitespace()).collect());
        let mut key = Zeroizing::new([0_u8; 32]);
        hex::decode_to_slice(digits.as_slice(), key.as_mut_slice())
            .map_err(|_| CryptbaseError::InvalidKey)?;
        Ok(Self(key))
    }

    /// Decrypts a stored value to its text.
    pub fn decrypt(&self, stored: &str) -> Result<Zeroizing<String>, CryptbaseError> {
        let (ciphertext, iv) = stored.split_once('@').ok_or(CryptbaseError::Malformed)?;
        let iv: [u8; 16] = STANDARD
            .decode(iv)
            .ok()
            .and_then(|iv| iv.try_into().ok())
            .ok_or(CryptbaseError::Malformed)?;
        let mut buffer = Zeroizing::new(
            STANDARD
                .decode(ciphertext)
                .map_err(|_| CryptbaseError::Malformed)?,
        );
        let key = UnboundCipherKey::new(&AES_256, self.0.as_slice())
            .and_then(DecryptingKey::ctr)
            .map_err(|_| CryptbaseError::InvalidKey)?;
        let plaintext = key
            .decrypt(buffer.as_mut_slice(), DecryptionContext::Iv128(iv.into()))
            .map_err(|_| CryptbaseError::Malformed)?;
        let text = std::str::from_utf8(plaintext).map_err(|_| CryptbaseError::NotText)?;
        Ok(Zeroizing::new(text.to_owned()))
    }
}
