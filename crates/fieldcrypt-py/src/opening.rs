//! How a keyring is opened from Python: the application's configuration (keyword arguments,
//! else the environment variables the `fieldcrypt` command reads), never the keyring document's
//! settings, which are compared with it before any provider call. The in-process providers are
//! `fieldcrypt_kms::configured`'s; Vault/OpenBao Transit and AWS KMS are built here from their
//! crates' own configuration types when the wheel has them (features `vault`, `aws-kms`).

use std::path::{Path, PathBuf};

use fieldcrypt::KeyringDocument;
use fieldcrypt_kms::{InProcessConfig, KmsError, Pins};

/// Settings of the providers that live in their own crates (unread in a build without them).
#[cfg_attr(not(any(feature = "vault", feature = "aws-kms")), allow(dead_code))]
#[derive(Debug, Default, Clone)]
pub(crate) struct RemoteConfig {
    pub(crate) vault_addr: Option<String>,
    pub(crate) vault_mount: Option<String>,
    pub(crate) vault_key: Option<String>,
    pub(crate) vault_ca_cert: Option<PathBuf>,
    pub(crate) aws_kms_key: Option<String>,
    pub(crate) aws_region: Option<String>,
    pub(crate) aws_endpoint: Option<String>,
}

/// A setting given here, else from the environment variable the `fieldcrypt` command reads.
#[cfg_attr(not(any(feature = "vault", feature = "aws-kms")), allow(dead_code))]
fn or_env(given: Option<&str>, variable: &str) -> Option<String> {
    given
        .map(str::to_owned)
        .or_else(|| std::env::var(variable).ok().filter(|v| !v.is_empty()))
}

/// Everything that decides how a keyring opens.
pub(crate) struct Opening {
    pub(crate) config: InProcessConfig,
    #[cfg_attr(not(any(feature = "vault", feature = "aws-kms")), allow(dead_code))]
    pub(crate) remote: RemoteConfig,
    pub(crate) pins: Pins,
    pub(crate) expect_provider: Option<String>,
}

impl Opening {
    /// Opens `doc` (named `source` in errors): pins and the expected provider first, then the
    /// provider the document names, configured from here.
    pub(crate) fn open(
        &self,
        doc: &KeyringDocument,
        source: &Path,
    ) -> Result<fieldcrypt::Keyring, KmsError> {
        match doc.kek.provider.as_str() {
            #[cfg(feature = "vault")]
            "vault" => self.open_remote(doc, |_| Ok(Box::new(self.vault()?))),
            #[cfg(feature = "aws-kms")]
            "aws-kms" => self.open_remote(doc, |runtime| Ok(Box::new(self.aws(runtime)?))),
            _ => fieldcrypt_kms::configured::open_in_process(
                doc,
                source,
                &self.config,
                &self.pins,
                self.expect_provider.as_deref(),
            )
            .map(fieldcrypt_kms::UnlockedKeyring::into_keyring),
        }
    }

    #[cfg(any(feature = "vault", feature = "aws-kms"))]
    fn open_remote(
        &self,
        doc: &KeyringDocument,
        provider: impl FnOnce(
            &tokio::runtime::Runtime,
        ) -> Result<Box<dyn fieldcrypt_kms::KeyProvider>, KmsError>,
    ) -> Result<fieldcrypt::Keyring, KmsError> {
        fieldcrypt_kms::configured::check_expected_provider(doc, self.expect_provider.as_deref())?;
        fieldcrypt_kms::unlocked::check_pins(doc, &self.pins)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| KmsError::Config {
                provider: "python",
                reason: format!("cannot start the I/O runtime: {e}"),
            })?;
        let provider = provider(&runtime)?;
        let unlocked = runtime.block_on(fieldcrypt_kms::UnlockedKeyring::open_pinned(
            doc,
            provider.as_ref(),
            &self.pins,
        ))?;
        Ok(unlocked.into_keyring())
    }

    #[cfg(feature = "vault")]
    fn vault(&self) -> Result<fieldcrypt_kms_vault::VaultProvider, KmsError> {
        let missing = |what: &str| KmsError::Config {
            provider: fieldcrypt_kms_vault::PROVIDER,
            reason: format!(
                "{what} (the keyring document's copy is compared with it, never followed)"
            ),
        };
        let address = or_env(self.remote.vault_addr.as_deref(), "VAULT_ADDR")
            .ok_or_else(|| missing("give vault_addr or set VAULT_ADDR, the Vault server"))?;
        let key =
            or_env(self.remote.vault_key.as_deref(), "FIELDCRYPT_VAULT_KEY").ok_or_else(|| {
                missing("give vault_key or set FIELDCRYPT_VAULT_KEY, the Transit key's name")
            })?;
        let mount = or_env(self.remote.vault_mount.as_deref(), "FIELDCRYPT_VAULT_MOUNT")
            .unwrap_or_else(|| "transit".to_owned());
        let ca = self
            .remote
            .vault_ca_cert
            .clone()
            .or_else(|| std::env::var_os("VAULT_CACERT").map(PathBuf::from));
        fieldcrypt_kms_vault::VaultProvider::new(fieldcrypt_kms_vault::VaultConfig::configured(
            &address,
            &mount,
            &key,
            ca.as_deref(),
        )?)
    }

    #[cfg(feature = "aws-kms")]
    fn aws(
        &self,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<fieldcrypt_kms_aws::AwsKmsProvider, KmsError> {
        let key = or_env(self.remote.aws_kms_key.as_deref(), "FIELDCRYPT_AWS_KMS_KEY")
            .ok_or_else(|| KmsError::Config {
                provider: fieldcrypt_kms_aws::PROVIDER,
                reason: "give aws_kms_key or set FIELDCRYPT_AWS_KMS_KEY: a key id, key ARN or alias/NAME (the keyring document's copy is compared with it, never followed)".to_owned(),
            })?;
        let mut config = fieldcrypt_kms_aws::AwsKmsConfig::new(&key);
        config.region = self.remote.aws_region.clone();
        config.endpoint = self.remote.aws_endpoint.clone();
        runtime.block_on(fieldcrypt_kms_aws::AwsKmsProvider::connect(config))
    }
}
