//! The keyring, opened the way the `fieldcrypt` command opens one (the provider from the
//! configuration, the document's settings checked against it) and kept unwrapped for
//! `keys.cache_seconds` ([`ManagedKeyring`]): a KMS outage shorter than that does not stop
//! service; after it, requests fail with `keys-unavailable` until the KMS answers again.

use std::sync::Arc;
use std::time::Duration;

use fieldcrypt_kms::{
    CachePolicy, FileStore, InProcessConfig, KeyProvider, KeyringStore as _, KmsError,
    ManagedKeyring, Pins,
};

use crate::config::KeysSection;

/// Builds the managed keyring of `[keys]`. Reads the document once to build its provider (a
/// passphrase's derivation costs come from it, bounded) and checks the expected provider and
/// the pins before any provider call.
pub async fn open(keys: &KeysSection) -> Result<ManagedKeyring, KmsError> {
    let store = FileStore::new(&keys.keyring);
    let stored = store
        .load()
        .await?
        .ok_or_else(|| KmsError::NoKeyring(format!("file {}", keys.keyring.display())))?;
    let doc = &stored.document;
    fieldcrypt_kms::configured::check_expected_provider(doc, Some(&keys.provider))?;
    let pins = Pins {
        keyring_id: keys
            .keyring_id
            .as_deref()
            .map(|id| {
                id.parse().map_err(|_| KmsError::Config {
                    provider: "server",
                    reason: format!("keys.keyring_id {id:?} is not 32 lower-case hex digits"),
                })
            })
            .transpose()?,
        min_generation: keys.min_generation,
    };
    fieldcrypt_kms::unlocked::check_pins(doc, &pins)?;
    let defaults = InProcessConfig::default();
    let in_process = InProcessConfig {
        master_key: keys.master_key.clone(),
        key_variable: keys.key_variable.clone().unwrap_or(defaults.key_variable),
        passphrase_variable: keys
            .passphrase_variable
            .clone()
            .unwrap_or(defaults.passphrase_variable),
    };
    let provider: Arc<dyn KeyProvider> =
        match fieldcrypt_kms::configured::in_process_provider(doc, &keys.keyring, &in_process)? {
            Some(p) => Arc::from(p),
            None => remote(keys).await?,
        };
    let managed = ManagedKeyring::new(
        Arc::new(store),
        provider,
        CachePolicy {
            ttl: Duration::from_secs(keys.cache_seconds),
            max_uses: u64::MAX,
        },
    )
    .with_pins(pins);
    // Unwrap now: a server that cannot reach its keys should not start.
    managed.get().await?;
    Ok(managed)
}

/// Vault/OpenBao Transit and AWS KMS, each behind its feature, from `[keys]` only.
async fn remote(keys: &KeysSection) -> Result<Arc<dyn KeyProvider>, KmsError> {
    match keys.provider.as_str() {
        #[cfg(feature = "vault")]
        "vault" => vault(keys),
        #[cfg(feature = "aws-kms")]
        "aws-kms" => aws(keys).await,
        other => Err(KmsError::Config {
            provider: "server",
            reason: format!(
                "provider {other:?} is not built into this server (cargo features: vault, aws-kms)"
            ),
        }),
    }
}

#[cfg(any(feature = "vault", feature = "aws-kms"))]
fn missing(provider: &'static str, what: &str) -> KmsError {
    KmsError::Config {
        provider,
        reason: format!("keys.{what} is not set (the keyring document's copy is never followed)"),
    }
}

#[cfg(feature = "vault")]
fn vault(keys: &KeysSection) -> Result<Arc<dyn KeyProvider>, KmsError> {
    let provider = fieldcrypt_kms_vault::PROVIDER;
    let address = keys
        .vault_address
        .as_deref()
        .ok_or_else(|| missing(provider, "vault_address"))?;
    let key = keys
        .vault_key
        .as_deref()
        .ok_or_else(|| missing(provider, "vault_key"))?;
    let mount = keys.vault_mount.as_deref().unwrap_or("transit");
    let config = fieldcrypt_kms_vault::VaultConfig::configured(
        address,
        mount,
        key,
        keys.vault_ca_cert.as_deref(),
    )?;
    Ok(Arc::new(fieldcrypt_kms_vault::VaultProvider::new(config)?))
}

/// Credentials come from the AWS SDK's default chain (environment, profile, instance or task
/// role, web identity), never from the configuration file.
#[cfg(feature = "aws-kms")]
async fn aws(keys: &KeysSection) -> Result<Arc<dyn KeyProvider>, KmsError> {
    let key = keys
        .aws_kms_key
        .as_deref()
        .ok_or_else(|| missing(fieldcrypt_kms_aws::PROVIDER, "aws_kms_key"))?;
    let mut config = fieldcrypt_kms_aws::AwsKmsConfig::new(key);
    config.region = keys.aws_region.clone();
    config.endpoint = keys.aws_endpoint.clone();
    Ok(Arc::new(
        fieldcrypt_kms_aws::AwsKmsProvider::connect(config).await?,
    ))
}
