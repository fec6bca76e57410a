//! Finding the keyring and its provider from the command line.
//!
//! A keyring document records which provider wraps it and that provider's non-secret settings,
//! so naming the keyring file is enough to open it; secrets (a passphrase, a Vault token) come
//! from the environment. `init` and `rewrap` build a new provider from [`ProviderArgs`].

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};
use fieldcrypt::Keyring;
use fieldcrypt_kms::local::MasterKeyFile;
use fieldcrypt_kms::local_keyring::default_master_key_path;
use fieldcrypt_kms::providers::env::EnvProvider;
use fieldcrypt_kms::providers::passphrase::{KdfParams, PassphraseProvider};
use fieldcrypt_kms::{
    FileStore, KeyProvider, KeyringStore as _, KmsError, UnlockedKeyring, Version,
};

use crate::cli::{KeyringArg, ProviderArgs};

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
        Ok(())
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

/// The provider a document names, configured from its settings and the environment.
pub(crate) fn provider_for(
    doc: &fieldcrypt::KeyringDocument,
    master_key: Option<&Path>,
    #[cfg_attr(not(feature = "aws-kms"), allow(unused_variables))]
    runtime: &tokio::runtime::Runtime,
) -> Result<Box<dyn KeyProvider>> {
    let setting = |name: &str| doc.kek.settings.get(name).and_then(|v| v.as_str());
    Ok(match doc.kek.provider.as_str() {
        "local" => {
            let path = match master_key {
                Some(p) => p.to_owned(),
                None => PathBuf::from(setting("path").ok_or_else(|| {
                    anyhow::anyhow!(
                        "the keyring does not say where its master key is; pass --master-key"
                    )
                })?),
            };
            Box::new(MasterKeyFile::open(&path)?)
        }
        "env" => Box::new(EnvProvider::from_env(
            setting("variable").unwrap_or(fieldcrypt_kms::providers::env::DEFAULT_VARIABLE),
        )?),
        "passphrase" => Box::new(PassphraseProvider::from_env(
            &std::env::var("FIELDCRYPT_PASSPHRASE_ENV").unwrap_or_else(|_| {
                fieldcrypt_kms::providers::passphrase::DEFAULT_VARIABLE.to_owned()
            }),
            KdfParams::from_settings(&doc.kek.settings)?,
        )?),
        #[cfg(feature = "vault")]
        "vault" => Box::new(vault::from_settings(doc)?),
        #[cfg(feature = "aws-kms")]
        "aws-kms" => Box::new(aws::from_settings(doc, runtime)?),
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
    })
}

/// A string setting the document records for its provider.
#[cfg(any(feature = "vault", feature = "aws-kms"))]
fn setting(doc: &fieldcrypt::KeyringDocument, name: &str) -> Option<String> {
    doc.kek
        .settings
        .get(name)
        .and_then(|v| v.as_str())
        .map(str::to_owned)
}

/// Loads the keyring named on the command line.
pub(crate) fn load(arg: &KeyringArg) -> Result<Loaded> {
    let runtime = runtime()?;
    let store = FileStore::new(&arg.keyring);
    let stored = runtime
        .block_on(store.load())?
        .ok_or_else(|| KmsError::NoKeyring(format!("file {}", arg.keyring.display())))
        .with_context(|| format!("opening keyring {}", arg.keyring.display()))?;
    let provider = provider_for(&stored.document, arg.master_key.as_deref(), &runtime)
        .with_context(|| format!("opening keyring {}", arg.keyring.display()))?;
    let unlocked = runtime
        .block_on(UnlockedKeyring::open(&stored.document, provider.as_ref()))
        .with_context(|| format!("opening keyring {}", arg.keyring.display()))?;
    Ok(Loaded {
        unlocked,
        provider,
        store,
        version: Some(stored.version),
        runtime,
        master_key: None,
    })
}

