//! Sharded jobs against real databases: three shards of one table run at once, plan their
//! ranges between them through `fieldcrypt_shards`, and together leave every row done, once;
//! integer and text keys; a stored plan that does not fit the key is refused.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldcrypt::{Context, Keyring, Suite};
use fieldcrypt_migrate::{
    ColumnJob, KeyRange, MigrateError, Operation, Pool, RowId, RunOptions, Shard, run,
};

mod common;
use common::*;

fn shard(index: u32, count: u32) -> RunOptions {
    RunOptions {
        batch: 50,
        shard: Some(Shard::new(index, count).unwrap()),
        ..RunOptions::default()
    }
}

/// `(key, value)` of every row, keys as text.
async fn rows(pool: &Pool, table: &str) -> Vec<(String, Option<String>)> {
    let sql = format!("SELECT CAST(id AS CHAR(64)), secret FROM {table} ORDER BY id");
    let sql = match pool {
        Pool::Postgres(_) => sql.replace("CHAR(64)", "TEXT"),
        Pool::Sqlite(_) => sql.replace("CHAR(64)", "TEXT"),
        _ => sql,
    };
    match pool {
        Pool::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
    }
}

/// The stored plans of `table`: `(shards, bounds)`.
async fn plans(pool: &Pool, table: &str) -> Vec<(i64, String)> {
    let sql = format!(
        "SELECT CAST(shards AS SIGNED), bounds FROM fieldcrypt_shards WHERE table_name = '{table}' ORDER BY shards"
    );
    match pool {
        Pool::Postgres(p) => sqlx::query_as(&sql.replace("SIGNED", "BIGINT"))
            .fetch_all(p)
            .await
            .unwrap(),
        Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::Sqlite(p) => sqlx::query_as(&sql.replace("SIGNED", "INTEGER"))
            .fetch_all(p)
            .await
            .unwrap(),
    }
}

/// Three shards of an encrypt-column at once over `table` (keys of `key_type`, `keys` of
/// them), then the checks: every value sealed once and opening to what it was, the shards'
/// counts adding up, one stored plan, and each shard's range as the plan says.
async fn three_shards(pool: &Pool, table: &str, key_type: &str, keys: &[String]) {
    exec(
        pool,
        &format!("CREATE TABLE {table} (id {key_type} PRIMARY KEY, secret TEXT)"),
    )
    .await;
    let values: Vec<String> = keys
        .iter()
        .map(|key| format!("({key}, 'value of {}')", key.trim_matches('\'')))
        .collect();
    exec(
        pool,
        &format!(
            "INSERT INTO {table} (id, secret) VALUES {}",
            values.join(", ")
        ),
    )
    .await;
    let before = rows(pool, table).await;
    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let job = ColumnJob::new(Operation::Encrypt, table, "secret");

    // The plan as a dry run sees it: nothing stored, every row pending in exactly one shard.
    let status = fieldcrypt_migrate::shard::status(pool, &job, &keyring, 3)
        .await
        .unwrap();
    assert_eq!(
        status.iter().map(|s| s.pending).sum::<u64>(),
        keys.len() as u64
    );
    assert!(status.iter().all(|s| s.pending > 0), "{status:?}");

    // Three jobs interleaved on this task, as three processes would run side by side.
    let options = [shard(1, 3), shard(2, 3), shard(3, 3)];
    let (mut quiet_a, mut quiet_b, mut quiet_c) = (|_| {}, |_| {}, |_| {});
    let (a, b, c) = tokio::join!(
        run(pool, &job, &keyring, &options[0], &mut quiet_a),
        run(pool, &job, &keyring, &options[1], &mut quiet_b),
        run(pool, &job, &keyring, &options[2], &mut quiet_c),
    );
    let summaries = [a.unwrap(), b.unwrap(), c.unwrap()];
    let written: u64 = summaries.iter().map(|s| s.written).sum();
    assert_eq!(written, keys.len() as u64, "every row once");
    for s in &summaries {
        assert!(s.is_clean(), "{s:?}");
        let v = s.verification.as_ref().unwrap();
        assert_eq!(
            v.checked, s.written,
            "each shard verifies its own range: {s:?}"
        );
    }
    // One plan, the one every shard used.
    let stored = plans(pool, table).await;
    assert_eq!(stored.len(), 1, "{stored:?}");
    assert_eq!(stored[0].0, 3);
    let ranges: Vec<KeyRange> = summaries
        .iter()
        .map(|s| s.shard.clone().unwrap().1)
        .collect();
    assert_eq!(ranges[0].lower, None);
    assert_eq!(ranges[0].upper, ranges[1].lower);
    assert_eq!(ranges[1].upper, ranges[2].lower);
    assert_eq!(ranges[2].upper, None);
    let status_after = fieldcrypt_migrate::shard::status(pool, &job, &keyring, 3)
        .await
        .unwrap();
    assert!(
        status_after.iter().all(|s| s.pending == 0),
        "{status_after:?}"
    );
    for (s, range) in status_after.iter().zip(&ranges) {
        assert_eq!(&s.range, range, "the dry run reads the stored plan");
    }

    let ctx = Context::new(table, "secret").unwrap();
    let after = rows(pool, table).await;
    assert_eq!(after.len(), before.len());
    for ((id, old), (_, new)) in before.iter().zip(&after) {
        let new = new.as_deref().unwrap();
        assert_eq!(
            keyring.open::<String>(&ctx, new.as_bytes()).unwrap(),
            old.clone().unwrap(),
            "row {id}"
        );
    }
    // Run again, shard by shard: nothing left in any.
    for i in 1..=3 {
        let again = run(pool, &job, &keyring, &shard(i, 3), &mut |_| {})
            .await
            .unwrap();
        assert_eq!((again.pending_at_start, again.written), (0, 0));
    }
}

