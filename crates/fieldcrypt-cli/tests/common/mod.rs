//! Helpers shared by the CLI's integration tests.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::{Command, Output};

/// The `fieldcrypt` binary with the keyring and master key in `dir`, to spawn.
pub(crate) fn command(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldcrypt"));
    cmd.args(args)
        .env("FIELDCRYPT_KEYRING", dir.join("keyring.json"))
        .env("FIELDCRYPT_MASTER_KEY", dir.join("secret/master.key"));
    cmd
}

/// Runs the `fieldcrypt` binary with the keyring and master key in `dir`.
pub(crate) fn fieldcrypt(dir: &Path, args: &[&str]) -> Output {
    command(dir, args).output().unwrap()
}

/// Output bytes as text, for messages.
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The verification line of a job's summary without its count of values taken as written (that
/// count depends on which values the one-in-64 sample opened anyway).
pub(crate) fn verification_line(stdout: &str) -> String {
    const END: &str = "the rest opened)";
    let line = stdout
        .lines()
        .find(|l| l.starts_with("verification: "))
        .unwrap_or_default();
    match (line.find(" ("), line.find(END)) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{}", &line[..start], &line[end + END.len()..])
        }
        _ => line.to_owned(),
    }
}
