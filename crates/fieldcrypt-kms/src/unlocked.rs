//! A keyring unwrapped from its document, with the document's own KEK held so it can be saved
//! again (after a rotation, say) without another provider call.
//!
//! The two levels (FORMAT.md section 10.5): a random per-document KEK wraps the data keys and
//! index roots and keys the document MAC; the provider wraps that KEK, which the document keeps
//! in `kek.wrapped_kek`. Rewrapping draws a new document KEK, so a copy of the old provider key
//! (or a backup of the old document) opens nothing written after the rewrap.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::{KeyState, Keyring, KeyringDocument, LocalKek, SecretKey, Suite};

use crate::error::KmsError;
use crate::provider::{KeyProvider, Settings, WRAPPED_KEK_SETTING, WrapContext};

/// The setting providers record to tell their keys apart (a fingerprint, a key ARN, a Transit
/// key name). A document naming another key than the configured one is a wrong key, reported
/// before any unwrap.
pub const KEY_IDENTITY_SETTINGS: &[&str] = &["key_fingerprint", "key_id", "key"];

/// A keyring and what it takes to save it again.
pub struct UnlockedKeyring {
    /// The keys.
    pub keyring: Keyring,
    kek: SecretKey,
    provider: &'static str,
    settings: Settings,
    committing_only: bool,
}

impl core::fmt::Debug for UnlockedKeyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UnlockedKeyring")
            .field("keyring", &self.keyring.id())
            .field("provider", &self.provider)
            .field("kek", &"[REDACTED]")
            .finish()
    }
}

impl UnlockedKeyring {
    /// A new keyring of `suite`, its KEK generated and wrapped by `provider`.
    pub async fn generate(provider: &dyn KeyProvider, suite: Suite) -> Result<Self, KmsError> {
        Self::wrap_new(Keyring::generate(suite)?, provider).await
    }

    /// Wraps `keyring` under a fresh document KEK that `provider` wraps (one provider call).
    pub async fn wrap_new(keyring: Keyring, provider: &dyn KeyProvider) -> Result<Self, KmsError> {
        let context = WrapContext::new(keyring.id());
        let (kek, wrapped) = provider.generate(&context).await?;
        let mut settings = provider.settings();
        settings.insert(
            WRAPPED_KEK_SETTING.to_owned(),
            serde_json::Value::String(URL_SAFE_NO_PAD.encode(wrapped)),
        );
        let unlocked = Self {
            keyring,
            kek,
            provider: provider.name(),
            settings,
            committing_only: provider.requires_committing_suite(),
        };
        unlocked.check_suites()?;
        Ok(unlocked)
    }

    /// Unwraps `doc` with `provider` (one provider call), checking the document MAC, every
    /// wrapped key and the document's consistency.
    pub async fn open(doc: &KeyringDocument, provider: &dyn KeyProvider) -> Result<Self, KmsError> {
        same_provider_key(&doc.kek.provider, &doc.kek.settings, provider)?;
        let invalid = |why: &str| {
            KmsError::Core(fieldcrypt::KeyringError::InvalidDocument(why.to_owned()).into())
        };
        let keyring_id = doc
            .keyring_id
            .parse()
            .map_err(|_| invalid("keyring_id is not 32 hex digits"))?;
        let wrapped = doc
            .kek
            .settings
            .get(WRAPPED_KEK_SETTING)
            .and_then(|v| v.as_str())
            .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
            .ok_or_else(|| invalid("kek.wrapped_kek is missing or not base64url"))?;
        let kek = provider
            .unwrap(&WrapContext::new(keyring_id), &wrapped)
            .await?;
        let keyring = Keyring::from_document(doc, &LocalKek::new(&kek))?;
        let unlocked = Self {
            keyring,
            kek,
            provider: provider.name(),
            settings: doc.kek.settings.clone(),
            committing_only: provider.requires_committing_suite(),
        };
        unlocked.check_suites()?;
        Ok(unlocked)
    }

    /// The document to store: every key wrapped under the held KEK, with a fresh MAC. No
    /// provider call.
    pub fn to_document(&self) -> Result<KeyringDocument, KmsError> {
        self.check_suites()?;
        Ok(self.keyring.to_document(
            &LocalKek::new(&self.kek),
            self.provider,
            self.settings.clone(),
        )?)
    }

