#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]
//! The in-process providers, the two-level document, stores, rewrap and the key cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use fieldcrypt::{Context, KeyringError, SecretKey, Suite};
use fieldcrypt_kms::local::MasterKeyFile;
use fieldcrypt_kms::providers::env::EnvProvider;
use fieldcrypt_kms::providers::passphrase::{KdfParams, PassphraseProvider};
use fieldcrypt_kms::{
    CachePolicy, FileStore, KeyProvider, KeyringStore, KmsError, ManagedKeyring, Settings,
    UnlockedKeyring, WrapContext,
};

/// Passes every call to a real provider and counts the unwraps.
#[derive(Debug)]
struct Counting<P> {
    inner: P,
    unwraps: AtomicU64,
}

#[async_trait]
impl<P: KeyProvider> KeyProvider for Counting<P> {
    fn name(&self) -> &'static str {
        self.inner.name()
    }
    fn settings(&self) -> Settings {
        self.inner.settings()
    }
    async fn wrap(&self, c: &WrapContext, k: &SecretKey) -> Result<Vec<u8>, KmsError> {
        self.inner.wrap(c, k).await
    }
    async fn unwrap(&self, c: &WrapContext, w: &[u8]) -> Result<SecretKey, KmsError> {
        self.unwraps.fetch_add(1, Ordering::SeqCst);
        self.inner.unwrap(c, w).await
    }
}

fn env_key() -> EnvProvider {
    let text = EnvProvider::new_key_text().unwrap();
    EnvProvider::from_text("FIELDCRYPT_TEST_KEY", &text).unwrap()
}

fn fast_kdf() -> KdfParams {
    KdfParams {
        memory_kib: KdfParams::MIN_MEMORY_KIB,
        iterations: 1,
        parallelism: 1,
        salt: [7; 16],
    }
}

#[tokio::test]
async fn each_provider_round_trips_and_refuses_another_key() {
    let dir = tempfile::tempdir().unwrap();
    let providers: Vec<(Box<dyn KeyProvider>, Box<dyn KeyProvider>)> = vec![
        (
            Box::new(MasterKeyFile::create(&dir.path().join("a.key")).unwrap()),
            Box::new(MasterKeyFile::create(&dir.path().join("b.key")).unwrap()),
        ),
        (Box::new(env_key()), Box::new(env_key())),
        (
            Box::new(PassphraseProvider::new(b"correct horse battery", fast_kdf()).unwrap()),
            Box::new(PassphraseProvider::new(b"correct horse battery!", fast_kdf()).unwrap()),
        ),
    ];
    let ctx = Context::new("people", "ssn").unwrap();
    for (right, wrong) in &providers {
        let unlocked = UnlockedKeyring::generate(right.as_ref(), Suite::KcXaes256Gcm)
            .await
            .unwrap();
        let sealed = unlocked.keyring.seal(&ctx, "078-05-1120").unwrap();
        let doc = unlocked.to_document().unwrap();
        let text = serde_json::to_string(&doc).unwrap();
        assert!(!text.contains("078-05-1120"));

        let reopened = UnlockedKeyring::open(&doc, right.as_ref()).await.unwrap();
        assert_eq!(
            reopened.keyring.open::<String>(&ctx, &sealed).unwrap(),
            "078-05-1120"
        );
        // Another key of the same provider: named as a wrong key before any unwrap.
        let err = UnlockedKeyring::open(&doc, wrong.as_ref())
            .await
            .unwrap_err();
        assert!(
            matches!(err, KmsError::WrongKey { .. }),
            "{}: {err}",
            right.name()
        );
        // A wrapped KEK moved into another keyring's document does not unwrap.
        let other = UnlockedKeyring::generate(right.as_ref(), Suite::KcXaes256Gcm)
            .await
            .unwrap();
        let mut moved = other.to_document().unwrap();
        moved.kek.settings = doc.kek.settings.clone();
        let err = UnlockedKeyring::open(&moved, right.as_ref())
            .await
            .unwrap_err();
        assert!(
            matches!(err, KmsError::CannotUnwrap { .. }),
            "{}: {err}",
            right.name()
        );
    }
}

