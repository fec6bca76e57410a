//! Building the in-process providers (local, env, passphrase) from the application's
//! configuration, and opening a keyring document with one of them without an async runtime.
//!
//! One home for what the `fieldcrypt` command and the Python package both do: the provider is
//! configured by the application (a master-key path, the names of environment variables), never
//! by the keyring document, which whoever can write the file or row controls. The document names
//! which provider wraps it; its settings are compared with the configuration before any provider
//! call ([`UnlockedKeyring::open_pinned`]). Providers that live in their own crates (Vault, AWS
//! KMS) are built by the caller that links them; [`in_process_provider`] answers `None` for them.

use std::path::{Path, PathBuf};

use fieldcrypt::KeyringDocument;

use crate::unlocked::check_pins;
use crate::{KeyProvider, KmsError, Pins, UnlockedKeyring};

/// Every provider name a keyring document may carry, in-process or not.
pub const PROVIDERS: [&str; 5] = ["local", "env", "passphrase", "vault", "aws-kms"];

/// Where the in-process providers find their key: the application's configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InProcessConfig {
    /// The local master-key file; `None` is [`crate::local_keyring::default_master_key_path`].
    pub master_key: Option<PathBuf>,
    /// The environment variable holding the env provider's KEK (base64 of 32 bytes).
    pub key_variable: String,
    /// The environment variable holding the passphrase.
    pub passphrase_variable: String,
}

impl Default for InProcessConfig {
    fn default() -> Self {
        Self {
            master_key: None,
            key_variable: "FIELDCRYPT_KEK".to_owned(),
            passphrase_variable: "FIELDCRYPT_PASSPHRASE".to_owned(),
        }
    }
}

impl InProcessConfig {
    /// The configured master-key file, or the default one.
    #[cfg(feature = "local")]
    pub fn master_key_path(&self) -> PathBuf {
        self.master_key
            .clone()
            .unwrap_or_else(crate::local_keyring::default_master_key_path)
    }
}

/// Refuses a document wrapped by another provider than `expected` (the configuration's
/// `FIELDCRYPT_PROVIDER`), naming both.
pub fn check_expected_provider(
    doc: &KeyringDocument,
    expected: Option<&str>,
) -> Result<(), KmsError> {
    match expected {
        Some(expected) if expected != doc.kek.provider => Err(KmsError::ProviderMismatch {
            document: doc.kek.provider.clone(),
            configured: PROVIDERS
                .into_iter()
                .find(|p| *p == expected)
                .unwrap_or("?"),
        }),
        _ => Ok(()),
    }
}

/// The in-process provider that `doc` names, built from `config`; `None` when the document
/// names a provider that lives in its own crate (or an unknown one). Only the passphrase
/// provider reads the document: its Argon2id salt and costs, bounded before anything is
/// derived. Makes no provider call. `keyring` names the keyring in errors.
pub fn in_process_provider(
    doc: &KeyringDocument,
    #[cfg_attr(not(feature = "local"), allow(unused_variables))] keyring: &Path,
    #[cfg_attr(
        not(any(feature = "local", feature = "env", feature = "passphrase")),
        allow(unused_variables)
    )]
    config: &InProcessConfig,
) -> Result<Option<Box<dyn KeyProvider>>, KmsError> {
    Ok(match doc.kek.provider.as_str() {
        #[cfg(feature = "local")]
        "local" => Some(Box::new(crate::local::MasterKeyFile::open_configured(
            &config.master_key_path(),
            &doc.kek.settings,
            keyring,
        )?)),
        #[cfg(feature = "env")]
        "env" => Some(Box::new(crate::providers::env::EnvProvider::from_env(
            &config.key_variable,
        )?)),
        #[cfg(feature = "passphrase")]
        "passphrase" => {
            use crate::providers::passphrase::{KdfParams, PassphraseProvider};
            Some(Box::new(PassphraseProvider::from_env(
                &config.passphrase_variable,
                KdfParams::from_settings(&doc.kek.settings)?,
            )?))
        }
        _ => None,
    })
}

/// Opens `doc` with an in-process provider: the expected provider and the pins are checked
/// before the provider is built (a refused document costs no Argon2 run), then the settings
/// and the MAC. A document wrapped by Vault or AWS KMS is refused with a message naming the
/// crate or build that opens it.
pub fn open_in_process(
    doc: &KeyringDocument,
    keyring: &Path,
    config: &InProcessConfig,
    pins: &Pins,
    expected_provider: Option<&str>,
) -> Result<UnlockedKeyring, KmsError> {
    check_expected_provider(doc, expected_provider)?;
    check_pins(doc, pins)?;
    let provider = in_process_provider(doc, keyring, config)?.ok_or_else(|| {
        KmsError::UnsupportedProvider {
            path: keyring.to_owned(),
            provider: doc.kek.provider.clone(),
        }
    })?;
    crate::ready::now(UnlockedKeyring::open_pinned(doc, provider.as_ref(), pins)).ok_or_else(
        || KmsError::Config {
            provider: "in-process",
            reason: "the provider did not answer at once".to_owned(),
        },
    )?
}