    /// Moves the keyring under `to` (which may be the same provider with a new key): a new
    /// document KEK, wrapped by `to` (one provider call). On error nothing has changed; on
    /// success the caller stores [`Self::to_document`] (all or nothing). No data row is touched.
    pub async fn rewrap(&mut self, to: &dyn KeyProvider) -> Result<(), KmsError> {
        let context = WrapContext::new(self.keyring.id());
        let (kek, wrapped) = to.generate(&context).await?;
        let mut settings = to.settings();
        settings.insert(
            WRAPPED_KEK_SETTING.to_owned(),
            serde_json::Value::String(URL_SAFE_NO_PAD.encode(wrapped)),
        );
        if to.requires_committing_suite() && has_live_non_committing_key(&self.keyring) {
            return Err(KmsError::CommittingSuiteRequired(to.name()));
        }
        self.kek = kek;
        self.provider = to.name();
        self.settings = settings;
        self.committing_only = to.requires_committing_suite();
        Ok(())
    }

    /// Re-encrypts the wrapped document KEK under the newest version of the same provider key,
    /// inside the provider ([`KeyProvider::reencrypt`]): the KEK and every data key stay, only
    /// `wrapped_kek` changes. Returns `false` when the provider has no such operation. On error
    /// nothing has changed; on success the caller stores [`Self::to_document`].
    pub async fn reencrypt_kek(&mut self, provider: &dyn KeyProvider) -> Result<bool, KmsError> {
        same_provider_key(self.provider, &self.settings, provider)?;
        let wrapped = self
            .settings
            .get(WRAPPED_KEK_SETTING)
            .and_then(|v| v.as_str())
            .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
            .ok_or_else(|| KmsError::CannotUnwrap {
                provider: provider.name(),
                detail: "the document holds no wrapped KEK".to_owned(),
            })?;
        let context = WrapContext::new(self.keyring.id());
        let Some(rewrapped) = provider.reencrypt(&context, &wrapped).await? else {
            return Ok(false);
        };
        // The provider must still unwrap it to the same KEK before the document changes.
        let kek = provider.unwrap(&context, &rewrapped).await?;
        if kek.expose() != self.kek.expose() {
            return Err(KmsError::CannotUnwrap {
                provider: provider.name(),
                detail: "the re-encrypted KEK does not unwrap to the same key".to_owned(),
            });
        }
        self.settings.insert(
            WRAPPED_KEK_SETTING.to_owned(),
            serde_json::Value::String(URL_SAFE_NO_PAD.encode(rewrapped)),
        );
        Ok(true)
    }

    /// The keyring alone (the document KEK is zeroized).
    pub fn into_keyring(self) -> Keyring {
        self.keyring
    }

    /// The provider's name.
    pub fn provider(&self) -> &'static str {
        self.provider
    }

    /// The provider settings the document records.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn check_suites(&self) -> Result<(), KmsError> {
        if self.committing_only && has_live_non_committing_key(&self.keyring) {
            return Err(KmsError::CommittingSuiteRequired(self.provider));
        }
        Ok(())
    }
}

/// The configured provider is the one a document names, with the same key; checked before
/// any provider call, so a misconfiguration is named as such.
fn same_provider_key(
    recorded_provider: &str,
    recorded: &Settings,
    provider: &dyn KeyProvider,
) -> Result<(), KmsError> {
    if recorded_provider != provider.name() {
        return Err(KmsError::ProviderMismatch {
            document: recorded_provider.to_owned(),
            configured: provider.name(),
        });
    }
    let configured = provider.settings();
    for name in KEY_IDENTITY_SETTINGS {
        if let (Some(recorded), Some(given)) = (recorded.get(*name), configured.get(*name))
            && recorded != given
        {
            return Err(KmsError::WrongKey {
                provider: provider.name(),
                setting: name,
                expected: plain(recorded),
                given: plain(given),
            });
        }
    }
    Ok(())
}

fn has_live_non_committing_key(keyring: &Keyring) -> bool {
    keyring
        .keys()
        .any(|k| k.state != KeyState::Retired && !k.suite.commits())
}

fn plain(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}
