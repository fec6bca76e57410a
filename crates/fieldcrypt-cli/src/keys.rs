//! Finding the master key and the keyring from the command line.

use anyhow::{Context as _, Result};
use fieldcrypt_kms::LocalKeyring;

use crate::cli::KeyringArg;

/// Loads the keyring named on the command line.
pub(crate) fn load(arg: &KeyringArg) -> Result<LocalKeyring> {
    LocalKeyring::open(&arg.keyring, arg.master_key.as_deref())
        .with_context(|| format!("opening keyring {}", arg.keyring.display()))
}

/// Creates a new keyring (and the master key if needed). Refuses to overwrite a keyring.
pub(crate) fn init(arg: &KeyringArg, suite: fieldcrypt::Suite) -> Result<LocalKeyring> {
    Ok(LocalKeyring::create(
        &arg.keyring,
        arg.master_key.as_deref(),
        suite,
    )?)
}
