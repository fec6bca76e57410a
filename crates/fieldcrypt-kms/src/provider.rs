//! The [`KeyProvider`] trait: where a keyring's key-encryption key (KEK) lives.
//!
//! fieldcrypt keeps two levels (FORMAT.md section 10.5). Each keyring document has its own random
//! 32-byte KEK, which wraps the data keys and index roots locally and keys the document MAC. A
//! provider wraps only that KEK: a master-key file, an environment variable, a passphrase, AWS
//! KMS or a Vault/OpenBao Transit key. Opening a keyring therefore costs one provider call
//! however many data keys it holds, and rotating the provider's key rewraps one value.

use std::collections::BTreeMap;

use async_trait::async_trait;
use fieldcrypt::{KeyringId, SecretKey};

use crate::error::KmsError;

/// Non-secret provider settings recorded in the keyring document (and covered by its MAC). They
/// are a record to compare with, never a configuration to follow: see [`KeyProvider::settings`].
pub type Settings = BTreeMap<String, serde_json::Value>;

/// The document setting that holds the provider-wrapped KEK, in unpadded base64url.
pub const WRAPPED_KEK_SETTING: &str = "wrapped_kek";

/// What a wrapped KEK is bound to: the keyring it belongs to. Providers bind it as associated
/// data (local AEAD), as the KMS encryption context, or as Transit associated data, so a wrapped
/// KEK copied into another keyring's document does not unwrap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WrapContext {
    /// The keyring whose KEK is wrapped.
    pub keyring: KeyringId,
}

impl WrapContext {
    /// Label at the start of [`Self::aad`].
    pub const LABEL: &'static [u8] = b"fieldcrypt-kek/1";
    /// The encryption-context key that names the keyring (AWS KMS).
    pub const CONTEXT_KEY: &'static str = "fieldcrypt-keyring";

    /// The context for `keyring`.
    pub fn new(keyring: KeyringId) -> Self {
        Self { keyring }
    }

    /// Associated data for providers with an AEAD: `"fieldcrypt-kek/1" || keyring id (16)`.
    pub fn aad(&self) -> Vec<u8> {
        let mut aad = Self::LABEL.to_vec();
        aad.extend_from_slice(&self.keyring.0);
        aad
    }

    /// Key-value form for providers with an encryption context: `{"fieldcrypt-keyring": hex id}`.
    pub fn pairs(&self) -> Vec<(String, String)> {
        vec![(Self::CONTEXT_KEY.to_owned(), self.keyring.to_string())]
    }
}

/// Wraps and unwraps keyring KEKs under a key that the provider holds.
///
/// Implementations must fail closed: an unwrap that does not authenticate (wrong key, wrong
/// context, altered bytes) is an error, never a wrong key.
#[async_trait]
pub trait KeyProvider: Send + Sync + core::fmt::Debug {
    /// The name recorded in documents: `local`, `env`, `passphrase`, `aws-kms`, `vault`.
    fn name(&self) -> &'static str;

    /// The settings this provider was configured with (by the application, never from a
    /// document), recorded in documents it wraps and compared with them when one is opened.
    /// Never secret.
    fn settings(&self) -> Settings;

    /// Settings recorded for people, not compared when a document is opened (the local
    /// provider's `path`: the configured file is used, and its fingerprint is compared).
    /// Every other setting must equal the document's copy ([`crate::unlocked::check_settings`]).
    fn informational_settings(&self) -> &'static [&'static str] {
        &[]
    }

    /// Whether everything sealed under keyrings this provider wraps must use a key-committing
    /// suite (keys derived from something guessable, such as a passphrase).
    fn requires_committing_suite(&self) -> bool {
        false
    }

    /// Wraps `key` for `context`.
    async fn wrap(&self, context: &WrapContext, key: &SecretKey) -> Result<Vec<u8>, KmsError>;

    /// Unwraps what [`Self::wrap`] returned for the same context.
    async fn unwrap(&self, context: &WrapContext, wrapped: &[u8]) -> Result<SecretKey, KmsError>;

    /// Re-encrypts `wrapped` under the newest version of the provider's key, keeping the KEK
    /// (KMS `ReEncrypt` inside KMS; Transit decrypt and encrypt): after the provider's key is
    /// rotated, its old versions can be retired. `None`: the provider has no key versions;
    /// [`UnlockedKeyring::rewrap`](crate::UnlockedKeyring::rewrap) works everywhere.
    async fn reencrypt(
        &self,
        _context: &WrapContext,
        _wrapped: &[u8],
    ) -> Result<Option<Vec<u8>>, KmsError> {
        Ok(None)
    }

    /// A fresh random key and its wrapping. Services that generate data keys themselves (KMS
    /// `GenerateDataKey`, Transit `datakey`) override this to do it in one call.
    async fn generate(&self, context: &WrapContext) -> Result<(SecretKey, Vec<u8>), KmsError> {
        let key = SecretKey::generate()?;
        let wrapped = self.wrap(context, &key).await?;
        Ok((key, wrapped))
    }
}

/// Smart pointers to a provider are providers.
macro_rules! forward_provider {
    ($($pointer:ty),*) => {$(
        #[async_trait]
        impl<P: KeyProvider + ?Sized> KeyProvider for $pointer {
            fn name(&self) -> &'static str {
                (**self).name()
            }
            fn settings(&self) -> Settings {
                (**self).settings()
            }
            fn informational_settings(&self) -> &'static [&'static str] {
                (**self).informational_settings()
            }
            fn requires_committing_suite(&self) -> bool {
                (**self).requires_committing_suite()
            }
            async fn wrap(&self, context: &WrapContext, key: &SecretKey) -> Result<Vec<u8>, KmsError> {
                (**self).wrap(context, key).await
            }
            async fn unwrap(&self, context: &WrapContext, wrapped: &[u8]) -> Result<SecretKey, KmsError> {
                (**self).unwrap(context, wrapped).await
            }
            async fn reencrypt(&self, context: &WrapContext, wrapped: &[u8]) -> Result<Option<Vec<u8>>, KmsError> {
                (**self).reencrypt(context, wrapped).await
            }
            async fn generate(&self, context: &WrapContext) -> Result<(SecretKey, Vec<u8>), KmsError> {
                (**self).generate(context).await
            }
        }
    )*};
}

forward_provider!(std::sync::Arc<P>, Box<P>);
