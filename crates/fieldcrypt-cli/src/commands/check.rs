//! `fieldcrypt keyring check`: what a misconfiguration would cost, before it costs it.
//!
//! It checks the configuration (where the provider's key is, how it is reached) and compares the
//! keyring document with it, as opening would, without calling the provider unless `--unwrap`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use fieldcrypt_kms::keyring_file;
use fieldcrypt_kms::providers::passphrase::KdfParams;
use fieldcrypt_kms::unlocked::{GENERATION_SETTING, check_settings};

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

/// Whether `address` would send keys anywhere but over HTTPS or plain HTTP to this machine. The
/// host is parsed, not matched by prefix: `http://localhost.evil.example` is not loopback.
pub(crate) fn plain_http_off_loopback(address: &str) -> bool {
    let Ok(url) = url::Url::parse(address) else {
        return !address.starts_with("https://");
    };
    match url.scheme() {
        "https" => return false,
        "http" => {}
        // Not an http(s) URL at all (`vault.example:8200` parses with scheme `vault.example`).
        _ => return true,
    }
    match url.host() {
        Some(url::Host::Domain(name)) => !name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => !ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => !ip.is_loopback(),
        None => true,
    }
}

pub(crate) fn run(arg: &KeyringArg, database_url: Option<&str>, unwrap: bool) -> Result<()> {
    let mut found = Findings(Vec::new());
    let doc = keyring_file::read_document(&arg.keyring)?;
    let generation = doc
        .kek
        .settings
        .get(GENERATION_SETTING)
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0);
    println!(
        "keyring {} (id {}), provider {}, generation {generation}",
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
    match (&arg.keyring_id, arg.min_generation) {
        (None, None) => println!(
            "note     nothing pins this keyring: set FIELDCRYPT_KEYRING_ID={} and FIELDCRYPT_KEYRING_MIN_GENERATION={generation} so that a swapped or rolled-back document is refused",
            doc.keyring_id
        ),
        (pinned_id, pinned_generation) => {
            if let Some(id) = pinned_id
                && *id != doc.keyring_id
            {
                found.problem(format!(
                    "the configuration pins keyring {id}, but the document is keyring {}",
                    doc.keyring_id
                ));
            }
            if let Some(min) = pinned_generation
                && generation < min
            {
                found.problem(format!(
                    "the document is generation {generation}, older than the pinned minimum {min}: a rolled-back copy"
                ));
            }
        }
    }
    let database = database_url.and_then(sqlite_path);
    match doc.kek.provider.as_str() {
        "local" => {
            let master = keys::master_key_path(&arg.provider);
            let recorded = doc
                .kek
                .settings
                .get(fieldcrypt_kms::local::PATH_SETTING)
                .and_then(|v| v.as_str());
            if let Some(recorded) = recorded
                && Path::new(recorded) != master
            {
                println!(
                    "note     the keyring was created with the master key at {recorded}; this configuration uses {} (a keyring's own record of the path is never followed)",
                    master.display()
                );
            }
            match fieldcrypt_kms::local::MasterKeyFile::open_configured(
                &master,
                &doc.kek.settings,
                &arg.keyring,
            ) {
                Err(e) => found.problem(format!("master key: {e}")),
                Ok(file) => {
                    ok("the master-key file is private and owned by this user");
                    match check_settings(&doc.kek.provider, &doc.kek.settings, &file) {
                        Ok(()) => ok("the keyring is wrapped under the configured master key"),
                        Err(e) => found.problem(e.to_string()),
                    }
                }
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
        "env" => {
            let var = &arg.provider.key_variable;
            let recorded = doc
                .kek
                .settings
                .get(fieldcrypt_kms::providers::env::VARIABLE_SETTING)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            if recorded != var {
                found.problem(format!(
                    "the keyring document names variable {recorded:?}, but this configuration reads {var:?} (--key-variable, FIELDCRYPT_KEY_VARIABLE)"
                ));
            }
            found.problem(format!(
                "the key-encryption key is plaintext in environment variable {var}: a long-running process exposes it in /proc/<pid>/environ to its user, to every child process it starts and to crash reports; prefer a KMS (--provider aws-kms or vault) or at least a private master-key file"
            ));
        }
        "passphrase" => match KdfParams::from_settings(&doc.kek.settings) {
            Err(e) => found.problem(e.to_string()),
            Ok(params) if !params.owasp_minimum_met() => found.problem(format!(
                "Argon2id parameters (m={} KiB, t={}) are below every row of OWASP's table (e.g. 19 MiB with 2 passes, 46 MiB with 1): a guessed passphrase is cheap to test; rewrap to recalibrate",
                params.memory_kib, params.iterations
            )),
            Ok(_) => ok("Argon2id parameters meet OWASP's table"),
        },
        "vault" | "aws-kms" => remote(arg, &doc, &mut found),
        other => found.problem(format!("unknown provider {other:?}")),
    }
    if unwrap {
        match keys::load(arg) {
            Ok(loaded) => ok(&format!(
                "the keyring opens through its provider: {} data key(s), MAC verified",
                loaded.keyring().keys().count()
            )),
            Err(e) => found.problem(format!(
                "the keyring does not open: {}",
                crate::exit::one_line(&e)
            )),
        }
    }
    if found.0.is_empty() {
        println!("no problems found");
        Ok(())
    } else {
        anyhow::bail!(CheckFailed(found.0.len()))
    }
}

/// Vault and AWS KMS: the configured address and key, compared with the document (no request).
fn remote(arg: &KeyringArg, doc: &fieldcrypt::KeyringDocument, found: &mut Findings) {
    let config = &arg.provider;
    if doc.kek.provider == "vault" {
        match config.vault_addr.as_deref() {
            Some(address) if plain_http_off_loopback(address) => found.problem(format!(
                "Vault address {address} is plain HTTP: the keyring's KEK crosses the network unencrypted; use https"
            )),
            Some(_) => ok("Vault address uses TLS or loopback"),
            None => found.problem("VAULT_ADDR is not set".to_owned()),
        }
    } else {
        if std::env::var_os("AWS_SECRET_ACCESS_KEY").is_some()
            && std::env::var_os("AWS_SESSION_TOKEN").is_none()
        {
            found.problem(
                "long-term AWS access keys are in environment variables (AWS_SECRET_ACCESS_KEY without a session token): whoever reads this process's environment can call KMS as it, from anywhere, until the keys are deleted; use an instance, task or pod role, or SSO".to_owned(),
            );
        }
        let endpoint = config
            .aws_endpoint
            .clone()
            .or_else(|| std::env::var("AWS_ENDPOINT_URL_KMS").ok())
            .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
            .unwrap_or_default();
        if !endpoint.is_empty() && plain_http_off_loopback(&endpoint) {
            found.problem(format!(
                "KMS endpoint {endpoint} is plain HTTP: the keyring's KEK crosses the network unencrypted; use https"
            ));
        }
        if let Some(key) = &config.aws_kms_key
            && (key.starts_with("alias/") || key.contains(":alias/"))
        {
            println!(
                "note     the configuration names KMS alias {key}: pointing the alias at another key makes this keyring stop opening until it is pointed back; a key ARN does not move"
            );
        }
    }
    // Build the configured provider (no request is made) and compare, as opening does.
    let compared = keys::runtime().and_then(|runtime| {
        let provider = keys::provider_for(doc, &arg.keyring, config, &runtime)?;
        check_settings(&doc.kek.provider, &doc.kek.settings, provider.as_ref())?;
        Ok(())
    });
    match compared {
        Ok(()) => ok(&format!(
            "the configured {} key is the one the keyring document names",
            doc.kek.provider
        )),
        Err(e) => found.problem(crate::exit::one_line(&e)),
    }
}

/// `keyring check` found problems.
#[derive(Debug, thiserror::Error)]
#[error("{0} problem(s) found")]
pub(crate) struct CheckFailed(pub(crate) usize);

#[cfg(test)]
mod tests {
    use super::plain_http_off_loopback;

    #[test]
    fn loopback_is_the_parsed_host_not_a_prefix() {
        for remote in [
            "http://localhost.evil.example:8200",
            "http://127.0.0.1.nip.io",
            "http://vault.example",
            "http://10.0.0.1:8200",
            "vault.example:8200",
        ] {
            assert!(plain_http_off_loopback(remote), "{remote}");
        }
        for local in [
            "http://localhost:8200",
            "http://LOCALHOST",
            "http://127.0.0.1:8200",
            "http://127.8.9.10",
            "http://[::1]:8200",
            "https://vault.example",
        ] {
            assert!(!plain_http_off_loopback(local), "{local}");
        }
    }
}
