//! The keys of the Fernet-based Django field libraries, derived from Django settings as each
//! library derives them (shared/testdata/django/FORMATS.md sections 1 to 3). Each returns the
//! key list in the order the library tries them; [`MultiFernet`](crate::MultiFernet) decrypts.

use core::num::NonZeroU32;

use aws_lc_rs::{hkdf, pbkdf2};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use zeroize::Zeroizing;

use crate::fernet::{FernetKey, InvalidKey};

/// django-encrypted-model-fields: `FIELD_ENCRYPTION_KEY`, one Fernet key or a list of them,
/// used as given (no derivation). A single string holding commas is not a list to the library
/// (it reads the first key only); pass the list's entries.
pub fn encrypted_model_fields_keys(
    field_encryption_key: &[&str],
) -> Result<Vec<FernetKey>, InvalidKey> {
    field_encryption_key
        .iter()
        .map(|k| FernetKey::from_base64(k))
        .collect()
}

/// django-fernet-fields: each entry of `FERNET_KEYS` (default `[SECRET_KEY]`) through
/// HKDF-SHA256 with salt `django-fernet-fields-hkdf-salt` and info `django-fernet-fields`, when
/// `FERNET_USE_HKDF` is true (the default); otherwise the entries are Fernet keys already.
pub fn fernet_fields_keys(
    fernet_keys: &[&str],
    use_hkdf: bool,
) -> Result<Vec<FernetKey>, InvalidKey> {
    fernet_keys
        .iter()
        .map(|k| {
            if !use_hkdf {
                return FernetKey::from_base64(k);
            }
            let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, b"django-fernet-fields-hkdf-salt")
                .extract(k.as_bytes());
            let mut key = Zeroizing::new([0_u8; 32]);
            prk.expand(&[b"django-fernet-fields"], hkdf::HKDF_SHA256)
                .and_then(|okm| okm.fill(key.as_mut_slice()))
                .map_err(|_| InvalidKey)?;
            Ok(FernetKey::from_bytes(&key))
        })
        .collect()
}

/// django-fernet-encrypted-fields: for each secret of `[SECRET_KEY] + SECRET_KEY_FALLBACKS`, for
/// each salt of `SALT_KEY`, PBKDF2-HMAC-SHA256 (100,000 iterations, 32 bytes); the first
/// (SECRET_KEY with the first salt) is the key new values were written with.
pub fn fernet_encrypted_fields_keys(secrets: &[&str], salts: &[&str]) -> Vec<FernetKey> {
    const ITERATIONS: NonZeroU32 = NonZeroU32::MIN.saturating_add(99_999);
    let mut keys = Vec::with_capacity(secrets.len() * salts.len());
    for secret in secrets {
        for salt in salts {
            let mut raw = Zeroizing::new([0_u8; 32]);
            pbkdf2::derive(
                pbkdf2::PBKDF2_HMAC_SHA256,
                ITERATIONS,
                salt.as_bytes(),
                secret.as_bytes(),
                raw.as_mut_slice(),
            );
            // The library base64-encodes the derived bytes into a Fernet key; decoding gives the
            // same 32 bytes back.
            let text = Zeroizing::new(URL_SAFE.encode(raw.as_slice()));
            if let Ok(key) = FernetKey::from_base64(&text) {
                keys.push(key);
            }
        }
    }
    keys
}
