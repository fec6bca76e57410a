//! The keyring that transparent columns use, installed once at start-up.
//!
//! sqlx decodes a column without any state of the application's, so [`Encrypted`](crate::Encrypted)
//! can only find its keyring in the process. Installing again replaces it (after a rotation, say);
//! values being sealed or opened at that moment finish with the keyring they started with.

use std::path::Path;
use std::sync::{Arc, PoisonError, RwLock};

use fieldcrypt::Keyring;

use crate::error::Error;

static INSTALLED: RwLock<Option<Arc<Keyring>>> = RwLock::new(None);

/// Installs `keyring` for every [`Encrypted`](crate::Encrypted) column in the process, replacing
/// the one installed before. Returns the shared handle, for explicit use elsewhere.
pub fn install(keyring: Keyring) -> Arc<Keyring> {
    let shared = Arc::new(keyring);
    install_shared(Arc::clone(&shared));
    shared
}

/// Installs an already shared keyring.
pub fn install_shared(keyring: Arc<Keyring>) {
    *INSTALLED.write().unwrap_or_else(PoisonError::into_inner) = Some(keyring);
}

/// The installed keyring, or [`Error::NoKeyring`].
pub fn installed() -> Result<Arc<Keyring>, Error> {
    INSTALLED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
        .ok_or(Error::NoKeyring)
}

/// Opens the application's keyring file, creating it (and, if there is none, its master key)
/// on first use, and installs it; returns the shared handle for explicit use ([`Sealed`]).
///
/// The master key is `FIELDCRYPT_MASTER_KEY` when set, else `fieldcrypt/master.key` in the
/// user's configuration directory (`$XDG_CONFIG_HOME` or `~/.config`): never beside the keyring,
/// and never the path the keyring file records. New keyrings use the default suite
/// (KC-XAES-256-GCM). For a KMS, Vault or a keys table, open an
/// [`UnlockedKeyring`](fieldcrypt_kms::UnlockedKeyring) or a
/// [`ManagedKeyring`](fieldcrypt_kms::ManagedKeyring) and [`install`] its keyring instead.
///
/// [`Sealed`]: crate::Sealed
///
/// ```no_run
/// # fn main() -> Result<(), fieldcrypt_kms::KmsError> {
/// let keyring = fieldcrypt_sqlx::install_local("data/keyring.json")?;
/// # Ok(()) }
/// ```
pub fn install_local(keyring: impl AsRef<Path>) -> Result<Arc<Keyring>, fieldcrypt_kms::KmsError> {
    let local = fieldcrypt_kms::LocalKeyring::open_or_create(keyring, None, Default::default())?;
    Ok(install(local.into_keyring()))
}
