//! A keyring document is data: whoever can write it must not be able to choose where the
//! `fieldcrypt` binary sends credentials, which key wraps new data, or what the key derivation
//! costs. Each case edits a document as an attacker would and runs the binary as a user would:
//! the run is refused with one line naming the setting, before any request (listeners on the
//! edited and the configured addresses record no connection) and before any allocation beyond
//! the Argon2id bounds.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[cfg(any(feature = "vault", feature = "aws-kms"))]
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `fieldcrypt` with only the environment given (plus PATH), stdin empty.
fn run(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fieldcrypt"));
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("FIELDCRYPT_KEYRING", dir.join("keyring.json"))
        .env("XDG_CONFIG_HOME", dir.join("config"))
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap_or_else(|e| panic!("spawn: {e}"))
}

/// A refusal: exit 6 (keyring problem), one line on stderr that contains `needle`.
fn assert_refused(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "stderr: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "expected {needle:?} in: {err}");
}

/// A listener that counts nothing but whether anyone connected.
#[cfg(any(feature = "vault", feature = "aws-kms"))]
struct Listener(TcpListener);

#[cfg(any(feature = "vault", feature = "aws-kms"))]
impl Listener {
    fn new() -> Self {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.set_nonblocking(true).unwrap();
        Self(l)
    }
    fn url(&self) -> String {
        format!("http://{}", self.0.local_addr().unwrap())
    }
    fn assert_untouched(&self, what: &str) {
        match self.0.accept() {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Ok((_, peer)) => panic!("{what}: a connection reached {} from {peer}", self.url()),
            Err(e) => panic!("{what}: {e}"),
        }
    }
}

const KEK: &str = "qdLoRk0L6yXPSlJjAa0pRzN2G5m3cCv0pO5V9bTnq0Q";

/// A keyring under the env provider, as a starting document to edit.
fn env_keyring(dir: &Path) -> Value {
    let out = run(
        dir,
        &["keyring", "init", "--provider", "env"],
        &[("FIELDCRYPT_KEK", KEK)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    read(dir)
}

fn read(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("keyring.json")).unwrap()).unwrap()
}

fn write(dir: &Path, doc: &Value) {
    std::fs::write(
        dir.join("keyring.json"),
        serde_json::to_string_pretty(doc).unwrap(),
    )
    .unwrap();
}

fn seal(dir: &Path, env: &[(&str, &str)]) -> Output {
    run(dir, &["seal", "--context", "t.c"], env)
}