#[tokio::test]
async fn passphrase_keyrings_commit() {
    let provider = PassphraseProvider::new(b"correct horse battery", fast_kdf()).unwrap();
    let err = UnlockedKeyring::generate(&provider, Suite::Xaes256Gcm)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        KmsError::CommittingSuiteRequired("passphrase")
    ));
    let mut unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    unlocked.keyring.rotate_to(Suite::Xaes256Gcm).unwrap();
    assert!(matches!(
        unlocked.to_document(),
        Err(KmsError::CommittingSuiteRequired(_))
    ));
    assert!(PassphraseProvider::new(b"short", fast_kdf()).is_err());
    let weak = KdfParams {
        memory_kib: 1024,
        ..fast_kdf()
    };
    assert!(PassphraseProvider::new(b"correct horse battery", weak).is_err());
}

#[test]
fn passphrase_calibration_records_what_it_used() {
    // Speed is reported, not asserted (a debug build is ten times slower than release).
    let target = Duration::from_millis(500);
    let params = KdfParams::calibrate(target).unwrap();
    let start = std::time::Instant::now();
    let provider = PassphraseProvider::new(b"correct horse battery", params.clone()).unwrap();
    eprintln!(
        "argon2id calibrated: m={} KiB t={} p={}: one derivation {:?} (target {target:?})",
        params.memory_kib,
        params.iterations,
        params.parallelism,
        start.elapsed()
    );
    assert!(params.iterations >= 2 && params.memory_kib == KdfParams::CALIBRATION_MEMORY_KIB);
    // The document records exactly these parameters, and they read back.
    let settings = provider.settings();
    assert_eq!(KdfParams::from_settings(&settings).unwrap(), params);
    // Fresh salt per calibration.
    assert_ne!(KdfParams::calibrate(target).unwrap().salt, params.salt);
}

#[tokio::test]
async fn file_store_is_compare_and_swap() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("keyring.json"));
    assert!(store.load().await.unwrap().is_none());
    let provider = env_key();
    let mut unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let v1 = store
        .save(&unlocked.to_document().unwrap(), None)
        .await
        .unwrap();
    // A second creator loses.
    assert!(matches!(
        store.save(&unlocked.to_document().unwrap(), None).await,
        Err(KmsError::Conflict(_))
    ));
    unlocked.keyring.rotate().unwrap();
    let v2 = store
        .save(&unlocked.to_document().unwrap(), Some(&v1))
        .await
        .unwrap();
    // A writer that read v1 cannot overwrite v2 (its rotation would be lost).
    assert!(matches!(
        store
            .save(&unlocked.to_document().unwrap(), Some(&v1))
            .await,
        Err(KmsError::Conflict(_))
    ));
    let stored = store.load().await.unwrap().unwrap();
    assert_eq!(stored.version, v2);
    assert_eq!(stored.document.keys.len(), 2);
}

#[tokio::test]
async fn metadata_changed_outside_fieldcrypt_is_refused() {
    let provider = env_key();
    let mut unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    unlocked.keyring.rotate().unwrap();
    let doc = unlocked.to_document().unwrap();
    // Make the old key primary again, as someone with write access to the file could.
    let mut altered = doc.clone();
    altered.keys[0].state = fieldcrypt::KeyState::Primary;
    altered.keys[1].state = fieldcrypt::KeyState::Active;
    let err = UnlockedKeyring::open(&altered, &provider)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KmsError::Core(fieldcrypt::Error::Keyring(KeyringError::MacMismatch))
        ),
        "{err}"
    );
}

