//! Finding the keyring and its provider from the command line.
//!
//! The provider is configured from arguments and the environment ([`ProviderConfig`]), never
//! from the keyring document: the document is data that whoever can write the file controls,
//! and its MAC is keyed by a KEK only the provider can unwrap, so it cannot vouch for the
//! settings used to reach the provider. Which provider wraps the keyring is read from the
//! document (every provider is configured by the application, so naming one reaches only what
//! the application would reach anyway); its settings are compared with the configuration and a
//! mismatch is refused before any provider call ([`UnlockedKeyring::open_pinned`]). Secrets (a
//! passphrase, a Vault token) come from the environment. `init` and `rewrap` build a new
//! provider from the same configuration.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use fieldcrypt::{KeyId, Keyring, KeyringDocument};
use fieldcrypt_kms::local::MasterKeyFile;
use fieldcrypt_kms::providers::env::EnvProvider;
use fieldcrypt_kms::providers::passphrase::{KdfParams, PassphraseProvider};
use fieldcrypt_kms::{
    FileStore, KeyProvider, KeyringStore as _, KmsError, Pins, UnlockedKeyring, Version,
};

use crate::cli::{KeyringArg, ProviderArgs, ProviderConfig};

/// A local master-key file and whether this run created it.
pub(crate) type MasterKeyNote = (PathBuf, bool);

/// A keyring opened from its file, to use, change and save.
pub(crate) struct Loaded {
    unlocked: UnlockedKeyring,
    /// The provider the keyring was opened or created with.
    provider: Box<dyn KeyProvider>,
    store: FileStore,
    version: Option<Version>,
    runtime: tokio::runtime::Runtime,
    /// For `init` messages: the master-key file, and whether this run created it.
    pub(crate) master_key: Option<MasterKeyNote>,
}

/// Two worker threads: column jobs read, seal and write batches concurrently.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?)
}

impl Loaded {
    pub(crate) fn keyring(&self) -> &Keyring {
        &self.unlocked.keyring
    }
    pub(crate) fn keyring_mut(&mut self) -> &mut Keyring {
        &mut self.unlocked.keyring
    }
    pub(crate) fn path(&self) -> &Path {
        self.store.path()
    }
    pub(crate) fn provider(&self) -> &'static str {
        self.unlocked.provider()
    }
    /// Writes the keyring back, unless the file changed since it was read.
    pub(crate) fn save(&mut self) -> Result<()> {
        let doc = self.unlocked.to_document()?;
        let version = self
            .runtime
            .block_on(self.store.save(&doc, self.version.as_ref()))?;
        self.version = Some(version);
        self.unlocked.saved();
        Ok(())
    }
    /// The generation of the document as last read or saved.
    pub(crate) fn generation(&self) -> u64 {
        self.unlocked.generation()
    }
    /// Retires data key `id` and rewraps the keyring under a fresh KEK; saved all or nothing.
    pub(crate) fn retire(&mut self, id: KeyId) -> Result<()> {
        self.runtime
            .block_on(self.unlocked.retire(self.provider.as_ref(), id))?;
        self.save()
    }
    /// Moves the wrapped KEK to the newest version of the provider's key; `false` when the
    /// provider has no key versions. Saved all or nothing.
    pub(crate) fn reencrypt_kek(&mut self) -> Result<bool> {
        let moved = self
            .runtime
            .block_on(self.unlocked.reencrypt_kek(self.provider.as_ref()))?;
        if moved {
            self.save()?;
        }
        Ok(moved)
    }
    /// The runtime provider calls run on.
    pub(crate) fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }
    /// Moves the keyring under `to`: one new document KEK, stored all or nothing.
    pub(crate) fn rewrap(&mut self, to: &dyn KeyProvider) -> Result<()> {
        self.runtime.block_on(self.unlocked.rewrap(to))?;
        self.save()
    }
}

