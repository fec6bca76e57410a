//! A keyring unwrapped from its document, with the document's own KEK held so it can be saved
//! again (after a rotation, say) without another provider call.
//!
//! The two levels (FORMAT.md section 10.5): a random per-document KEK wraps the data keys and
//! index roots and keys the document MAC; the provider wraps that KEK, which the document keeps
//! in `kek.wrapped_kek`. Rewrapping draws a new document KEK, so a copy of the old provider key
//! (or a backup of the old document) opens nothing written after the rewrap.
//!
//! The provider is configured by the application, never from the document: the document's
//! settings are data, which anyone who can write the file controls, and the MAC that covers them
//! is keyed by a KEK that only the provider can unwrap. So [`UnlockedKeyring::open`] compares
//! every setting the configured provider would record with the document's copy and refuses a
//! mismatch before calling the provider. [`Pins`] add what configuration can pin beyond the
//! provider: the keyring's id and a minimum [generation](GENERATION_SETTING) (rollback).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::{
    KeyId, KeyState, Keyring, KeyringDocument, KeyringId, LocalKek, SecretKey, Suite,
};

use crate::error::KmsError;
use crate::provider::{KeyProvider, Settings, WRAPPED_KEK_SETTING, WrapContext};

/// The settings providers record to tell their keys apart (a fingerprint, a key ARN, a Transit
/// key name). A document naming another key than the configured one is a wrong key, reported
/// before any unwrap.
pub const KEY_IDENTITY_SETTINGS: &[&str] = &["key_fingerprint", "key_id", "key"];

/// The `kek` member that counts how many times the document was saved (absent: 0). Covered by
/// the MAC like every `kek` member; an application that pins a minimum ([`Pins`]) refuses an
/// older copy of its keyring (a restored backup, a rolled-back store).
pub const GENERATION_SETTING: &str = "generation";

/// What the application's configuration pins about the keyring it opens, checked before any
/// provider call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pins {
    /// The keyring's id: another keyring (a document swapped for one of the same provider) is
    /// refused.
    pub keyring_id: Option<KeyringId>,
    /// The lowest [generation](GENERATION_SETTING) accepted: older copies are refused.
    pub min_generation: Option<u64>,
}

/// A keyring and what it takes to save it again.
pub struct UnlockedKeyring {
    /// The keys.
    pub keyring: Keyring,
    kek: SecretKey,
    provider: &'static str,
    settings: Settings,
    committing_only: bool,
    /// The generation of the document read or last saved (0 for a new keyring).
    generation: u64,
}