#[tokio::test]
async fn rewrap_changes_the_kek_and_no_value() {
    let dir = tempfile::tempdir().unwrap();
    let store = FileStore::new(dir.path().join("keyring.json"));
    let old = MasterKeyFile::create(&dir.path().join("old.key")).unwrap();
    let new = env_key();
    let mut unlocked = UnlockedKeyring::generate(&old, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let ctx = Context::new("t", "c").unwrap();
    let sealed = unlocked.keyring.seal(&ctx, "value").unwrap();
    let v1 = store
        .save(&unlocked.to_document().unwrap(), None)
        .await
        .unwrap();
    let old_doc = unlocked.to_document().unwrap();

    unlocked.rewrap(&new).await.unwrap();
    store
        .save(&unlocked.to_document().unwrap(), Some(&v1))
        .await
        .unwrap();
    let stored = store.load().await.unwrap().unwrap();
    assert_eq!(stored.document.kek.provider, "env");
    assert_ne!(stored.document.kek.fingerprint, old_doc.kek.fingerprint);
    let reopened = UnlockedKeyring::open(&stored.document, &new).await.unwrap();
    assert_eq!(
        reopened.keyring.open::<String>(&ctx, &sealed).unwrap(),
        "value"
    );
    // The old master key opens nothing of the new document.
    assert!(UnlockedKeyring::open(&stored.document, &old).await.is_err());
}

#[tokio::test]
async fn a_hundred_thousand_values_under_three_keys_cost_at_most_three_unwraps() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn KeyringStore> = Arc::new(FileStore::new(dir.path().join("k.json")));
    let provider = Arc::new(Counting {
        inner: env_key(),
        unwraps: AtomicU64::new(0),
    });
    let mut unlocked = UnlockedKeyring::generate(provider.as_ref(), Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let ctx = Context::new("t", "c").unwrap();
    let mut sealed = Vec::with_capacity(100_000);
    for key in 0..3 {
        if key > 0 {
            unlocked.keyring.rotate().unwrap();
        }
        for i in 0..33_334 {
            if sealed.len() < 100_000 {
                sealed.push((i, unlocked.keyring.seal(&ctx, &(i as i64)).unwrap()));
            }
        }
    }
    store
        .save(&unlocked.to_document().unwrap(), None)
        .await
        .unwrap();
    drop(unlocked);

    for (policy, expected_unwraps) in [
        (CachePolicy::default(), 1),
        (
            CachePolicy {
                ttl: Duration::from_secs(300),
                max_uses: 40_000,
            },
            3,
        ),
    ] {
        provider.unwraps.store(0, Ordering::SeqCst);
        let managed = ManagedKeyring::new(Arc::clone(&store), provider.clone(), policy);
        for (i, envelope) in &sealed {
            let keyring = managed.get().await.unwrap();
            assert_eq!(keyring.open::<i64>(&ctx, envelope).unwrap(), *i as i64);
        }
        let calls = provider.unwraps.load(Ordering::SeqCst);
        eprintln!("100000 values under 3 data keys, {policy:?}: {calls} provider unwrap(s)");
        assert_eq!(calls, expected_unwraps);
        assert_eq!(managed.loads(), expected_unwraps);
    }

    // Expiry by time: a zero TTL unwraps on every use.
    provider.unwraps.store(0, Ordering::SeqCst);
    let managed = ManagedKeyring::new(
        Arc::clone(&store),
        provider.clone(),
        CachePolicy {
            ttl: Duration::ZERO,
            max_uses: u64::MAX,
        },
    );
    for _ in 0..3 {
        managed.get().await.unwrap();
    }
    assert_eq!(provider.unwraps.load(Ordering::SeqCst), 3);

    // Pinned above the stored generation (1): a rolled-back store is refused on load.
    let pinned = ManagedKeyring::new(Arc::clone(&store), provider.clone(), CachePolicy::default())
        .with_pins(fieldcrypt_kms::Pins {
            keyring_id: None,
            min_generation: Some(2),
        });
    assert!(matches!(
        pinned.get().await,
        Err(KmsError::Rollback {
            found: 1,
            pinned: 2
        })
    ));
}

#[tokio::test]
async fn a_document_naming_other_settings_is_refused_before_the_provider_is_called() {
    let provider = Counting {
        inner: env_key(),
        unwraps: AtomicU64::new(0),
    };
    let unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let doc = unlocked.to_document().unwrap();
    // The document names another variable than the one configured.
    let mut edited = doc.clone();
    edited
        .kek
        .settings
        .insert("variable".to_owned(), "VAULT_TOKEN".into());
    let err = UnlockedKeyring::open(&edited, &provider).await.unwrap_err();
    assert!(
        matches!(&err, KmsError::SettingMismatch { setting, document, .. }
            if setting == "variable" && document == "VAULT_TOKEN"),
        "{err}"
    );
    // A setting the configured provider records but the document lacks is a mismatch too.
    let mut missing = doc.clone();
    missing.kek.settings.remove("variable");
    assert!(matches!(
        UnlockedKeyring::open(&missing, &provider).await,
        Err(KmsError::SettingMismatch { .. })
    ));
    assert_eq!(
        provider.unwraps.load(Ordering::SeqCst),
        0,
        "no provider call"
    );
    UnlockedKeyring::open(&doc, &provider).await.unwrap();
    assert_eq!(provider.unwraps.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_local_path_is_informational_and_the_fingerprint_decides() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKeyFile::create(&dir.path().join("a.key")).unwrap();
    let unlocked = UnlockedKeyring::generate(&key, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let doc = unlocked.to_document().unwrap();
    // The key moved: the configured file is used, whatever path the document recorded.
    std::fs::rename(dir.path().join("a.key"), dir.path().join("moved.key")).unwrap();
    let moved = MasterKeyFile::open(&dir.path().join("moved.key")).unwrap();
    UnlockedKeyring::open(&doc, &moved).await.unwrap();
    // A missing configured file names the recorded path, which is not opened.
    let err = MasterKeyFile::open_configured(
        &dir.path().join("nope.key"),
        &doc.kek.settings,
        &dir.path().join("keyring.json"),
    )
    .unwrap_err();
    assert!(
        matches!(&err, KmsError::MasterKeyElsewhere { recorded, .. } if recorded.ends_with("a.key")),
        "{err}"
    );
    // Where the document recorded this very file (or nothing), the error names the keyring.
    let mut settings = doc.kek.settings.clone();
    settings.remove("path");
    let err = MasterKeyFile::open_configured(
        &dir.path().join("nope.key"),
        &settings,
        &dir.path().join("keyring.json"),
    )
    .unwrap_err();
    assert!(matches!(&err, KmsError::NoMasterKey { .. }), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("nope.key") && message.contains("keyring.json"),
        "{message}"
    );
}

#[tokio::test]
async fn generations_count_saves_and_pins_refuse_old_or_other_documents() {
    use fieldcrypt_kms::Pins;
    let provider = env_key();
    let mut unlocked = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    assert_eq!(unlocked.generation(), 0);
    let first = unlocked.to_document().unwrap();
    assert_eq!(first.kek.settings["generation"], 1);
    unlocked.saved();
    unlocked.keyring.rotate().unwrap();
    let second = unlocked.to_document().unwrap();
    unlocked.saved();
    assert_eq!(second.kek.settings["generation"], 2);
    let reopened = UnlockedKeyring::open(&second, &provider).await.unwrap();
    assert_eq!(reopened.generation(), 2);

    // The older copy is refused once the application pins generation 2; the MAC covers the
    // generation, so it cannot be edited upwards either.
    let pins = Pins {
        min_generation: Some(2),
        ..Pins::default()
    };
    let err = UnlockedKeyring::open_pinned(&first, &provider, &pins)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            KmsError::Rollback {
                found: 1,
                pinned: 2
            }
        ),
        "{err}"
    );
    let mut forged = first.clone();
    forged
        .kek
        .settings
        .insert("generation".to_owned(), 2.into());
    let err = UnlockedKeyring::open_pinned(&forged, &provider, &pins)
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            KmsError::Core(fieldcrypt::Error::Keyring(KeyringError::MacMismatch))
        ),
        "{err}"
    );
    UnlockedKeyring::open_pinned(&second, &provider, &pins)
        .await
        .unwrap();

    // Another keyring than the pinned one, under the same provider: refused.
    let other = UnlockedKeyring::generate(&provider, Suite::KcXaes256Gcm)
        .await
        .unwrap()
        .to_document()
        .unwrap();
    let pins = Pins {
        keyring_id: Some(unlocked.keyring.id()),
        min_generation: None,
    };
    assert!(matches!(
        UnlockedKeyring::open_pinned(&other, &provider, &pins).await,
        Err(KmsError::NotPinnedKeyring { .. })
    ));
}