#[test]
fn a_master_key_path_in_the_document_is_never_followed() {
    // The victim's keyring under the default master key (the user's configuration directory).
    let victim = tempfile::tempdir().unwrap();
    let v = victim.path();
    let out = run(v, &["keyring", "init"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // The attacker makes a keyring under a master key of their own (owned by the same user,
    // mode 0600: the mode check alone would pass) and puts it in the victim's place.
    let attacker = tempfile::tempdir().unwrap();
    let a = attacker.path();
    let evil_key = a.join("evil.key");
    let out = run(
        a,
        &[
            "keyring",
            "init",
            "--master-key",
            evil_key.to_str().unwrap(),
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::copy(a.join("keyring.json"), v.join("keyring.json")).unwrap();
    assert_eq!(
        read(v)["kek"]["path"].as_str(),
        evil_key.to_str(),
        "the document names the attacker's key"
    );
    // The victim's next run uses the configured (default) key, not the recorded one: the
    // fingerprints differ, and nothing is sealed under the attacker's keys.
    let out = seal(v, &[]);
    assert_refused(&out, "fingerprint");
    assert!(out.stdout.is_empty());
}

#[test]
fn argon2_costs_beyond_the_bounds_are_refused_before_deriving() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pass = [("FIELDCRYPT_PASSPHRASE", "correct horse battery staple")];
    let out = run(d, &["keyring", "init", "--provider", "passphrase"], &pass);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let original = read(d);
    for (setting, value, needle) in [
        (
            "memory_kib",
            4_294_967_295_u64,
            "m=4294967295 KiB is beyond the bound",
        ),
        (
            "iterations",
            4_294_967_295,
            "t=4294967295 are out of bounds",
        ),
        ("parallelism", 4096, "p=4096 are out of bounds"),
        ("memory_kib", 1024, "m=1024 KiB is too weak"),
    ] {
        let mut doc = original.clone();
        doc["kek"][setting] = Value::from(value);
        write(d, &doc);
        let started = std::time::Instant::now();
        let out = seal(d, &pass);
        assert_refused(&out, needle);
        // Refused up front: no 4 TiB allocation (which aborted the process) and no endless
        // derivation.
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{setting}"
        );
    }
}

#[test]
fn an_edited_env_variable_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut doc = env_keyring(d);
    // Point the provider at another variable the process holds (a token, say).
    doc["kek"]["variable"] = Value::from("VAULT_TOKEN");
    write(d, &doc);
    let out = seal(d, &[("FIELDCRYPT_KEK", KEK), ("VAULT_TOKEN", KEK)]);
    assert_refused(&out, "variable");
}

#[cfg(feature = "vault")]
#[test]
fn an_edited_vault_address_mount_or_key_reaches_no_server() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let configured = Listener::new();
    let edited = Listener::new();
    let mut base = env_keyring(d);
    base["kek"] = serde_json::json!({
        "provider": "vault",
        "fingerprint": base["kek"]["fingerprint"],
        "address": configured.url(),
        "mount": "transit",
        "key": "app",
        "wrapped_kek": "dmF1bHQ6djE6eHh4",
    });
    let token = ("VAULT_TOKEN", "s.secret-token");
    let config = [
        ("VAULT_ADDR", configured.url()),
        ("FIELDCRYPT_VAULT_KEY", "app".to_owned()),
    ];
    let env = |extra: &[(&'static str, String)]| -> Vec<(&'static str, String)> {
        let mut all = vec![(token.0, token.1.to_owned())];
        all.extend(extra.iter().cloned());
        all
    };
    let go = |doc: &Value, env: &[(&'static str, String)]| {
        write(d, doc);
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        seal(d, &env)
    };

    // With VAULT_ADDR unset, the document's address used to receive the token.
    let mut doc = base.clone();
    doc["kek"]["address"] = Value::from(edited.url());
    let out = go(&doc, &env(&[("FIELDCRYPT_VAULT_KEY", "app".to_owned())]));
    assert_refused(&out, "set VAULT_ADDR");
    // Configured, but the document names another server.
    let out = go(&doc, &env(&config));
    assert_refused(&out, "document says address");
    // A mount that would steer the token-bearing request to another endpoint.
    let mut doc = base.clone();
    doc["kek"]["mount"] = Value::from("transit/../sys/tools/random?x=");
    let out = go(&doc, &env(&config));
    assert_refused(&out, "document says mount");
    // And a configured mount that tries the same is refused before any request too.
    let mut steer = config.to_vec();
    steer.push(("FIELDCRYPT_VAULT_MOUNT", "transit/../sys".to_owned()));
    let out = go(&base, &env(&steer));
    assert_refused(&out, "Transit mount");
    // Another Transit key.
    let mut doc = base.clone();
    doc["kek"]["key"] = Value::from("attacker");
    let out = go(&doc, &env(&config));
    assert_refused(&out, "key attacker");
    configured.assert_untouched("configured address");
    edited.assert_untouched("edited address");
    // The token never reaches stderr either.
    assert!(!text(&out.stderr).contains("secret-token"));
}

#[cfg(feature = "aws-kms")]
#[test]
fn an_edited_aws_key_or_region_reaches_no_endpoint() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let endpoint = Listener::new();
    let ours = "arn:aws:kms:eu-west-1:111111111111:key/0b6a6e44-1111-4111-8111-111111111111";
    let theirs = "arn:aws:kms:eu-west-1:999999999999:key/0b6a6e44-9999-4999-8999-999999999999";
    let mut base = env_keyring(d);
    base["kek"] = serde_json::json!({
        "provider": "aws-kms",
        "fingerprint": base["kek"]["fingerprint"],
        "key_id": ours,
        "region": "eu-west-1",
        "wrapped_kek": "AQID",
    });
    let url = endpoint.url();
    let aws = [
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
        ("AWS_ENDPOINT_URL", url.as_str()),
        ("AWS_MAX_ATTEMPTS", "1"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = aws.to_vec();
        all.extend_from_slice(extra);
        all
    };
    // A key in the attacker's account: new data would be sealed under keys they know.
    let mut doc = base.clone();
    doc["kek"]["key_id"] = Value::from(theirs);
    write(d, &doc);
    let out = seal(d, &with(&[]));
    assert_refused(&out, "FIELDCRYPT_AWS_KMS_KEY");
    let out = seal(d, &with(&[("FIELDCRYPT_AWS_KMS_KEY", ours)]));
    assert_refused(&out, "key_id");
    // Another region.
    let mut doc = base.clone();
    doc["kek"]["region"] = Value::from("us-east-1");
    write(d, &doc);
    let out = seal(d, &with(&[("FIELDCRYPT_AWS_KMS_KEY", ours)]));
    assert_refused(&out, "region");
    endpoint.assert_untouched("KMS endpoint");
}

#[test]
fn a_pinned_provider_keyring_or_generation_refuses_a_swapped_document() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let doc = env_keyring(d);
    let kek = [("FIELDCRYPT_KEK", KEK)];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut all = kek.to_vec();
        all.extend_from_slice(extra);
        all
    };
    assert!(
        seal(d, &with(&[("FIELDCRYPT_PROVIDER", "env")]))
            .status
            .success()
    );
    let out = seal(d, &with(&[("FIELDCRYPT_PROVIDER", "aws-kms")]));
    assert_refused(
        &out,
        "wrapped by the env provider, but aws-kms is configured",
    );
    let out = seal(
        d,
        &with(&[("FIELDCRYPT_KEYRING_ID", "00112233445566778899aabbccddeeff")]),
    );
    assert_refused(&out, "pins keyring 00112233445566778899aabbccddeeff");
    // Rotate: generation 2. The saved copy of generation 1 is then refused once pinned.
    let out = run(d, &["keyring", "rotate"], &kek);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("FIELDCRYPT_KEYRING_MIN_GENERATION=2"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        seal(d, &with(&[("FIELDCRYPT_KEYRING_MIN_GENERATION", "2")]))
            .status
            .success()
    );
    write(d, &doc);
    let out = seal(d, &with(&[("FIELDCRYPT_KEYRING_MIN_GENERATION", "2")]));
    assert_refused(&out, "generation 1, older than the pinned minimum 2");
}

#[test]
fn duplicate_members_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    env_keyring(d);
    let text = std::fs::read_to_string(d.join("keyring.json")).unwrap();
    // A second `variable`: serde_json would keep the last, another reader the first.
    let doubled = text.replacen(
        "\"provider\": \"env\",",
        "\"provider\": \"env\", \"variable\": \"OTHER\",",
        1,
    );
    assert_ne!(doubled, text);
    std::fs::write(d.join("keyring.json"), doubled).unwrap();
    let out = seal(d, &[("FIELDCRYPT_KEK", KEK)]);
    assert_refused(&out, "duplicate member name \"variable\"");
    let out = run(d, &["keyring", "list"], &[]);
    assert_refused(&out, "duplicate member name");
}
