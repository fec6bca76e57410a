//! The wrapping shared by the providers that hold their key in this process (master-key file,
//! environment variable, passphrase): KC-XAES-256-GCM under the provider's key with the
//! [`WrapContext`] as associated data (FORMAT.md section 10.5), and the key's fingerprint
//! recorded so that a wrong key is told apart from a damaged document.

use fieldcrypt::{KeyWrapper as _, LocalKek, SecretKey};

use crate::error::KmsError;
use crate::provider::{Settings, WrapContext};

/// The setting that records the provider key's fingerprint.
pub(crate) const KEY_FINGERPRINT_SETTING: &str = "key_fingerprint";

/// A provider key held in memory.
pub(crate) struct HeldKey {
    kek: LocalKek,
}

impl core::fmt::Debug for HeldKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.kek.fmt(f)
    }
}

impl HeldKey {
    pub(crate) fn new(key: &SecretKey) -> Self {
        Self {
            kek: LocalKek::new(key),
        }
    }

    pub(crate) fn fingerprint(&self) -> String {
        self.kek.fingerprint()
    }

    pub(crate) fn record(&self, settings: &mut Settings) {
        settings.insert(
            KEY_FINGERPRINT_SETTING.to_owned(),
            serde_json::Value::String(self.fingerprint()),
        );
    }

    pub(crate) fn wrap(&self, context: &WrapContext, key: &SecretKey) -> Result<Vec<u8>, KmsError> {
        Ok(self.kek.wrap(&context.aad(), key)?)
    }

    pub(crate) fn unwrap(
        &self,
        provider: &'static str,
        context: &WrapContext,
        wrapped: &[u8],
    ) -> Result<SecretKey, KmsError> {
        self.kek
            .unwrap(&context.aad(), wrapped)
            .map_err(|_| KmsError::CannotUnwrap {
                provider,
                detail: "the key-encryption key does not authenticate (altered, or wrapped for another keyring)".to_owned(),
            })
    }
}
