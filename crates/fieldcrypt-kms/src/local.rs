//! A key-encryption key in a local file.
//!
//! The file is one line, `fieldcrypt-master-key-v1:` followed by the key in unpadded base64url.
//! It is created with mode 0600 (in a directory created 0700). On reading it is opened once and
//! checked on that descriptor: refused unless this process's effective user owns it and group
//! and others have no permission on it (a key file someone else could have written would let
//! them choose the key). Keep it off the database host's backups and out of the application's
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
/// More than a master-key file ever holds (69 bytes and a line ending).
const MAX_FILE_LEN: usize = 256;

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
    /// Reads the master key at `path`, refusing a file that another user owns or that group or
    /// others may read or write. The file is opened once; the checks and the read use that
    /// descriptor, so the file cannot be swapped between them.
    pub fn open(path: &Path) -> Result<Self, KmsError> {
        use std::io::Read as _;
        let file = std::fs::File::open(path).map_err(KmsError::io(path))?;
        check_private(&file, path)?;
        // One line of 69 bytes; a file longer than MAX_FILE_LEN is not a master-key file (one
        // byte more is read to tell).
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(MAX_FILE_LEN + 1));
        file.take(MAX_FILE_LEN as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(KmsError::io(path))?;
        let key = (bytes.len() <= MAX_FILE_LEN)
            .then(|| std::str::from_utf8(&bytes).ok())
            .flatten()
            .and_then(parse)
            .ok_or_else(|| KmsError::BadMasterKeyFile {
                path: path.to_owned(),
            })?;
        Ok(Self {
            path: path.to_owned(),
            key: HeldKey::new(&key),
            created: false,
        })
    }

    /// [`Self::open`] for a keyring whose document `recorded` these settings: when the file is
    /// missing and the document recorded another path, the error says so. That path is never
    /// opened: whoever can write the document could point it at a key of their own.
    /// A missing file is named as the master key of `keyring`, which needs it.
    pub fn open_configured(
        path: &Path,
        recorded: &Settings,
        keyring: &Path,
    ) -> Result<Self, KmsError> {
        Self::open(path).map_err(|error| {
            let recorded = recorded.get(PATH_SETTING).and_then(|v| v.as_str());
            let missing = matches!(&error, KmsError::Io { source, .. }
                if source.kind() == std::io::ErrorKind::NotFound);
            match recorded {
                Some(recorded) if missing && Path::new(recorded) != path => {
                    KmsError::MasterKeyElsewhere {
                        configured: path.to_owned(),
                        recorded: recorded.to_owned(),
                    }
                }
                _ if missing => KmsError::NoMasterKey {
                    master: path.to_owned(),
                    keyring: keyring.to_owned(),
                },
                _ => error,
            }
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

    fn informational_settings(&self) -> &'static [&'static str] {
        // The file used is the configured one; the recorded path only helps people find it.
        &[PATH_SETTING]
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

/// Refuses an opened key file that this process's effective user does not own, or that group or
/// others may read or write (Unix, checked with `fstat` on the descriptor); elsewhere there is
/// nothing to check.
pub fn check_private(file: &std::fs::File, path: &Path) -> Result<(), KmsError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        let meta = file.metadata().map_err(KmsError::io(path))?;
        let euid = rustix::process::geteuid().as_raw();
        if meta.uid() != euid {
            return Err(KmsError::ForeignOwner {
                path: path.to_owned(),
                owner: meta.uid(),
                euid,
            });
        }
        let mode = meta.mode();
        if mode & 0o077 != 0 {
            return Err(KmsError::InsecurePermissions {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
    }
    #[cfg(not(unix))]
    let _ = (file, path);
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

    #[cfg(unix)]
    #[test]
    fn writable_by_others_or_owned_by_another_user_is_refused() -> Result<(), KmsError> {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().map_err(KmsError::io(Path::new("tmp")))?;
        let path = dir.path().join("master.key");
        MasterKeyFile::create(&path)?;
        // Group-writable (not readable): someone else could replace the key.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o620))
            .map_err(KmsError::io(&path))?;
        assert!(matches!(
            MasterKeyFile::open(&path),
            Err(KmsError::InsecurePermissions { mode: 0o620, .. })
        ));
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
            .map_err(KmsError::io(&path))?;
        // Owned by another user, mode 0600: what a container running as root would have read.
        // Only root can give a file away, so this part runs as root (as CI does) or says so.
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&path, Some(65_534), None).map_err(KmsError::io(&path))?;
            let error = MasterKeyFile::open(&path).err();
            assert!(
                matches!(
                    error,
                    Some(KmsError::ForeignOwner {
                        owner: 65_534,
                        euid: 0,
                        ..
                    })
                ),
                "{error:?}"
            );
        } else {
            eprintln!("SKIPPED the foreign-owner case: only root can chown a file to another user");
        }
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
        // A valid key followed by line endings past 256 bytes: refused as a whole, not read
        // in part.
        let good = dir.path().join("good.key");
        MasterKeyFile::create(&good)?;
        let mut long = std::fs::read(&good).map_err(KmsError::io(&good))?;
        let fits = long.len();
        long.resize(MAX_FILE_LEN, b'\n');
        let exact = dir.path().join("exact.key");
        write_new_private(&exact, &long)?;
        assert!(
            MasterKeyFile::open(&exact).is_ok(),
            "{fits} + newlines = 256 bytes"
        );
        long.push(b'\n');
        let over = dir.path().join("over.key");
        write_new_private(&over, &long)?;
        assert!(matches!(
            MasterKeyFile::open(&over),
            Err(KmsError::BadMasterKeyFile { .. })
        ));
        Ok(())
    }
}