/// The provider that `doc` names, configured from `config` (arguments and environment). Only
/// the passphrase provider reads the document: its Argon2id salt and costs, bounded
/// ([`KdfParams::from_settings`]) before anything is derived. Makes no provider call.
pub(crate) fn provider_for(
    doc: &KeyringDocument,
    keyring: &Path,
    config: &ProviderConfig,
    #[cfg_attr(not(feature = "aws-kms"), allow(unused_variables))]
    runtime: &tokio::runtime::Runtime,
) -> Result<Box<dyn KeyProvider>> {
    if let Some(provider) =
        fieldcrypt_kms::configured::in_process_provider(doc, keyring, &config.in_process())?
    {
        return Ok(provider);
    }
    match doc.kek.provider.as_str() {
        #[cfg(feature = "vault")]
        "vault" => Ok(Box::new(vault::configured(config, Some(doc))?)),
        #[cfg(feature = "aws-kms")]
        "aws-kms" => Ok(Box::new(aws::configured(config, Some(doc), runtime)?)),
        other => bail!(KmsError::Config {
            provider: "cli",
            reason: format!(
                "the keyring is wrapped by provider {other:?}, which this build of fieldcrypt does not include{}",
                match other {
                    "vault" | "aws-kms" => format!(" (build with --features {other})"),
                    _ => String::new(),
                }
            ),
        }),
    }
}

/// The configured master-key file, or the default one.
pub(crate) fn master_key_path(config: &ProviderConfig) -> PathBuf {
    config.in_process().master_key_path()
}

/// What the configuration pins.
fn pins(arg: &KeyringArg) -> Result<Pins> {
    Ok(Pins {
        keyring_id: arg
            .keyring_id
            .as_deref()
            .map(|id| {
                id.parse().map_err(|_| {
                    anyhow::anyhow!("--keyring-id {id:?} is not 32 lower-case hex digits")
                })
            })
            .transpose()?,
        min_generation: arg.min_generation,
    })
}

/// A provider setting missing from the configuration; the document's copy is named, never used.
#[cfg(any(feature = "vault", feature = "aws-kms"))]
fn unconfigured(
    provider: &'static str,
    what: &str,
    doc: Option<&KeyringDocument>,
    setting: &str,
) -> KmsError {
    let recorded = doc
        .and_then(|d| d.kek.settings.get(setting))
        .and_then(|v| v.as_str())
        .map_or_else(String::new, |v| {
            format!(" (the keyring document says {v:?}; a document's settings are not followed)")
        });
    KmsError::Config {
        provider,
        reason: format!("{what}{recorded}"),
    }
}

/// Loads the keyring named on the command line.
pub(crate) fn load(arg: &KeyringArg) -> Result<Loaded> {
    let runtime = runtime()?;
    let store = FileStore::new(&arg.keyring);
    let opening = || format!("opening keyring {}", arg.keyring.display());
    let pins = pins(arg)?;
    let stored = runtime
        .block_on(store.load())?
        .ok_or_else(|| KmsError::NoKeyring(format!("file {}", arg.keyring.display())))
        .with_context(opening)?;
    fieldcrypt_kms::configured::check_expected_provider(
        &stored.document,
        arg.expect_provider.as_deref(),
    )
    .with_context(opening)?;
    // Before the provider is built: a passphrase's derivation costs what the document says.
    fieldcrypt_kms::unlocked::check_pins(&stored.document, &pins).with_context(opening)?;
    let provider = provider_for(&stored.document, &arg.keyring, &arg.provider, &runtime)
        .with_context(opening)?;
    let unlocked = runtime
        .block_on(UnlockedKeyring::open_pinned(
            &stored.document,
            provider.as_ref(),
            &pins,
        ))
        .with_context(opening)?;
    Ok(Loaded {
        unlocked,
        provider,
        store,
        version: Some(stored.version),
        runtime,
        master_key: None,
    })
}

/// A new provider of kind `args.provider`, configured from `config` (`init`, `rewrap`).
pub(crate) fn new_provider(
    args: &ProviderArgs,
    config: &ProviderConfig,
    #[cfg_attr(not(feature = "aws-kms"), allow(unused_variables))]
    runtime: &tokio::runtime::Runtime,
) -> Result<(Box<dyn KeyProvider>, Option<MasterKeyNote>)> {
    Ok(match args.provider.as_str() {
        "local" => {
            let path = master_key_path(config);
            let file = MasterKeyFile::open_or_create(&path)?;
            let created = file.was_created();
            (Box::new(file), Some((path, created)))
        }
        "env" => (Box::new(EnvProvider::from_env(&config.key_variable)?), None),
        "passphrase" => {
            let params = KdfParams::calibrate(std::time::Duration::from_millis(500))?;
            eprintln!(
                "Argon2id calibrated for this machine: m={} KiB, t={}, p={}",
                params.memory_kib, params.iterations, params.parallelism
            );
            (
                Box::new(PassphraseProvider::from_env(
                    &config.passphrase_variable,
                    params,
                )?),
                None,
            )
        }
        #[cfg(feature = "vault")]
        "vault" => (Box::new(vault::configured(config, None)?), None),
        #[cfg(feature = "aws-kms")]
        "aws-kms" => (Box::new(aws::configured(config, None, runtime)?), None),
        other => bail!(
            "provider {other:?} is not in this build of fieldcrypt (build with --features {other})"
        ),
    })
}