macro_rules! suite {
    ($module:ident, $backend:literal) => {
        mod $module {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn three_shards_of_integer_keys_finish_the_table_once() {
                let Some((pool, _)) = connect($backend).await else { return };
                let keys: Vec<String> = (1..=600).map(|i| (i * 3 - 1000).to_string()).collect();
                three_shards(&pool, &unique("fcs_int"), "BIGINT", &keys).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn three_shards_of_text_keys_follow_the_databases_order() {
                let Some((pool, _)) = connect($backend).await else { return };
                // Upper and lower case, digits and punctuation: the database's collation orders
                // them, and the shards' ranges follow that order whatever it is.
                let keys: Vec<String> = (0..450)
                    .map(|i| {
                        let prefix = ["a", "B", "c", "D", "_", "9"][i % 6];
                        format!("'{prefix}-{i:04}'")
                    })
                    .collect();
                three_shards(&pool, &unique("fcs_text"), "VARCHAR(40)", &keys).await;
            }

            #[tokio::test]
            async fn a_stored_plan_that_does_not_fit_the_key_is_refused() {
                let Some((pool, _)) = connect($backend).await else { return };
                let t = unique("fcs_bad");
                exec(&pool, &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, secret TEXT)")).await;
                let values: Vec<String> = (1..=20).map(|i| format!("({i}, 'v{i}')")).collect();
                exec(&pool, &format!("INSERT INTO {t} (id, secret) VALUES {}", values.join(", "))).await;
                let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                let job = ColumnJob::new(Operation::Encrypt, &t, "secret");
                // The first shard stores the plan of two ...
                let first = run(&pool, &job, &keyring, &shard(1, 2), &mut |_| {}).await.unwrap();
                assert_eq!(first.shard.unwrap().1.upper, Some(RowId::Int(11)));
                // ... which someone then damages: keys of another type, or too few.
                for bounds in [r#"["11"]"#, "[]", "not json"] {
                    exec(&pool, &format!("UPDATE fieldcrypt_shards SET bounds = '{bounds}' WHERE table_name = '{t}'")).await;
                    let err = run(&pool, &job, &keyring, &shard(2, 2), &mut |_| {}).await.unwrap_err();
                    assert!(matches!(err, MigrateError::Invalid(_)), "{err:?}");
                    assert!(err.to_string().contains("fieldcrypt_shards"), "{err}");
                }
                // A count of shards out of range is refused before anything is read.
                for count in [0, 1025] {
                    let err = fieldcrypt_migrate::shard::status(&pool, &job, &keyring, count).await.unwrap_err();
                    assert!(matches!(err, MigrateError::Invalid(_)), "{err:?}");
                }
                // Nothing was written by the refused runs.
                let left = rows(&pool, &t).await.into_iter().filter(|(_, v)| v.as_deref().is_some_and(|v| v.starts_with('v'))).count();
                assert_eq!(left, 10);
            }
        }
    };
}

suite!(sqlite, "sqlite");
suite!(postgres, "postgres");
suite!(mysql, "mysql");
