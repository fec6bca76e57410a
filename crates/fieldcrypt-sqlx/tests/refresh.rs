//! `keystore::refresh_installed`: transparent columns follow the keyring in the
//! `fieldcrypt_keys` table as another process rotates it. In a binary of its own, because it
//! installs keyrings process-wide (SQLite in a temporary file).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use fieldcrypt::Suite;
use fieldcrypt_kms::local::MasterKeyFile;
use fieldcrypt_kms::{CachePolicy, KeyringStore as _, ManagedKeyring, UnlockedKeyring};
use fieldcrypt_sqlx::keystore::refresh_installed;
use fieldcrypt_sqlx::{Encrypted, TableStore};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

fieldcrypt_sqlx::column!(Notes = "patients"."notes");

#[tokio::test]
async fn transparent_columns_follow_a_rotation_made_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let pool = SqlitePoolOptions::new()
        .connect_with(
            SqliteConnectOptions::new()
                .filename(dir.path().join("app.db"))
                .create_if_missing(true),
        )
        .await
        .unwrap();
    sqlx::query("CREATE TABLE patients (id INTEGER PRIMARY KEY, notes BLOB NOT NULL)")
        .execute(&pool)
        .await
        .unwrap();
    let store = TableStore::new(pool.clone(), "default").unwrap();
    store.create_table().await.unwrap();
    let master = Arc::new(MasterKeyFile::open_or_create(&dir.path().join("master.key")).unwrap());
    let first = UnlockedKeyring::generate(master.as_ref(), Suite::KcXaes256Gcm)
        .await
        .unwrap();
    let v1 = store
        .save(&first.to_document().unwrap(), None)
        .await
        .unwrap();

    // The application: keys from the table, cached for 200 ms.
    let managed = ManagedKeyring::new(
        Arc::new(store.clone()),
        master.clone(),
        CachePolicy {
            ttl: Duration::from_millis(200),
            max_uses: u64::MAX,
        },
    );
    let installed = refresh_installed(&managed).await.unwrap();
    let old_primary = installed.primary();
    sqlx::query("INSERT INTO patients (id, notes) VALUES (1, ?)")
        .bind(Encrypted::<String, Notes>::new("before".to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    // Within the TTL, a refresh is the same keyring and no provider call.
    let again = refresh_installed(&managed).await.unwrap();
    assert!(Arc::ptr_eq(&installed, &again));
    assert_eq!(managed.loads(), 1);

    // An operator rotates in another process (here: another handle on the same row).
    let mut operator = UnlockedKeyring::open(
        &store.load().await.unwrap().unwrap().document,
        master.as_ref(),
    )
    .await
    .unwrap();
    let new_primary = operator.keyring.rotate().unwrap();
    store
        .save(&operator.to_document().unwrap(), Some(&v1))
        .await
        .unwrap();

    // After the TTL, the refresh installs the rotated keyring: new rows use the new key, old
    // rows still open.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let rotated = refresh_installed(&managed).await.unwrap();
    assert_eq!(managed.loads(), 2);
    assert_ne!(old_primary, new_primary);
    assert_eq!(rotated.primary(), new_primary);
    assert_eq!(fieldcrypt_sqlx::installed().unwrap().primary(), new_primary);
    sqlx::query("INSERT INTO patients (id, notes) VALUES (2, ?)")
        .bind(Encrypted::<String, Notes>::new("after".to_owned()))
        .execute(&pool)
        .await
        .unwrap();
    let rows: Vec<(i64, Encrypted<String, Notes>)> =
        sqlx::query_as("SELECT id, notes FROM patients ORDER BY id")
            .fetch_all(&pool)
            .await
            .unwrap();
    let notes: Vec<&str> = rows.iter().map(|(_, n)| n.plaintext().as_str()).collect();
    assert_eq!(notes, ["before", "after"]);
    let raw: Vec<u8> = sqlx::query_scalar("SELECT notes FROM patients WHERE id = 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    let envelope = fieldcrypt::Envelope::parse(&raw).unwrap();
    assert_eq!(
        envelope.header().key_id,
        new_primary,
        "new rows are sealed under the new key"
    );

    // A store that fails (the row is gone) leaves the installed keyring in place.
    tokio::time::sleep(Duration::from_millis(250)).await;
    sqlx::query("DELETE FROM fieldcrypt_keys")
        .execute(&pool)
        .await
        .unwrap();
    assert!(refresh_installed(&managed).await.is_err());
    assert_eq!(fieldcrypt_sqlx::installed().unwrap().primary(), new_primary);
}
