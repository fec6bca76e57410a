//! A key-encryption key in a local file.
//!
//! The file is one line, `fieldcrypt-master-key-v1:` followed by the key in unpadded base64url.
//! It is created with mode 0600 (in a directory created 0700) and refused when group- or
//! world-readable. Keep it off the database host's backups and out of the application's
//! repository; for production, prefer a KMS provider.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::SecretKey;
use zeroize::Zeroize;

use crate::error::KmsError;
use crate::private_file::write_new_private;
use crate::provider::{KeyProvider, Settings, WrapContext};
use crate::providers::local_kek::HeldKey;

const PREFIX: &str = "fieldcrypt-master-key-v1:";

/// The provider name recorded in keyring documents.
pub const PROVIDER: &str = "local";
/// The setting that records the master-key file's absolute path.
pub const PATH_SETTING: &str = "path";

/// A master key read from (or created in) a file.
pub struct MasterKeyFile {
    path: PathBuf,
    key: HeldKey,
    created: bool,
}

impl core::fmt::Debug for MasterKeyFile {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MasterKeyFile")
            .field("path", &self.path)
            .field("key", &self.key)
            .finish()
    }
}

impl MasterKeyFile {
    /// Reads the master key at `path`, refusing files that others can read.
    pub fn open(path: &Path) -> Result<Self, KmsError> {
        check_private(path)?;
        let mut text = std::fs::read_to_string(path).map_err(KmsError::io(path))?;
        let key = parse(&text).ok_or_else(|| KmsError::BadMasterKeyFile {
            path: path.to_owned(),
        });
        text.zeroize();
        let key = key?;
        Ok(Self {
            path: path.to_owned(),
            key: HeldKey::new(&key),
            created: false,
        })
    }

    /// Reads the master key at `path`, or creates one there (mode 0600) if there is none.
    pub fn open_or_create(path: &Path) -> Result<Self, KmsError> {
        match Self::create(path) {
            Ok(created) => Ok(created),
            Err(KmsError::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists =>
            {
                Self::open(path)
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a new master key at `path`; fails if the file exists.
    pub fn create(path: &Path) -> Result<Self, KmsError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let key = SecretKey::generate()?;
        let mut line = format!("{PREFIX}{}\n", URL_SAFE_NO_PAD.encode(key.expose()));
        let written = write_new_private(path, line.as_bytes());
        line.zeroize();
        written?;
        Ok(Self {
            path: path.to_owned(),
            key: HeldKey::new(&key),
            created: true,
        })
    }

    /// The master key's fingerprint (FORMAT.md section 10.2), to tell keys apart.
    pub fn fingerprint(&self) -> String {
        self.key.fingerprint()
    }

    /// [`KeyProvider::wrap`] without an executor: the key is in memory.
    pub fn wrap_now(&self, context: &WrapContext, key: &SecretKey) -> Result<Vec<u8>, KmsError> {
        self.key.wrap(context, key)
    }

    /// [`KeyProvider::unwrap`] without an executor: the key is in memory.
    pub fn unwrap_now(&self, context: &WrapContext, wrapped: &[u8]) -> Result<SecretKey, KmsError> {
        self.key.unwrap(PROVIDER, context, wrapped)
    }

    /// Where the key is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether this call created the file.
    pub fn was_created(&self) -> bool {
        self.created
    }
}

#[async_trait]
impl KeyProvider for MasterKeyFile {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    fn settings(&self) -> Settings {
        let path = std::path::absolute(&self.path).unwrap_or_else(|_| self.path.clone());
        let mut s = Settings::new();
        s.insert(
            PATH_SETTING.to_owned(),
            serde_json::Value::String(path.display().to_string()),
        );
        self.key.record(&mut s);
        s
    }

    async fn wrap(&self, context: &WrapContext, key: &SecretKey) -> Result<Vec<u8>, KmsError> {
        self.wrap_now(context, key)
    }

    async fn unwrap(&self, context: &WrapContext, wrapped: &[u8]) -> Result<SecretKey, KmsError> {
        self.unwrap_now(context, wrapped)
    }
}

fn parse(text: &str) -> Option<SecretKey> {
    let b64 = text.trim_end_matches(['\n', '\r']).strip_prefix(PREFIX)?;
    let mut bytes = URL_SAFE_NO_PAD.decode(b64).ok()?;
    let key = SecretKey::from_slice(&bytes).ok();
    bytes.zeroize();
    key
}

/// Refuses a key file that group or others can read (Unix); elsewhere there is nothing to check.
pub fn check_private(path: &Path) -> Result<(), KmsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(path)
            .map_err(KmsError::io(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(KmsError::InsecurePermissions {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
    }
    Ok(())
}

fn create_private_dir(dir: &Path) -> Result<(), KmsError> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(KmsError::io(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_private_and_reopened() -> Result<(), KmsError> {
        let dir = tempfile::tempdir().map_err(KmsError::io(Path::new("tmp")))?;
        let path = dir.path().join("keys/master.key");
        let first = MasterKeyFile::open_or_create(&path)?;
        assert!(first.was_created());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .map_err(KmsError::io(&path))?
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let again = MasterKeyFile::open_or_create(&path)?;
        assert!(!again.was_created());
        assert_eq!(first.fingerprint(), again.fingerprint());
        Ok(())
    }

    #[cfg(unix)]
    #[test]
    fn readable_by_others_is_refused_with_the_fix() -> Result<(), KmsError> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().map_err(KmsError::io(Path::new("tmp")))?;
        let path = dir.path().join("master.key");
        MasterKeyFile::create(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644))
            .map_err(KmsError::io(&path))?;
        let err = MasterKeyFile::open(&path)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("chmod 600"), "{err}");
        Ok(())
    }

    #[test]
    fn garbage_is_refused() -> Result<(), KmsError> {
        let dir = tempfile::tempdir().map_err(KmsError::io(Path::new("tmp")))?;
        let path = dir.path().join("master.key");
        write_new_private(&path, b"not a key\n")?;
        assert!(matches!(
            MasterKeyFile::open(&path),
            Err(KmsError::BadMasterKeyFile { .. })
        ));
        Ok(())
    }
}
