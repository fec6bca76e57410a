//! Where keyring documents are kept: a [`KeyringStore`] holds only wrapped keys. Writes are
//! compare-and-swap on the version read, so two operators rotating at once cannot lose each
//! other's keys: the second write fails with [`KmsError::Conflict`] and writes nothing.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use fieldcrypt::KeyringDocument;

use crate::error::KmsError;
use crate::keyring_file;

/// A stored document and the version it was read at.
#[derive(Debug, Clone)]
pub struct Stored {
    /// The document.
    pub document: KeyringDocument,
    /// Opaque; pass it back to [`KeyringStore::save`].
    pub version: Version,
}

/// A store's version of a document: a counter in a database row, the bytes of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Version {
    /// A row's counter.
    Counter(i64),
    /// A file's exact contents.
    Contents(String),
}

/// Storage for one keyring document.
#[async_trait]
pub trait KeyringStore: Send + Sync {
    /// A human-readable name for messages (`file /etc/app/keyring.json`, `table fieldcrypt_keys
    /// row "default"`).
    fn describe(&self) -> String;

    /// The stored document, or `None` when there is none yet.
    async fn load(&self) -> Result<Option<Stored>, KmsError>;

    /// Stores `document` if the stored version is still `replaces` (`None`: only if there is no
    /// document yet). All or nothing.
    async fn save(
        &self,
        document: &KeyringDocument,
        replaces: Option<&Version>,
    ) -> Result<Version, KmsError>;
}

/// A keyring document in a JSON file, replaced atomically (write, fsync, rename) under an
/// advisory lock on a sidecar `.lock` file.
#[derive(Debug, Clone)]
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    /// The store at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn read(&self) -> Result<Option<String>, KmsError> {
        match std::fs::read_to_string(&self.path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(KmsError::Io {
                path: self.path.clone(),
                source: e,
            }),
        }
    }

    fn lock(&self) -> Result<std::fs::File, KmsError> {
        let mut name = self.path.file_name().unwrap_or_default().to_os_string();
        name.push(".lock");
        let lock_path = self.path.with_file_name(name);
        if let Some(dir) = lock_path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(KmsError::io(dir))?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(KmsError::io(&lock_path))?;
        file.lock().map_err(KmsError::io(&lock_path))?;
        Ok(file)
    }

    fn save_now(
        &self,
        document: &KeyringDocument,
        replaces: Option<&Version>,
    ) -> Result<Version, KmsError> {
        let _lock = self.lock()?;
        let current = self.read()?;
        let expected = match replaces {
            None => None,
            Some(Version::Contents(text)) => Some(text),
            Some(Version::Counter(_)) => return Err(KmsError::Conflict(self.describe())),
        };
        if current.as_ref() != expected {
            return Err(KmsError::Conflict(self.describe()));
        }
        let text = keyring_file::write_document(&self.path, document)?;
        Ok(Version::Contents(text))
    }
}

#[async_trait]
impl KeyringStore for FileStore {
    fn describe(&self) -> String {
        format!("file {}", self.path.display())
    }

    async fn load(&self) -> Result<Option<Stored>, KmsError> {
        let Some(text) = self.read()? else {
            return Ok(None);
        };
        let document = keyring_file::parse_document(&self.path, &text)?;
        Ok(Some(Stored {
            document,
            version: Version::Contents(text),
        }))
    }

    async fn save(
        &self,
        document: &KeyringDocument,
        replaces: Option<&Version>,
    ) -> Result<Version, KmsError> {
        self.save_now(document, replaces)
    }
}