impl core::fmt::Debug for UnlockedKeyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("UnlockedKeyring")
            .field("keyring", &self.keyring.id())
            .field("provider", &self.provider)
            .field("generation", &self.generation)
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
            generation: 0,
        };
        unlocked.check_suites()?;
        Ok(unlocked)
    }

    /// Unwraps `doc` with `provider` (one provider call), checking the document MAC, every
    /// wrapped key and the document's consistency. The provider is the application's, configured
    /// from its own settings; the document's copy of them must match, or nothing is called.
    pub async fn open(doc: &KeyringDocument, provider: &dyn KeyProvider) -> Result<Self, KmsError> {
        Self::open_pinned(doc, provider, &Pins::default()).await
    }

    /// [`Self::open`], also refusing a document that is not the pinned keyring or is older than
    /// the pinned generation (both before any provider call).
    pub async fn open_pinned(
        doc: &KeyringDocument,
        provider: &dyn KeyProvider,
        pins: &Pins,
    ) -> Result<Self, KmsError> {
        let invalid = |why: &str| {
            KmsError::Core(fieldcrypt::KeyringError::InvalidDocument(why.to_owned()).into())
        };
        // Before any provider call: format, keyring id, generation and their pins.
        let (keyring_id, generation) = pinned(doc, pins)?;
        check_settings(&doc.kek.provider, &doc.kek.settings, provider)?;
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
            generation,
        };
        unlocked.check_suites()?;
        Ok(unlocked)
    }

    /// The document to store: every key wrapped under the held KEK, with a fresh MAC and the
    /// next [generation](GENERATION_SETTING). No provider call. Once it is stored, call
    /// [`Self::saved`].
    pub fn to_document(&self) -> Result<KeyringDocument, KmsError> {
        self.check_suites()?;
        let mut settings = self.settings.clone();
        settings.insert(
            GENERATION_SETTING.to_owned(),
            serde_json::Value::from(self.generation.saturating_add(1)),
        );
        Ok(self
            .keyring
            .to_document(&LocalKek::new(&self.kek), self.provider, settings)?)
    }

    /// Records that the document [`Self::to_document`] returned was stored: the next one
    /// counts on from it.
    pub fn saved(&mut self) {
        self.generation = self.generation.saturating_add(1);
    }

    /// The generation of the document read, or last saved (0: never saved).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Moves the keyring under `to` (which may be the same provider with a new key): a new
    /// document KEK, wrapped by `to` (one provider call). On error nothing has changed; on
    /// success the caller stores [`Self::to_document`] (all or nothing). No data row is touched.
    pub async fn rewrap(&mut self, to: &dyn KeyProvider) -> Result<(), KmsError> {
        let fresh = FreshKek::draw(&self.keyring, to).await?;
        self.take(fresh, to);
        Ok(())
    }

    /// Retires data key `id` (its material is dropped and zeroized; the id stays reserved) and
    /// rewraps the document under a fresh KEK from `provider`, so the new document shares no
    /// KEK with the copies that still hold the key. Those copies open as long as the provider
    /// key that wrapped them does: destroying a key for good takes destroying that provider key
    /// version too (docs/KEYS.md). All or nothing; the caller stores [`Self::to_document`].
    pub async fn retire(&mut self, provider: &dyn KeyProvider, id: KeyId) -> Result<(), KmsError> {
        check_settings(self.provider, &self.settings, provider)?;
        let fresh = FreshKek::draw(&self.keyring, provider).await?;
        self.keyring.retire(id)?;
        self.take(fresh, provider);
        Ok(())
    }

    /// [`Self::retire`] for a blind-index root.
    pub async fn retire_index_root(
        &mut self,
        provider: &dyn KeyProvider,
        id: KeyId,
    ) -> Result<(), KmsError> {
        check_settings(self.provider, &self.settings, provider)?;
        let fresh = FreshKek::draw(&self.keyring, provider).await?;
        self.keyring.retire_index_root(id)?;
        self.take(fresh, provider);
        Ok(())
    }

    fn take(&mut self, fresh: FreshKek, provider: &dyn KeyProvider) {
        self.kek = fresh.kek;
        self.provider = provider.name();
        self.settings = fresh.settings;
        self.committing_only = provider.requires_committing_suite();
    }

    /// Re-encrypts the wrapped document KEK under the newest version of the same provider key,
    /// inside the provider ([`KeyProvider::reencrypt`]): the KEK and every data key stay, only
    /// `wrapped_kek` changes. Returns `false` when the provider has no such operation. On error
    /// nothing has changed; on success the caller stores [`Self::to_document`].
    pub async fn reencrypt_kek(&mut self, provider: &dyn KeyProvider) -> Result<bool, KmsError> {
        check_settings(self.provider, &self.settings, provider)?;
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
        if kek != self.kek {
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

/// The checks [`UnlockedKeyring::open_pinned`] makes before any provider is built or called:
/// the format, the keyring id and its pin, the generation and its pin. Call it first where
/// building the provider is itself costly (a passphrase's key derivation).
pub fn check_pins(doc: &KeyringDocument, pins: &Pins) -> Result<(), KmsError> {
    pinned(doc, pins).map(|_| ())
}

/// [`check_pins`], giving the keyring id and the generation it read.
fn pinned(doc: &KeyringDocument, pins: &Pins) -> Result<(KeyringId, u64), KmsError> {
    let invalid = |why: &str| {
        KmsError::Core(fieldcrypt::KeyringError::InvalidDocument(why.to_owned()).into())
    };
    if doc.format != fieldcrypt::document::FORMAT {
        return Err(invalid("format is not fieldcrypt-keyring/1"));
    }
    let keyring_id: KeyringId = doc
        .keyring_id
        .parse()
        .map_err(|_| invalid("keyring_id is not 32 lower-case hex digits"))?;
    if let Some(pinned) = pins.keyring_id
        && pinned != keyring_id
    {
        return Err(KmsError::NotPinnedKeyring {
            pinned: pinned.to_string(),
            found: keyring_id.to_string(),
        });
    }
    let generation = generation_of(&doc.kek.settings)
        .ok_or_else(|| invalid("kek.generation is not an unsigned integer"))?;
    if let Some(pinned) = pins.min_generation
        && generation < pinned
    {
        return Err(KmsError::Rollback {
            found: generation,
            pinned,
        });
    }
    Ok((keyring_id, generation))
}

/// A new document KEK and the settings that record its wrapping, drawn before anything changes.
struct FreshKek {
    kek: SecretKey,
    settings: Settings,
}

impl FreshKek {
    async fn draw(keyring: &Keyring, provider: &dyn KeyProvider) -> Result<Self, KmsError> {
        if provider.requires_committing_suite() && has_live_non_committing_key(keyring) {
            return Err(KmsError::CommittingSuiteRequired(provider.name()));
        }
        let (kek, wrapped) = provider.generate(&WrapContext::new(keyring.id())).await?;
        let mut settings = provider.settings();
        settings.insert(
            WRAPPED_KEK_SETTING.to_owned(),
            serde_json::Value::String(URL_SAFE_NO_PAD.encode(wrapped)),
        );
        Ok(Self { kek, settings })
    }
}

/// The document's generation: absent is 0.
fn generation_of(settings: &Settings) -> Option<u64> {
    match settings.get(GENERATION_SETTING) {
        None => Some(0),
        Some(v) => v.as_u64(),
    }
}

/// The configured provider is the one the document names, and every setting it would record
/// (where its key is, which key, how it is derived) equals the document's copy, except the ones
/// it marks informational. Checked before any provider call, so a document edited to name
/// another server, key or cost reaches nothing; a different key is reported as a wrong key.
pub fn check_settings(
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
    let informational = provider.informational_settings();
    for (name, given) in provider.settings() {
        if informational.contains(&name.as_str()) {
            continue;
        }
        let found = recorded.get(&name);
        if found == Some(&given) {
            continue;
        }
        let document = found.map_or_else(|| "nothing".to_owned(), plain);
        if let Some(setting) = KEY_IDENTITY_SETTINGS.iter().find(|s| **s == name) {
            // A passphrase-derived key's fingerprint is a check value for guesses at the
            // passphrase under the document's (attacker-chosen) costs: never shown.
            let shown = |v: String| {
                if provider.requires_committing_suite() {
                    "another (not shown: derived from the passphrase)".to_owned()
                } else {
                    v
                }
            };
            return Err(KmsError::WrongKey {
                provider: provider.name(),
                setting,
                expected: shown(document),
                given: shown(plain(&given)),
            });
        }
        return Err(KmsError::SettingMismatch {
            provider: provider.name(),
            setting: name,
            document,
            configured: plain(&given),
        });
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