#[tokio::test]
async fn retiring_rewraps_under_a_fresh_kek() {
    let dir = tempfile::tempdir().unwrap();
    let key = MasterKeyFile::create(&dir.path().join("m.key")).unwrap();
    let mut unlocked = UnlockedKeyring::generate(&key, Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let ctx = Context::new("people", "ssn").unwrap();
    let old_value = unlocked.keyring.seal(&ctx, "078-05-1120").unwrap();
    let old_key = unlocked.keyring.primary();
    unlocked.keyring.rotate().unwrap();
    let before = unlocked.to_document().unwrap();
    unlocked.saved();
    unlocked.retire(&key, old_key).await.unwrap();
    let after = unlocked.to_document().unwrap();
    // A new document KEK: the provider-wrapped KEK and the KEK fingerprint both change.
    assert_ne!(
        before.kek.settings["wrapped_kek"],
        after.kek.settings["wrapped_kek"]
    );
    assert_ne!(before.kek.fingerprint, after.kek.fingerprint);
    let reopened = UnlockedKeyring::open(&after, &key).await.unwrap();
    assert!(reopened.keyring.open::<String>(&ctx, &old_value).is_err());
    // The older copy still holds the key while the provider key that wrapped it exists: what
    // docs/KEYS.md says destroying takes.
    let old = UnlockedKeyring::open(&before, &key).await.unwrap();
    assert_eq!(
        old.keyring.open::<String>(&ctx, &old_value).unwrap(),
        "078-05-1120"
    );
    // Retiring the primary is refused and changes nothing.
    let primary = unlocked.keyring.primary();
    assert!(unlocked.retire(&key, primary).await.is_err());
    assert_eq!(
        unlocked.to_document().unwrap().kek.fingerprint,
        after.kek.fingerprint
    );
}

#[test]
fn argon2_parameters_are_bounded_on_read() {
    let mut settings = Settings::new();
    let params = KdfParams {
        memory_kib: 65_536,
        iterations: 3,
        parallelism: 1,
        salt: [1; 16],
    };
    let provider = PassphraseProvider::new(b"correct horse battery", fast_kdf()).unwrap();
    let recorded = provider.settings();
    for (k, v) in &recorded {
        settings.insert(k.clone(), v.clone());
    }
    for (name, value, ok) in [
        ("memory_kib", u64::from(KdfParams::MAX_MEMORY_KIB), true),
        (
            "memory_kib",
            u64::from(KdfParams::MAX_MEMORY_KIB) + 1,
            false,
        ),
        ("memory_kib", u64::from(u32::MAX), false),
        (
            "memory_kib",
            u64::from(KdfParams::MIN_MEMORY_KIB) - 1,
            false,
        ),
        ("iterations", 64, true),
        ("iterations", 65, false),
        ("iterations", 0, false),
        ("parallelism", 16, true),
        ("parallelism", 17, false),
        ("parallelism", 0, false),
    ] {
        let mut s = settings.clone();
        s.insert(name.to_owned(), value.into());
        assert_eq!(KdfParams::from_settings(&s).is_ok(), ok, "{name}={value}");
    }
    assert!(params.owasp_minimum_met());
    let weak = KdfParams {
        memory_kib: 19_456,
        iterations: 1,
        ..params.clone()
    };
    assert!(!weak.owasp_minimum_met(), "19 MiB needs 2 passes");
    assert!(
        KdfParams {
            iterations: 2,
            ..weak
        }
        .owasp_minimum_met()
    );
}

#[tokio::test]
async fn a_managed_keyring_never_reloads_an_older_generation_than_it_has_seen() {
    let dir = tempfile::tempdir().unwrap();
    let provider: Arc<dyn KeyProvider> = Arc::new(env_key());
    let store = Arc::new(FileStore::new(dir.path().join("keyring.json")));
    let mut unlocked = UnlockedKeyring::generate(provider.as_ref(), Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let first = unlocked.to_document().unwrap();
    let v1 = store.save(&first, None).await.unwrap();
    unlocked.saved();
    unlocked.keyring.rotate().unwrap();
    let second = unlocked.to_document().unwrap();
    let v2 = store.save(&second, Some(&v1)).await.unwrap();
    let managed = ManagedKeyring::new(store.clone(), provider, CachePolicy::default());
    assert_eq!(managed.get().await.unwrap().keys().count(), 2);
    // The store is rolled back to generation 1 (a restored backup); no pin was configured.
    store.save(&first, Some(&v2)).await.unwrap();
    managed.evict().await;
    assert!(matches!(
        managed.get().await,
        Err(KmsError::Rollback {
            found: 1,
            pinned: 2
        })
    ));
}
