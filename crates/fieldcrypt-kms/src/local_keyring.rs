//! A keyring file wrapped under a local master-key file: the embedded default, for development
//! and single-host deployments. The master key is the one the application names, or the default
//! place in the user's configuration directory; the path the keyring records is only a hint for
//! error messages (whoever can write the keyring could point it at a key of their own).
//! Synchronous: the master key is in memory, nothing waits.

use std::path::{Path, PathBuf};

use fieldcrypt::Suite;

use crate::error::KmsError;
use crate::local::{self, MasterKeyFile};
use crate::ready;
use crate::store::{FileStore, KeyringStore as _, Version};
use crate::unlocked::{Pins, UnlockedKeyring};

pub use crate::local::PATH_SETTING;

/// The environment variable that names the master-key file, for the CLI and for applications
/// alike.
pub const MASTER_KEY_VARIABLE: &str = "FIELDCRYPT_MASTER_KEY";

/// Whether a value of `FIELDCRYPT_MASTER_KEY` is a key rather than a path (an older setup used
/// the variable for the key itself): 43 base64url characters and no path separator. Such a value
/// is not used as a path, so it never reaches a file name or an error message.
fn looks_like_a_key(value: &std::ffi::OsStr) -> bool {
    value.to_str().is_some_and(|v| {
        v.len() == 43
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// The master-key file when the application names none: `FIELDCRYPT_MASTER_KEY` if set, else
/// `fieldcrypt/master.key` in the user's configuration directory, not beside the keyring (a
/// keyring next to its key protects nothing).
pub fn default_master_key_path() -> PathBuf {
    if let Some(path) =
        std::env::var_os(MASTER_KEY_VARIABLE).filter(|p| !p.is_empty() && !looks_like_a_key(p))
    {
        return PathBuf::from(path);
    }
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("fieldcrypt").join("master.key")
}

/// A keyring unwrapped from its file, with the master key that wraps it, ready to use and save.
pub struct LocalKeyring {
    unlocked: UnlockedKeyring,
    master: MasterKeyFile,
    store: FileStore,
    version: Option<Version>,
    created: bool,
}

impl core::fmt::Debug for LocalKeyring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("LocalKeyring")
            .field("path", &self.store.path())
            .field("master", &self.master)
            .field("keyring", &self.unlocked.keyring)
            .finish()
    }
}

fn pending() -> KmsError {
    KmsError::Config {
        provider: local::PROVIDER,
        reason: "internal: an in-process operation waited".to_owned(),
    }
}

impl LocalKeyring {
    /// Opens the keyring at `path` under the master key at `master_key` (default:
    /// [`default_master_key_path`]). The keyring must have been wrapped under that key (its
    /// fingerprint is compared before anything is unwrapped).
    pub fn open(path: impl AsRef<Path>, master_key: Option<&Path>) -> Result<Self, KmsError> {
        Self::open_pinned(path, master_key, &Pins::default())
    }

    /// [`Self::open`], refusing another keyring than the pinned one, or an older generation.
    pub fn open_pinned(
        path: impl AsRef<Path>,
        master_key: Option<&Path>,
        pins: &Pins,
    ) -> Result<Self, KmsError> {
        let path = path.as_ref();
        let store = FileStore::new(path);
        let stored = ready::now(store.load())
            .ok_or_else(pending)??
            .ok_or_else(|| KmsError::NoKeyring(store.describe()))?;
        let doc = &stored.document;
        if doc.kek.provider != local::PROVIDER {
            return Err(KmsError::UnsupportedProvider {
                path: path.to_owned(),
                provider: doc.kek.provider.clone(),
            });
        }
        let master_path = master_key.map_or_else(default_master_key_path, Path::to_owned);
        let master = MasterKeyFile::open_configured(&master_path, &doc.kek.settings, path)?;
        let unlocked =
            ready::now(UnlockedKeyring::open_pinned(doc, &master, pins)).ok_or_else(pending)??;
        Ok(Self {
            unlocked,
            master,
            store,
            version: Some(stored.version),
            created: false,
        })
    }

    /// Creates a keyring at `path` (refusing to overwrite one), and the master key at
    /// `master_key` (default [`default_master_key_path`]) unless it exists.
    pub fn create(
        path: impl AsRef<Path>,
        master_key: Option<&Path>,
        suite: Suite,
    ) -> Result<Self, KmsError> {
        let path = path.as_ref();
        if path.exists() {
            return Err(KmsError::KeyringExists(path.to_owned()));
        }
        let master_path = master_key.map_or_else(default_master_key_path, Path::to_owned);
        let master = MasterKeyFile::open_or_create(&master_path)?;
        let unlocked =
            ready::now(UnlockedKeyring::generate(&master, suite)).ok_or_else(pending)??;
        let mut created = Self {
            unlocked,
            master,
            store: FileStore::new(path),
            version: None,
            created: true,
        };
        created.save()?;
        Ok(created)
    }

    /// Opens the keyring at `path`, creating it (and its master key) on first use.
    pub fn open_or_create(
        path: impl AsRef<Path>,
        master_key: Option<&Path>,
        suite: Suite,
    ) -> Result<Self, KmsError> {
        let path = path.as_ref();
        if path.exists() {
            Self::open(path, master_key)
        } else {
            Self::create(path, master_key, suite)
        }
    }

    /// The keys.
    pub fn keyring(&self) -> &fieldcrypt::Keyring {
        &self.unlocked.keyring
    }

    /// The keys, to rotate or retire (then [`Self::save`]).
    pub fn keyring_mut(&mut self) -> &mut fieldcrypt::Keyring {
        &mut self.unlocked.keyring
    }

    /// The keys alone.
    pub fn into_keyring(self) -> fieldcrypt::Keyring {
        self.unlocked.into_keyring()
    }

    /// Wraps the keyring and replaces the file atomically, unless someone else changed it since
    /// it was read ([`KmsError::Conflict`]; nothing written).
    pub fn save(&mut self) -> Result<(), KmsError> {
        let doc = self.unlocked.to_document()?;
        let version =
            ready::now(self.store.save(&doc, self.version.as_ref())).ok_or_else(pending)??;
        self.version = Some(version);
        self.unlocked.saved();
        Ok(())
    }

    /// Retires data key `id` under a fresh document KEK and saves (see
    /// [`UnlockedKeyring::retire`]).
    pub fn retire(&mut self, id: fieldcrypt::KeyId) -> Result<(), KmsError> {
        ready::now(self.unlocked.retire(&self.master, id)).ok_or_else(pending)??;
        self.save()
    }

    /// The generation of the keyring file as last read or saved (pin it to refuse older copies).
    pub fn generation(&self) -> u64 {
        self.unlocked.generation()
    }

    /// The keyring file.
    pub fn path(&self) -> &Path {
        self.store.path()
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

#[cfg(test)]
mod tests {
    use super::looks_like_a_key;

    #[test]
    fn a_key_in_the_path_variable_is_not_taken_for_a_path() {
        let key = "qdLoRk0L6yXPSlJjAa0pRzN2G5m3cCv0pO5V9bTnq0Q";
        assert!(looks_like_a_key(key.as_ref()));
        assert!(!looks_like_a_key("/etc/app/master.key".as_ref()));
        assert!(!looks_like_a_key("master.key".as_ref()));
    }
}
