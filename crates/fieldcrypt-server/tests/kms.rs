//! The key provider goes away: an OpenBao dev server of the test's own (FIELDCRYPT_TEST_BAO, the
//! `bao` binary scripts/test.sh installs) wraps the keyring, and is stopped mid-run. Service
//! continues while the unwrapped keys are cached (`keys.cache_seconds`), then every request that
//! needs keys is refused cleanly (503, `keys-unavailable`) and `/readyz` says so.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use fieldcrypt_kms::{FileStore, KeyringStore as _, UnlockedKeyring};
use serde_json::{Value, json};

fn bao_binary() -> Option<String> {
    match std::env::var("FIELDCRYPT_TEST_BAO") {
        Ok(bao) => Some(bao),
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("FIELDCRYPT_TEST_BAO (the bao binary) is required under CI")
        }
        Err(_) => {
            eprintln!(
                "SKIPPED the KMS outage test: FIELDCRYPT_TEST_BAO (the bao binary; scripts/test.sh sets it) not set"
            );
            None
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kms_outage_is_ridden_out_within_the_cache_then_refused_cleanly() {
    let Some(bao) = bao_binary() else { return };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = "server-test-root";
    let mut child = tokio::process::Command::new(&bao)
        .args([
            "server",
            "-dev",
            &format!("-dev-root-token-id={token}"),
            &format!("-dev-listen-address=127.0.0.1:{port}"),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let address = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while http
        .get(format!("{address}/v1/sys/health"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "bao did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for (path, body) in [
        ("sys/mounts/transit", json!({"type": "transit"})),
        ("transit/keys/fc-server", json!({})),
    ] {
        let r = http
            .post(format!("{address}/v1/{path}"))
            .header("X-Vault-Token", token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
    }

    // A keyring wrapped by the Transit key, as `fieldcrypt keyring init --provider vault` makes it.
    let env = Env::new();
    let keyring = env.path("vault-keyring.json");
    let provider =
        fieldcrypt_kms_vault::VaultProvider::new(fieldcrypt_kms_vault::VaultConfig::with_token(
            &address,
            "fc-server",
            zeroize::Zeroizing::new(token.to_owned()),
        ))
        .unwrap();
    let unlocked = UnlockedKeyring::generate(&provider, fieldcrypt::Suite::default())
        .await
        .unwrap();
    FileStore::new(&keyring)
        .save(&unlocked.to_document().unwrap(), None)
        .await
        .unwrap();

    let cache = 4;
    let opts = Options {
        keys: Some(format!(
            "[keys]\nkeyring = \"vault-keyring.json\"\nprovider = \"vault\"\nvault_address = \"{address}\"\nvault_key = \"fc-server\"\ncache_seconds = {cache}\n"
        )),
        ..Options::default()
    };
    let started = Instant::now();
    let server = Server::start_with(&env, &opts, &[], &[("VAULT_TOKEN", token)]);
    let client = server.client(None);
    let (s, sealed) = post(
        &client,
        &server.url("/v1/seal"),
        Some(APP_TOKEN),
        &json!({"items": [{"table": "customers", "column": "card", "value": "4111111111111111"}]}),
    )
    .await;
    assert_eq!(s, 200, "{sealed}");
    let open = json!({"items": [{"table": "customers", "column": "card", "envelope": sealed["items"][0]["envelope"]}]});

    // The KMS goes away.
    child.kill().await.unwrap();
    let _ = child.wait().await;
    assert!(
        http.get(format!("{address}/v1/sys/health"))
            .send()
            .await
            .is_err(),
        "bao is down"
    );
    let (s, body) = post(&client, &server.url("/v1/open"), Some(APP_TOKEN), &open).await;
    assert!(
        started.elapsed() < Duration::from_secs(cache),
        "still within the cache lifetime"
    );
    assert_eq!(s, 200, "served from the cached keys: {body}");
    assert_eq!(body["items"][0]["value"], "4111111111111111");

    // After the cache lifetime: refused cleanly, nothing disclosed, readiness says why.
    tokio::time::sleep(
        Duration::from_secs(cache).saturating_sub(started.elapsed()) + Duration::from_millis(500),
    )
    .await;
    let (s, body) = post(&client, &server.url("/v1/open"), Some(APP_TOKEN), &open).await;
    assert_eq!(s, 503, "{body}");
    assert_eq!(body["items"][0]["error"]["code"], "keys-unavailable");
    assert!(!body.to_string().contains("4111111111111111"));
    let ready: Value = client
        .get(server.url("/readyz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ready["keys"], false);
    // The process is still up and answering.
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
}

/// A keyring wrapped by AWS KMS (the moto stand-in scripts/test.sh starts,
/// FIELDCRYPT_TEST_AWS_ENDPOINT): the server, built with `--features aws-kms`, unwraps it with
/// credentials from the SDK's chain (here the environment) and serves.
#[cfg(feature = "aws-kms")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyring_under_aws_kms_is_served() {
    use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
    let endpoint = match std::env::var("FIELDCRYPT_TEST_AWS_ENDPOINT") {
        Ok(e) => e,
        Err(_) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("FIELDCRYPT_TEST_AWS_ENDPOINT (the moto server) is required under CI")
        }
        Err(_) => {
            eprintln!(
                "SKIPPED the AWS KMS server test: FIELDCRYPT_TEST_AWS_ENDPOINT (scripts/test.sh starts moto) not set"
            );
            return;
        }
    };
    let region = "eu-west-1";
    let client = aws_sdk_kms::Client::from_conf(
        aws_sdk_kms::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(region))
            .endpoint_url(&endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
            .build(),
    );
    let arn = client
        .create_key()
        .description("fieldcrypt-server test")
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_owned();
    let provider = fieldcrypt_kms_aws::AwsKmsProvider::with_client(client, &arn);
    let unlocked = UnlockedKeyring::generate(&provider, fieldcrypt::Suite::default())
        .await
        .unwrap();
    let env = Env::new();
    FileStore::new(env.path("aws-keyring.json"))
        .save(&unlocked.to_document().unwrap(), None)
        .await
        .unwrap();
    let opts = Options {
        keys: Some(format!(
            "[keys]\nkeyring = \"aws-keyring.json\"\nprovider = \"aws-kms\"\naws_kms_key = \"{arn}\"\naws_region = \"{region}\"\naws_endpoint = \"{endpoint}\"\n"
        )),
        ..Options::default()
    };
    let server = Server::start_with(
        &env,
        &opts,
        &[],
        &[
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
        ],
    );
    let client = server.client(None);
    let (s, sealed) = post(
        &client,
        &server.url("/v1/seal"),
        Some(APP_TOKEN),
        &json!({"items": [{"table": "customers", "column": "card", "value": "4111111111111111"}]}),
    )
    .await;
    assert_eq!(s, 200, "{sealed}");
    let (s, opened) = post(&client, &server.url("/v1/open"), Some(APP_TOKEN),
        &json!({"items": [{"table": "customers", "column": "card", "envelope": sealed["items"][0]["envelope"]}]})).await;
    assert_eq!(s, 200, "{opened}");
    assert_eq!(opened["items"][0]["value"], "4111111111111111");
}
