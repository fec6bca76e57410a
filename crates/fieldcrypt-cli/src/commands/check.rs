//! `fieldcrypt keyring check`: what a misconfiguration would cost, before it costs it.

use std::path::{Path, PathBuf};

use anyhow::Result;
use fieldcrypt_kms::keyring_file;

use crate::cli::KeyringArg;
use crate::keys;

struct Findings(Vec<String>);

impl Findings {
    fn problem(&mut self, what: String) {
        println!("PROBLEM  {what}");
        self.0.push(what);
    }
}

fn ok(what: &str) {
    println!("ok       {what}");
}

#[cfg(unix)]
fn others_can_read(path: &Path) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (mode & 0o077 != 0).then_some(mode & 0o777)
}

#[cfg(not(unix))]
fn others_can_read(_: &Path) -> Option<u32> {
    None
}

fn directory(path: &Path) -> Option<PathBuf> {
    std::path::absolute(path).ok()?.parent().map(Path::to_owned)
}

fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

pub(crate) fn run(arg: &KeyringArg, database_url: Option<&str>, unwrap: bool) -> Result<()> {
    let mut found = Findings(Vec::new());
    let doc = keyring_file::read_document(&arg.keyring)?;
    println!(
        "keyring {} (id {}), provider {}",
        arg.keyring.display(),
        doc.keyring_id,
        doc.kek.provider
    );
    match others_can_read(&arg.keyring) {
        Some(mode) => found.problem(format!(
            "the keyring file is readable by group or others (mode {mode:o}); it holds only wrapped keys, but whoever also gets the provider's key gets every value: chmod 600 {}",
            arg.keyring.display()
        )),
        None => ok("the keyring file is private"),
    }
    let database = database_url.and_then(sqlite_path);
    match doc.kek.provider.as_str() {
        "local" => {
            let master = arg.master_key.clone().or_else(|| {
                doc.kek
                    .settings
                    .get("path")
                    .and_then(|v| v.as_str())
                    .map(PathBuf::from)
            });
            match master {
                None => found.problem("the keyring names no master-key file".to_owned()),
                Some(master) => {
                    match others_can_read(&master) {
                        Some(mode) => found.problem(format!(
                            "master key {} is readable by group or others (mode {mode:o}): chmod 600 {}",
                            master.display(),
                            master.display()
                        )),
                        None if master.exists() => ok("the master-key file is private"),
                        None => found.problem(format!("master key {} does not exist", master.display())),
                    }
                    if directory(&master) == directory(&arg.keyring) {
                        found.problem(format!(
                            "master key {} is in the same directory as the keyring: one copy of the directory (a backup, an image) holds both, and the keys protect nothing",
                            master.display()
                        ));
                    }
                    if let Some(db) = &database
                        && directory(&master) == directory(db)
                    {
                        found.problem(format!(
                            "master key {} is in the same directory as the database {}: a copy of the data carries its key",
                            master.display(),
                            db.display()
                        ));
                    }
                    println!(
                        "note     a local master key is for development and single hosts; production keys belong in a KMS (--provider aws-kms or vault)"
                    );
                }
            }
        }
        "env" => {
            let var = doc
                .kek
                .settings
                .get("variable")
                .and_then(|v| v.as_str())
                .unwrap_or("FIELDCRYPT_KEK");
            found.problem(format!(
                "the key-encryption key is plaintext in environment variable {var}: a long-running process exposes it in /proc/<pid>/environ to its user, to every child process it starts and to crash reports; prefer a KMS (--provider aws-kms or vault) or at least a private master-key file"
            ));
        }
        "passphrase" => {
            let memory = doc
                .kek
                .settings
                .get("memory_kib")
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            let passes = doc
                .kek
                .settings
                .get("iterations")
                .and_then(|v| v.as_u64())
                .unwrap_or(0);
            if memory < 65_536 || passes < 2 {
                found.problem(format!(
                    "Argon2id parameters (m={memory} KiB, t={passes}) are below 64 MiB and 2 passes: a guessed passphrase is cheap to test; rewrap to recalibrate"
                ));
            } else {
                ok("Argon2id parameters");
            }
        }
        "vault" => {
            let address = doc
                .kek
                .settings
                .get("address")
                .and_then(|v| v.as_str())
                .unwrap_or("");
            if address.starts_with("http://")
                && !address.starts_with("http://127.0.0.1")
                && !address.starts_with("http://localhost")
            {
                found.problem(format!(
                    "Vault address {address} is plain HTTP: the keyring's KEK crosses the network unencrypted; use https"
                ));
            } else {
                ok("Vault address uses TLS or loopback");
            }
        }
        "aws-kms" => {
            let setting = |n: &str| {
                doc.kek
                    .settings
                    .get(n)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
            };
            if std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some()
                && std::env::var_os("AWS_SESSION_TOKEN").is_none()
            {
                found.problem(
                    "long-term AWS access keys are in environment variables (AWS_SECRET_ACCESS_KEY without a session token): whoever reads this process's environment can call KMS as it, from anywhere, until the keys are deleted; use an instance, task or pod role, or SSO".to_owned(),
                );
            }
            let endpoint = std::env::var("AWS_ENDPOINT_URL_KMS")
                .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
                .unwrap_or_default();
            if endpoint.starts_with("http://")
                && !endpoint.starts_with("http://127.0.0.1")
                && !endpoint.starts_with("http://localhost")
            {
                found.problem(format!(
                    "KMS endpoint {endpoint} is plain HTTP: the keyring's KEK crosses the network unencrypted; use https"
                ));
            }
            let key = setting("key_id");
            if key.starts_with("alias/") || key.contains(":alias/") {
                println!(
                    "note     the keyring names KMS alias {key}: pointing the alias at another key makes this keyring stop opening until it is pointed back; a key ARN does not move"
                );
            }
            ok(&format!("KMS key {key} in region {}", setting("region")));
        }
        other => found.problem(format!("unknown provider {other:?}")),
    }
    if unwrap {
        match keys::load(arg) {
            Ok(loaded) => ok(&format!(
                "the keyring opens through its provider: {} data key(s), MAC verified",
                loaded.keyring().keys().count()
            )),
            Err(e) => found.problem(format!("the keyring does not open: {e:#}")),
        }
    }
    if found.0.is_empty() {
        println!("no problems found");
        Ok(())
    } else {
        anyhow::bail!(CheckFailed(found.0.len()))
    }
}

/// `keyring check` found problems.
#[derive(Debug, thiserror::Error)]
#[error("{0} problem(s) found")]
pub(crate) struct CheckFailed(pub(crate) usize);