/// Creates a new keyring under the provider the arguments name. Refuses to overwrite one.
pub(crate) fn init(
    arg: &KeyringArg,
    provider: &ProviderArgs,
    suite: fieldcrypt::Suite,
) -> Result<Loaded> {
    if arg.keyring.exists() {
        bail!(KmsError::KeyringExists(arg.keyring.clone()));
    }
    let runtime = runtime()?;
    let (provider, master_key) = new_provider(provider, &arg.provider, &runtime)?;
    let unlocked = runtime.block_on(UnlockedKeyring::generate(provider.as_ref(), suite))?;
    let mut loaded = Loaded {
        unlocked,
        provider,
        store: FileStore::new(&arg.keyring),
        version: None,
        runtime,
        master_key,
    };
    loaded.save()?;
    Ok(loaded)
}

#[cfg(feature = "vault")]
mod vault {
    use anyhow::Result;
    use fieldcrypt_kms_vault::{VaultConfig, VaultProvider};

    use fieldcrypt::KeyringDocument;

    use crate::cli::ProviderConfig;

    fn build(
        address: &str,
        mount: &str,
        key: &str,
        ca: Option<&std::path::Path>,
    ) -> Result<VaultProvider> {
        Ok(VaultProvider::new(VaultConfig::configured(
            address, mount, key, ca,
        )?)?)
    }

    /// The configured Vault provider; `doc` only to name its settings in an error.
    pub(super) fn configured(
        config: &ProviderConfig,
        doc: Option<&KeyringDocument>,
    ) -> Result<VaultProvider> {
        let address = config.vault_addr.as_deref().ok_or_else(|| {
            super::unconfigured(
                fieldcrypt_kms_vault::PROVIDER,
                "set VAULT_ADDR (or --vault-addr), the Vault server",
                doc,
                fieldcrypt_kms_vault::ADDRESS_SETTING,
            )
        })?;
        let key = config.vault_key.as_deref().ok_or_else(|| {
            super::unconfigured(
                fieldcrypt_kms_vault::PROVIDER,
                "set FIELDCRYPT_VAULT_KEY (or --vault-key), the Transit key's name",
                doc,
                fieldcrypt_kms_vault::KEY_SETTING,
            )
        })?;
        build(
            address,
            &config.vault_mount,
            key,
            config.vault_ca_cert.as_deref(),
        )
    }
}

#[cfg(feature = "aws-kms")]
mod aws {
    use anyhow::Result;
    use fieldcrypt::KeyringDocument;
    use fieldcrypt_kms_aws::{AwsKmsConfig, AwsKmsProvider};

    use crate::cli::ProviderConfig;

    /// Credentials come from the AWS SDK's default chain (environment, profile, IMDS, ECS, web
    /// identity); the endpoint from `--aws-endpoint` or the SDK's `AWS_ENDPOINT_URL[_KMS]`.
    fn connect(
        key_id: &str,
        region: Option<String>,
        endpoint: Option<String>,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<AwsKmsProvider> {
        let mut config = AwsKmsConfig::new(key_id);
        config.region = region;
        config.endpoint = endpoint;
        Ok(runtime.block_on(AwsKmsProvider::connect(config))?)
    }

    /// The configured KMS provider; `doc` only to name its settings in an error.
    pub(super) fn configured(
        config: &ProviderConfig,
        doc: Option<&KeyringDocument>,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<AwsKmsProvider> {
        let key = config.aws_kms_key.as_deref().ok_or_else(|| {
            super::unconfigured(
                fieldcrypt_kms_aws::PROVIDER,
                "set FIELDCRYPT_AWS_KMS_KEY (or --aws-kms-key): a key id, key ARN or alias/NAME",
                doc,
                fieldcrypt_kms_aws::KEY_ID_SETTING,
            )
        })?;
        connect(
            key,
            config.aws_region.clone(),
            config.aws_endpoint.clone(),
            runtime,
        )
    }
}