/// A new provider from `init`/`rewrap` arguments.
pub(crate) fn new_provider(
    args: &ProviderArgs,
    master_key: Option<&Path>,
    #[cfg_attr(not(feature = "aws-kms"), allow(unused_variables))]
    runtime: &tokio::runtime::Runtime,
) -> Result<(Box<dyn KeyProvider>, Option<MasterKeyNote>)> {
    Ok(match args.provider.as_str() {
        "local" => {
            let path = master_key.map_or_else(default_master_key_path, Path::to_owned);
            let file = MasterKeyFile::open_or_create(&path)?;
            let created = file.was_created();
            (Box::new(file), Some((path, created)))
        }
        "env" => (Box::new(EnvProvider::from_env(&args.key_variable)?), None),
        "passphrase" => {
            let params = KdfParams::calibrate(std::time::Duration::from_millis(500))?;
            eprintln!(
                "Argon2id calibrated for this machine: m={} KiB, t={}, p={}",
                params.memory_kib, params.iterations, params.parallelism
            );
            (
                Box::new(PassphraseProvider::from_env(
                    &args.passphrase_variable,
                    params,
                )?),
                None,
            )
        }
        #[cfg(feature = "vault")]
        "vault" => (Box::new(vault::from_args(args)?), None),
        #[cfg(feature = "aws-kms")]
        "aws-kms" => (Box::new(aws::from_args(args, runtime)?), None),
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
    let (provider, master_key) = new_provider(provider, arg.master_key.as_deref(), &runtime)?;
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
    use anyhow::{Result, anyhow};
    use fieldcrypt_kms_vault::{Auth, VaultConfig, VaultProvider};
    use zeroize::Zeroizing;

    use crate::cli::ProviderArgs;

    fn auth() -> Result<Auth> {
        if let (Ok(role_id), Ok(secret_id)) = (
            std::env::var("VAULT_ROLE_ID"),
            std::env::var("VAULT_SECRET_ID"),
        ) {
            return Ok(Auth::AppRole {
                mount: std::env::var("VAULT_APPROLE_MOUNT")
                    .unwrap_or_else(|_| "approle".to_owned()),
                role_id,
                secret_id: Zeroizing::new(secret_id),
            });
        }
        let token = std::env::var("VAULT_TOKEN")
            .or_else(|_| std::env::var("BAO_TOKEN"))
            .map_err(|_| anyhow!("set VAULT_TOKEN (or BAO_TOKEN), or VAULT_ROLE_ID and VAULT_SECRET_ID for AppRole"))?;
        Ok(Auth::Token(Zeroizing::new(token)))
    }

    fn build(
        address: &str,
        mount: &str,
        key: &str,
        ca: Option<&std::path::Path>,
    ) -> Result<VaultProvider> {
        let mut config = VaultConfig::with_token(address, key, Zeroizing::new(String::new()));
        config.mount = mount.to_owned();
        config.auth = auth()?;
        config.namespace = std::env::var("VAULT_NAMESPACE").ok();
        if let Some(ca) = ca {
            config = config.trust_ca_file(ca)?;
        }
        Ok(VaultProvider::new(config)?)
    }

    pub(super) fn from_args(args: &ProviderArgs) -> Result<VaultProvider> {
        let address = args
            .vault_addr
            .clone()
            .ok_or_else(|| anyhow!("--vault-addr (or VAULT_ADDR) is required"))?;
        let key = args
            .vault_key
            .as_deref()
            .ok_or_else(|| anyhow!("--vault-key (the Transit key name) is required"))?;
        build(
            &address,
            &args.vault_mount,
            key,
            args.vault_ca_cert.as_deref(),
        )
    }

    pub(super) fn from_settings(doc: &fieldcrypt::KeyringDocument) -> Result<VaultProvider> {
        let s = |name: &str| super::setting(doc, name);
        let address = std::env::var("VAULT_ADDR")
            .ok()
            .or_else(|| s("address"))
            .ok_or_else(|| anyhow!("the keyring names no Vault address; set VAULT_ADDR"))?;
        let ca = std::env::var_os("VAULT_CACERT").map(std::path::PathBuf::from);
        build(
            &address,
            &s("mount").unwrap_or_else(|| "transit".to_owned()),
            &s("key").ok_or_else(|| anyhow!("the keyring names no Transit key"))?,
            ca.as_deref(),
        )
    }
}

#[cfg(feature = "aws-kms")]
mod aws {
    use anyhow::{Result, anyhow};
    use fieldcrypt_kms_aws::{AwsKmsConfig, AwsKmsProvider};

    use crate::cli::ProviderArgs;

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

    pub(super) fn from_args(
        args: &ProviderArgs,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<AwsKmsProvider> {
        let key = args.aws_kms_key.as_deref().ok_or_else(|| {
            anyhow!("--aws-kms-key (a key id, key ARN or alias/NAME) is required")
        })?;
        connect(
            key,
            args.aws_region.clone(),
            args.aws_endpoint.clone(),
            runtime,
        )
    }

    pub(super) fn from_settings(
        doc: &fieldcrypt::KeyringDocument,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<AwsKmsProvider> {
        let s = |name: &str| super::setting(doc, name);
        let key = s("key_id").ok_or_else(|| anyhow!("the keyring names no KMS key"))?;
        connect(&key, s("region"), None, runtime)
    }
}
