#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! Against the moto AWS stand-in (`moto_server` from the PyPI package moto[server], started by
//! scripts/test.sh): FIELDCRYPT_TEST_AWS_ENDPOINT names it. moto implements KMS's symmetric
//! keys with real AES-GCM and checks the encryption context, key state and key id, so these
//! tests exercise the same answers a real KMS gives. With CI=true a missing server fails the
//! run; elsewhere the tests say loudly that they skip.

use std::time::Duration;

use aws_sdk_kms::Client;
use aws_sdk_kms::config::{BehaviorVersion, Credentials, Region};
use fieldcrypt::{Context, Suite};
use fieldcrypt_kms::{FileStore, KeyProvider as _, KeyringStore, KmsError, UnlockedKeyring};
use fieldcrypt_kms_aws::{AwsKmsConfig, AwsKmsProvider};

const REGION: &str = "eu-west-1";

fn endpoint(test: &str) -> Option<String> {
    match std::env::var("FIELDCRYPT_TEST_AWS_ENDPOINT") {
        Ok(e) => Some(e),
        Err(_) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!(
                    "{test}: FIELDCRYPT_TEST_AWS_ENDPOINT not set (scripts/test.sh starts moto_server)"
                );
            }
            eprintln!(
                "SKIPPED {test}: no moto server (set FIELDCRYPT_TEST_AWS_ENDPOINT, or run scripts/test.sh)"
            );
            None
        }
    }
}

/// A client with static test credentials: tests do not touch the process environment.
fn client(endpoint: &str) -> Client {
    let config = aws_sdk_kms::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .timeout_config(
            aws_sdk_kms::config::timeout::TimeoutConfig::builder()
                .operation_attempt_timeout(Duration::from_secs(5))
                .build(),
        )
        .build();
    Client::from_conf(config)
}

/// A new symmetric KMS key of the test's own; its ARN.
async fn new_key(client: &Client) -> String {
    let created = client
        .create_key()
        .description("fieldcrypt test")
        .send()
        .await
        .unwrap();
    created.key_metadata().unwrap().arn().unwrap().to_owned()
}

#[tokio::test]
async fn keyring_under_kms_round_trips_and_binds_its_context() {
    let Some(endpoint) = endpoint("keyring_under_kms_round_trips_and_binds_its_context") else {
        return;
    };
    let admin = client(&endpoint);
    let key = new_key(&admin).await;
    let provider = AwsKmsProvider::with_client(client(&endpoint), &key);
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
    assert_eq!(doc.kek.provider, "aws-kms");
    assert_eq!(doc.kek.settings["key_id"].as_str(), Some(key.as_str()));
    assert_eq!(doc.kek.settings["region"].as_str(), Some(REGION));
    let wrapped = doc.kek.settings["wrapped_kek"].as_str().unwrap().to_owned();
    let text = std::fs::read_to_string(store.path()).unwrap();
    assert!(!text.contains("testing"), "credentials are never stored");
    let opens_all = |keyring: &fieldcrypt::Keyring| {
        for (i, s) in sealed.iter().enumerate() {
            assert_eq!(
                keyring.open::<String>(&ctx, s).unwrap(),
                format!("value {i}")
            );
        }
    };
    opens_all(
        &UnlockedKeyring::open(&doc, &provider)
            .await
            .unwrap()
            .keyring,
    );

    // Wrong encryption context: the wrapped KEK moved into another keyring's document.
    let other = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let mut moved = other.to_document().unwrap();
    moved.kek.settings = doc.kek.settings.clone();
    let err = UnlockedKeyring::open(&moved, &provider).await.unwrap_err();
    assert!(matches!(err, KmsError::CannotUnwrap { .. }), "{err}");

    // Another KMS key configured: named before any call.
    let second = new_key(&admin).await;
    let err = UnlockedKeyring::open(
        &doc,
        &AwsKmsProvider::with_client(client(&endpoint), &second),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, KmsError::WrongKey { .. }), "{err}");

    // The document edited to name the second key: KMS refuses the ciphertext under another
    // key id (AWS answers IncorrectKeyException, moto AccessDeniedException), never a wrong key.
    let mut edited = doc.clone();
    edited
        .kek
        .settings
        .insert("key_id".to_owned(), second.clone().into());
    let err = UnlockedKeyring::open(
        &edited,
        &AwsKmsProvider::with_client(client(&endpoint), &second),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, KmsError::CannotUnwrap { .. } | KmsError::Denied { .. }),
        "{err}"
    );

    // Key disabled (or pending deletion) in KMS: denied, saying so. moto records the key state
    // but does not enforce it on Decrypt, so these two answers come from a stand-in endpoint
    // that replies exactly as KMS documents it (HTTP 400, x-amzn-ErrorType, JSON body); the SDK
    // parses them as it would AWS's.
    for (code, message) in [
        (
            "DisabledException",
            "arn:aws:kms:eu-west-1:123456789012:key/x is disabled.",
        ),
        (
            "KMSInvalidStateException",
            "arn:aws:kms:eu-west-1:123456789012:key/x is pending deletion.",
        ),
    ] {
        let refusing = kms_answering(code, message).await;
        let provider = AwsKmsProvider::with_client(client(&refusing), &key);
        let err = UnlockedKeyring::open(&doc, &provider).await.unwrap_err();
        assert!(matches!(err, KmsError::Denied { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains(code) && text.contains(message), "{text}");
    }

    // Unreachable: a clear error, fast.
    let mut config = AwsKmsConfig::new(&key);
    config.endpoint = Some("http://127.0.0.1:9".to_owned());
    config.timeout = Duration::from_secs(2);
    config.max_attempts = 1;
    let unreachable = with_test_credentials(config).await;
    let err = UnlockedKeyring::open(&doc, &unreachable).await.unwrap_err();
    assert!(matches!(err, KmsError::Unavailable { .. }), "{err}");

    // After all of it, the stored document is unchanged and every value opens.
    let again = store.load().await.unwrap().unwrap().document;
    assert_eq!(again.kek.settings["wrapped_kek"].as_str().unwrap(), wrapped);
    opens_all(
        &UnlockedKeyring::open(&again, &provider)
            .await
            .unwrap()
            .keyring,
    );
}

/// An endpoint that answers every request with the KMS error `code`; its URL.
async fn kms_answering(code: &'static str, message: &'static str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            // Read the request head and its body, then answer and close.
            let mut request = Vec::new();
            let mut buf = [0_u8; 4096];
            loop {
                let n = socket.read(&mut buf).await.unwrap_or(0);
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let length = text[..end]
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if request.len() >= end + 4 + length {
                        break;
                    }
                }
            }
            let body = format!(r#"{{"__type":"{code}","message":"{message}"}}"#);
            let response = format!(
                "HTTP/1.1 400 Bad Request\r\nx-amzn-ErrorType: {code}\r\nx-amzn-RequestId: 00000000-0000-0000-0000-000000000000\r\ncontent-type: application/x-amz-json-1.1\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
    });
    url
}

