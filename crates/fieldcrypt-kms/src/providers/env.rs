//! A key-encryption key in an environment variable: base64url (unpadded) of 32 random bytes.
//!
//! Convenient for containers whose orchestrator injects secrets as variables. The variable is
//! readable through `/proc/<pid>/environ` by the same user and is inherited by child processes,
//! so `fieldcrypt keyring check` warns about it for long-running processes; prefer a KMS.

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::SecretKey;
use zeroize::Zeroize as _;

use super::local_kek::HeldKey;
use crate::error::KmsError;
use crate::provider::{KeyProvider, Settings, WrapContext};

/// The provider name recorded in keyring documents.
pub const PROVIDER: &str = "env";
/// The setting that records the variable's name.
pub const VARIABLE_SETTING: &str = "variable";
/// The variable read when none is named (the CLI's default too). Not `FIELDCRYPT_MASTER_KEY`,
/// which names the local master-key *file*.
pub const DEFAULT_VARIABLE: &str = "FIELDCRYPT_KEK";

/// A KEK read from an environment variable.
#[derive(Debug)]
pub struct EnvProvider {
    variable: String,
    key: HeldKey,
}

impl EnvProvider {
    /// Reads the key from `variable`.
    pub fn from_env(variable: &str) -> Result<Self, KmsError> {
        let mut text = std::env::var(variable).map_err(|_| KmsError::Config {
            provider: PROVIDER,
            reason: format!(
                "environment variable {variable} is not set (or not UTF-8); generate one with `fieldcrypt keyring new-master-key`"
            ),
        })?;
        let provider = Self::from_text(variable, &text);
        text.zeroize();
        provider
    }

    /// The provider for `variable` whose value the caller has read (`text`).
    pub fn from_text(variable: &str, text: &str) -> Result<Self, KmsError> {
        Ok(Self {
            variable: variable.to_owned(),
            key: HeldKey::new(&Self::parse(variable, text)?),
        })
    }

    /// A fresh random key in the variable's format (to print once, for the operator to store).
    pub fn new_key_text() -> Result<zeroize::Zeroizing<String>, KmsError> {
        let key = SecretKey::generate()?;
        Ok(zeroize::Zeroizing::new(
            URL_SAFE_NO_PAD.encode(key.expose()),
        ))
    }

    fn parse(variable: &str, text: &str) -> Result<SecretKey, KmsError> {
        let bad = || KmsError::Config {
            provider: PROVIDER,
            reason: format!(
                "environment variable {variable} must hold 32 bytes in unpadded base64url (43 characters)"
            ),
        };
        let mut bytes = URL_SAFE_NO_PAD.decode(text.trim()).map_err(|_| bad())?;
        let key = SecretKey::from_slice(&bytes).map_err(|_| bad());
        bytes.zeroize();
        key
    }

    /// The variable's name.
    pub fn variable(&self) -> &str {
        &self.variable
    }
}

#[async_trait]
impl KeyProvider for EnvProvider {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn settings(&self) -> Settings {
        let mut s = Settings::new();
        s.insert(
            VARIABLE_SETTING.to_owned(),
            serde_json::Value::String(self.variable.clone()),
        );
        self.key.record(&mut s);
        s
    }

    async fn wrap(&self, context: &WrapContext, key: &SecretKey) -> Result<Vec<u8>, KmsError> {
        self.key.wrap(context, key)
    }

    async fn unwrap(&self, context: &WrapContext, wrapped: &[u8]) -> Result<SecretKey, KmsError> {
        self.key.unwrap(PROVIDER, context, wrapped)
    }
}
