//! Helpers shared by the CLI's integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs the `fieldcrypt` binary with the keyring and master key in `dir`.
pub(crate) fn fieldcrypt(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldcrypt"))
        .args(args)
        .env("FIELDCRYPT_KEYRING", dir.join("keyring.json"))
        .env("FIELDCRYPT_MASTER_KEY", dir.join("secret/master.key"))
        .output()
        .unwrap()
}

/// Output bytes as text, for messages.
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