/// [`AwsKmsProvider::connect`] with the SDK's default chain, which reads no credentials here;
/// static ones are put on the client it builds.
async fn with_test_credentials(config: AwsKmsConfig) -> AwsKmsProvider {
    let key = config.key_id.clone();
    let connected = AwsKmsProvider::connect(AwsKmsConfig {
        region: Some(REGION.to_owned()),
        ..config
    })
    .await
    .unwrap();
    let client = connected.client().clone();
    let conf = client
        .config()
        .to_builder()
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .build();
    AwsKmsProvider::with_client(Client::from_conf(conf), &key)
}

#[tokio::test]
async fn connect_takes_the_region_from_an_arn_and_rewraps_between_kms_keys() {
    let Some(endpoint) =
        endpoint("connect_takes_the_region_from_an_arn_and_rewraps_between_kms_keys")
    else {
        return;
    };
    let admin = client(&endpoint);
    let (from, to) = (new_key(&admin).await, new_key(&admin).await);
    let mut config = AwsKmsConfig::new(&from);
    config.endpoint = Some(endpoint.clone());
    let connected = AwsKmsProvider::connect(config).await.unwrap();
    assert_eq!(
        connected.settings().get("region").and_then(|r| r.as_str()),
        Some(REGION),
        "the region comes from the key ARN"
    );

    let old = AwsKmsProvider::with_client(client(&endpoint), &from);
    let new = AwsKmsProvider::with_client(client(&endpoint), &to);
    let mut unlocked = UnlockedKeyring::generate(&old, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let ctx = Context::new("t", "c").unwrap();
    let sealed = unlocked.keyring.seal(&ctx, "kept").unwrap();
    let before = unlocked.to_document().unwrap();
    unlocked.rewrap(&new).await.unwrap();
    let after = unlocked.to_document().unwrap();
    assert_eq!(after.kek.settings["key_id"].as_str(), Some(to.as_str()));
    assert_ne!(
        before.kek.settings["wrapped_kek"],
        after.kek.settings["wrapped_kek"]
    );
    let reopened = UnlockedKeyring::open(&after, &new).await.unwrap();
    assert_eq!(
        reopened.keyring.open::<String>(&ctx, &sealed).unwrap(),
        "kept"
    );
    // The old provider no longer opens the new document.
    let err = UnlockedKeyring::open(&after, &old).await.unwrap_err();
    assert!(matches!(err, KmsError::WrongKey { .. }), "{err}");

    // ReEncrypt to the same key (after KMS rotated its backing key): the document's wrapped KEK
    // changes, the KEK and the data keys do not.
    let mut refreshed = UnlockedKeyring::open(&after, &new).await.unwrap();
    assert!(refreshed.reencrypt_kek(&new).await.unwrap());
    let refreshed_doc = refreshed.to_document().unwrap();
    assert_ne!(
        refreshed_doc.kek.settings["wrapped_kek"],
        after.kek.settings["wrapped_kek"]
    );
    let reopened = UnlockedKeyring::open(&refreshed_doc, &new).await.unwrap();
    assert_eq!(
        reopened.keyring.open::<String>(&ctx, &sealed).unwrap(),
        "kept"
    );

    // ReEncrypt inside KMS: the wrapped KEK moves to another key without leaving KMS.
    let context = fieldcrypt_kms::WrapContext::new(before.keyring_id.parse().unwrap());
    let wrapped = base64_decode(before.kek.settings["wrapped_kek"].as_str().unwrap());
    let moved = old.re_encrypt(&context, &wrapped, &to).await.unwrap();
    let key = new.unwrap(&context, &moved).await.unwrap();
    assert_eq!(
        key.expose(),
        old.unwrap(&context, &wrapped).await.unwrap().expose()
    );
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .unwrap()
}
