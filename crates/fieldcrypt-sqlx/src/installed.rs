//! The keyring that transparent columns use, installed once at start-up.
//!
//! sqlx decodes a column without any state of the application's, so [`Encrypted`](crate::Encrypted)
//! can only find its keyring in the process. Installing again replaces it (after a rotation, say);
//! values being sealed or opened at that moment finish with the keyring they started with.

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
