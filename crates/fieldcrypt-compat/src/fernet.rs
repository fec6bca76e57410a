//! Fernet (<https://github.com/fernet/spec>): a token is the URL-safe base64 (with padding) of
//!
//! ```text
//! 0x80 || timestamp (u64, big-endian seconds) || IV (16) || AES-128-CBC-PKCS7(ciphertext) || HMAC-SHA256 (32)
//! ```
//!
//! keyed by a 32-byte key whose first half signs and second half encrypts. The HMAC covers
//! everything before it and is checked, in constant time, before anything is decrypted, so a
//! failure says nothing about the plaintext (no padding oracle).

use aws_lc_rs::cipher::{
    AES_128, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey,
    PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::{constant_time, hmac};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use zeroize::Zeroizing;

const VERSION: u8 = 0x80;
const HEADER_LEN: usize = 1 + 8 + 16;
const MAC_LEN: usize = 32;
/// How far in the future a token's timestamp may be before it is refused (pyca's rule).
pub const MAX_CLOCK_SKEW: u64 = 60;

/// Why a token does not decrypt. Only [`TokenError::Expired`] and [`TokenError::FromTheFuture`]
/// come after the signature was verified; the others mean the token is not one this key made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TokenError {
    /// Not base64, too short, not block-aligned, or not version 0x80.
    #[error("not a Fernet token")]
    Malformed,
    /// The HMAC does not verify: another key, or altered bytes.
    #[error("the Fernet token's signature does not verify (another key, or altered)")]
    BadSignature,
    /// Signed, but the padding is wrong (only a key whose halves were swapped gets here).
    #[error("the Fernet token's padding is invalid")]
    BadPadding,
    /// Older than the TTL asked for.
    #[error("the Fernet token has expired")]
    Expired,
    /// Its timestamp is more than a minute ahead of now.
    #[error("the Fernet token's timestamp is in the future")]
    FromTheFuture,
}

/// A Fernet key: 32 bytes, given as URL-safe base64 (44 characters with padding).
#[derive(Clone)]
pub struct FernetKey {
    signing: Zeroizing<[u8; 16]>,
    encryption: Zeroizing<[u8; 16]>,
}

impl core::fmt::Debug for FernetKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("FernetKey([REDACTED])")
    }
}

/// A key that is not 32 bytes of URL-safe base64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a Fernet key must be 32 bytes in URL-safe base64 (44 characters)")]
pub struct InvalidKey;

impl FernetKey {
    /// The key from its base64 text, as Django settings hold it.
    pub fn from_base64(text: &str) -> Result<Self, InvalidKey> {
        let bytes = Zeroizing::new(URL_SAFE.decode(text.trim()).map_err(|_| InvalidKey)?);
        let bytes: &[u8; 32] = bytes.as_slice().try_into().map_err(|_| InvalidKey)?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        let mut signing = Zeroizing::new([0_u8; 16]);
        let mut encryption = Zeroizing::new([0_u8; 16]);
        signing.copy_from_slice(&bytes[..16]);
        encryption.copy_from_slice(&bytes[16..]);
        Self {
            signing,
            encryption,
        }
    }

    fn mac(&self, data: &[u8]) -> hmac::Tag {
        hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, self.signing.as_slice()),
            data,
        )
    }
}

/// Decodes a token and checks everything but the signature.
fn parse(token: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
    let data = Zeroizing::new(URL_SAFE.decode(token).map_err(|_| TokenError::Malformed)?);
    // At least one cipher block; the ciphertext is whole blocks.
    if data.len() < HEADER_LEN + 16 + MAC_LEN
        || !(data.len() - HEADER_LEN - MAC_LEN).is_multiple_of(16)
        || data[0] != VERSION
    {
        return Err(TokenError::Malformed);
    }
    Ok(data)
}

fn timestamp_of(data: &[u8]) -> u64 {
    let mut ts = [0_u8; 8];
    ts.copy_from_slice(&data[1..9]);
    u64::from_be_bytes(ts)
}

/// One Fernet key.
#[derive(Debug, Clone)]
pub struct Fernet {
    key: FernetKey,
}

impl Fernet {
    /// A Fernet instance for `key`.
    pub fn new(key: FernetKey) -> Self {
        Self { key }
    }

    /// Decrypts `token` with no age limit (how the Django field libraries read their values).
    pub fn decrypt(&self, token: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        self.decrypt_at(token, None, 0)
    }

