//! Finding the master key and the keyring from the command line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use fieldcrypt::Keyring;
use fieldcrypt_kms::{keyring_file, local};

use crate::cli::KeyringArg;

/// The setting under which a keyring records where its master key is.
const PATH_SETTING: &str = "path";

/// Where a new keyring's master key goes when none is named: the user's config directory, not
/// beside the keyring (a keyring next to its key protects nothing).
pub(crate) fn default_master_key_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("fieldcrypt").join("master.key")
}

fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_owned())
}

/// A keyring loaded with its master key, ready to use and to save back.
pub(crate) struct Loaded {
    pub(crate) keyring: Keyring,
    pub(crate) master: local::MasterKeyFile,
    pub(crate) path: PathBuf,
}

impl Loaded {
    pub(crate) fn save(&self) -> Result<()> {
        keyring_file::save(
            &self.path,
            &self.keyring,
            self.master.kek(),
            local::PROVIDER,
            settings(self.master.path()),
        )
        .with_context(|| format!("saving {}", self.path.display()))
    }
}

fn settings(master: &Path) -> BTreeMap<String, serde_json::Value> {
    BTreeMap::from([(
        PATH_SETTING.to_owned(),
        serde_json::Value::String(absolute(master).display().to_string()),
    )])
}

/// Loads the keyring named on the command line.
pub(crate) fn load(arg: &KeyringArg) -> Result<Loaded> {
    let doc = keyring_file::read_document(&arg.keyring)?;
    let master_path = match &arg.master_key {
        Some(p) => p.clone(),
        None => match doc.kek.settings.get(PATH_SETTING).and_then(|v| v.as_str()) {
            Some(p) => PathBuf::from(p),
            None => anyhow::bail!(
                "{} does not say where its master key is; pass --master-key",
                arg.keyring.display()
            ),
        },
    };
    if doc.kek.provider != local::PROVIDER {
        anyhow::bail!(
            "{} is wrapped by provider {:?}, which this build does not have",
            arg.keyring.display(),
            doc.kek.provider
        );
    }
    let master = local::MasterKeyFile::open(&master_path)?;
    let keyring = Keyring::from_document(&doc, master.kek())
        .with_context(|| format!("unwrapping {}", arg.keyring.display()))?;
    Ok(Loaded {
        keyring,
        master,
        path: arg.keyring.clone(),
    })
}

/// Creates a new keyring (and the master key if needed). Refuses to overwrite a keyring.
pub(crate) fn init(arg: &KeyringArg, suite: fieldcrypt::Suite) -> Result<Loaded> {
    if arg.keyring.exists() {
        return Err(fieldcrypt_kms::KmsError::KeyringExists(arg.keyring.clone()).into());
    }
    let master_path = arg
        .master_key
        .clone()
        .unwrap_or_else(default_master_key_path);
    let master = local::MasterKeyFile::open_or_create(&master_path)?;
    let loaded = Loaded {
        keyring: Keyring::generate(suite)?,
        master,
        path: arg.keyring.clone(),
    };
    loaded.save()?;
    Ok(loaded)
}
