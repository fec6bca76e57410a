//! A keyring file wrapped under a local master-key file: the embedded default, for development
//! and single-host deployments. The keyring records where its master key is, so that naming the
//! keyring is enough to open it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fieldcrypt::{Keyring, Suite};

use crate::error::KmsError;
use crate::keyring_file;
use crate::local::{self, MasterKeyFile};

/// The keyring setting that records the master key's path.
pub const PATH_SETTING: &str = "path";

/// Where a new keyring's master key goes when none is named: the user's configuration directory,
/// not beside the keyring (a keyring next to its key protects nothing).
pub fn default_master_key_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("fieldcrypt").join("master.key")
}

/// A keyring unwrapped from its file, with the master key that wraps it, ready to use and save.
pub struct LocalKeyring {
    /// The keys.
    pub keyring: Keyring,
    master: MasterKeyFile,
    path: PathBuf,
    created: bool,
}

impl LocalKeyring {
    /// Opens the keyring at `path`; its master key is `master_key`, or else the path the keyring
    /// recorded when it was created.
    pub fn open(path: &Path, master_key: Option<&Path>) -> Result<Self, KmsError> {
        let doc = keyring_file::read_document(path)?;
        if doc.kek.provider != local::PROVIDER {
            return Err(KmsError::UnsupportedProvider {
                path: path.to_owned(),
                provider: doc.kek.provider.clone(),
            });
        }
        let master_path = match master_key {
            Some(p) => p.to_owned(),
            None => doc
                .kek
                .settings
                .get(PATH_SETTING)
                .and_then(|v| v.as_str())
                .map(PathBuf::from)
                .ok_or_else(|| KmsError::NoMasterKeyPath(path.to_owned()))?,
        };
        let master = MasterKeyFile::open(&master_path)?;
        let keyring = Keyring::from_document(&doc, master.kek())?;
        Ok(Self {
            keyring,
            master,
            path: path.to_owned(),
            created: false,
        })
    }

    /// Creates a keyring at `path` (refusing to overwrite one), and the master key at
    /// `master_key` (default [`default_master_key_path`]) unless it exists.
    pub fn create(path: &Path, master_key: Option<&Path>, suite: Suite) -> Result<Self, KmsError> {
        if path.exists() {
            return Err(KmsError::KeyringExists(path.to_owned()));
        }
        let master_path = master_key.map_or_else(default_master_key_path, Path::to_owned);
        let master = MasterKeyFile::open_or_create(&master_path)?;
        let created = Self {
            keyring: Keyring::generate(suite)?,
            master,
            path: path.to_owned(),
            created: true,
        };
        created.save()?;
        Ok(created)
    }

    /// Opens the keyring at `path`, creating it (and its master key) on first use.
    pub fn open_or_create(
        path: &Path,
        master_key: Option<&Path>,
        suite: Suite,
    ) -> Result<Self, KmsError> {
        if path.exists() {
            Self::open(path, master_key)
        } else {
            Self::create(path, master_key, suite)
        }
    }

    /// Wraps the keyring under the master key and replaces the file atomically.
    pub fn save(&self) -> Result<(), KmsError> {
        let master = std::path::absolute(self.master.path())
            .unwrap_or_else(|_| self.master.path().to_owned());
        let settings = BTreeMap::from([(
            PATH_SETTING.to_owned(),
            serde_json::Value::String(master.display().to_string()),
        )]);
        keyring_file::save(
            &self.path,
            &self.keyring,
            self.master.kek(),
            local::PROVIDER,
            settings,
        )
    }

    /// The keyring file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The master-key file.
    pub fn master_key_path(&self) -> &Path {
        self.master.path()
    }

    /// Whether this call created the keyring.
    pub fn was_created(&self) -> bool {
        self.created
    }

    /// Whether this call created the master key as well.
    pub fn created_master_key(&self) -> bool {
        self.master.was_created()
    }
}