    /// Decrypts `token`; with `ttl`, also refuses a token older than `ttl` seconds at `now`
    /// (Unix seconds) or more than [`MAX_CLOCK_SKEW`] seconds ahead of it.
    pub fn decrypt_at(
        &self,
        token: &[u8],
        ttl: Option<u64>,
        now: u64,
    ) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        let data = parse(token)?;
        let (signed, mac) = data.split_at(data.len() - MAC_LEN);
        let expected = self.key.mac(signed);
        constant_time::verify_slices_are_equal(expected.as_ref(), mac)
            .map_err(|_| TokenError::BadSignature)?;
        let timestamp = timestamp_of(signed);
        if let Some(ttl) = ttl {
            if timestamp.saturating_add(ttl) < now {
                return Err(TokenError::Expired);
            }
            if now.saturating_add(MAX_CLOCK_SKEW) < timestamp {
                return Err(TokenError::FromTheFuture);
            }
        }
        let mut iv = [0_u8; 16];
        iv.copy_from_slice(&signed[9..HEADER_LEN]);
        let key = UnboundCipherKey::new(&AES_128, self.key.encryption.as_slice())
            .and_then(PaddedBlockDecryptingKey::cbc_pkcs7)
            .map_err(|_| TokenError::BadPadding)?;
        let mut buffer = Zeroizing::new(signed[HEADER_LEN..].to_vec());
        let plaintext = key
            .decrypt(buffer.as_mut_slice(), DecryptionContext::Iv128(iv.into()))
            .map_err(|_| TokenError::BadPadding)?;
        Ok(Zeroizing::new(plaintext.to_vec()))
    }

    /// A token for `plaintext` made at `timestamp` with `iv`: what the spec's `generate`
    /// vectors check. fieldcrypt never writes Fernet for data; this exists for tests and
    /// fixtures. Reusing an IV under one key is unsafe; draw it at random.
    pub fn encrypt_with(&self, plaintext: &[u8], iv: [u8; 16], timestamp: u64) -> String {
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + 16 + MAC_LEN);
        out.push(VERSION);
        out.extend_from_slice(&timestamp.to_be_bytes());
        out.extend_from_slice(&iv);
        let mut body = Zeroizing::new(plaintext.to_vec());
        #[allow(clippy::expect_used)] // A 16-byte key and a 16-byte IV are always accepted.
        let key = UnboundCipherKey::new(&AES_128, self.key.encryption.as_slice())
            .and_then(PaddedBlockEncryptingKey::cbc_pkcs7)
            .expect("AES-128 key of 16 bytes");
        #[allow(clippy::expect_used)]
        key.less_safe_encrypt(&mut *body, EncryptionContext::Iv128(iv.into()))
            .expect("CBC with a 16-byte IV");
        out.extend_from_slice(&body);
        let mac = self.key.mac(&out);
        out.extend_from_slice(mac.as_ref());
        URL_SAFE.encode(out)
    }

    /// The timestamp a token claims, without verifying it.
    pub fn unverified_timestamp(token: &[u8]) -> Result<u64, TokenError> {
        parse(token).map(|data| timestamp_of(&data))
    }
}

/// Several keys, newest first (Django's `FIELD_ENCRYPTION_KEY` list, `FERNET_KEYS`): a token
/// decrypts under the first key whose signature verifies.
#[derive(Debug, Clone)]
pub struct MultiFernet {
    keys: Vec<Fernet>,
}

impl MultiFernet {
    /// The keys, in the order they are tried. At least one.
    pub fn new(keys: Vec<FernetKey>) -> Option<Self> {
        (!keys.is_empty()).then(|| Self {
            keys: keys.into_iter().map(Fernet::new).collect(),
        })
    }

    /// Decrypts with the first key that verifies; with no age limit.
    pub fn decrypt(&self, token: &[u8]) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        self.decrypt_at(token, None, 0)
    }

    /// As [`Fernet::decrypt_at`], trying each key. A malformed token fails at once, a token a
    /// key signed gets that key's verdict (expired, say), and a token no key signed fails with
    /// [`TokenError::BadSignature`].
    pub fn decrypt_at(
        &self,
        token: &[u8],
        ttl: Option<u64>,
        now: u64,
    ) -> Result<Zeroizing<Vec<u8>>, TokenError> {
        for key in &self.keys {
            match key.decrypt_at(token, ttl, now) {
                // Another key may have signed it.
                Err(TokenError::BadSignature) => {}
                // Malformed for every key; or signed by this one, so its verdict stands.
                other => return other,
            }
        }
        Err(TokenError::BadSignature)
    }
}
