//! The compare-and-swap is byte for byte: an application write made in the window between a
//! batch's read and its write, that changes only what a collation or float equality ignores
//! (case, trailing spaces, the sign of zero), is never overwritten by the job. Each test makes
//! that write through the engine's `before_write` hook, on the database whose comparison would
//! have matched: SQLite `COLLATE NOCASE` and `RTRIM`, a PostgreSQL ICU non-deterministic
//! collation, a PostgreSQL `float8` (`-0.0 = 0.0`). And MySQL/MariaDB `latin1` columns, whose
//! bytes never equalled the utf8mb4 parameter, are encrypted like any other.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fieldcrypt::{Context, Keyring, Suite};
use fieldcrypt_migrate::{BeforeWrite, ColumnJob, Operation, Pool, RunOptions, Summary, run};

async fn connect(backend: &str) -> Option<Pool> {
    let url = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            std::mem::forget(dir);
            format!("sqlite://{}?mode=rwc", path.display())
        }
        "postgres" => std::env::var("FIELDCRYPT_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned()),
        _ => std::env::var("FIELDCRYPT_TEST_MYSQL_URL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned()),
    };
    match Pool::connect(&url).await {
        Ok(pool) => Some(pool),
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{backend} is required under CI=true but is not reachable: {e}")
        }
        Err(e) => {
            eprintln!("\n*** SKIPPED: {backend} not reachable: {e} ***\n");
            None
        }
    }
}

async fn exec(pool: &Pool, sql: &str) {
    match pool {
        Pool::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Pool::MySql(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        Pool::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn unique(name: &str) -> String {
    let r = fieldcrypt::random_array::<4>().unwrap();
    format!("{name}_{}", u32::from_le_bytes(r))
}

/// Options whose hook runs `sql` once, before the first batch write: after the job read the
/// batch, before its compare-and-swap.
fn write_in_the_window(pool: &Pool, sql: String) -> RunOptions {
    let done = Arc::new(AtomicBool::new(false));
    let pool = pool.clone();
    let hook = move || -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let (pool, sql, done) = (pool.clone(), sql.clone(), Arc::clone(&done));
        Box::pin(async move {
            if !done.swap(true, Ordering::SeqCst) {
                exec(&pool, &sql).await;
            }
        })
    };
    RunOptions {
        batch: 10,
        parallel: 1,
        before_write: BeforeWrite(Some(Arc::new(hook))),
        ..RunOptions::default()
    }
}

async fn texts(pool: &Pool, table: &str, column: &str) -> Vec<(i64, String)> {
    let sql = format!("SELECT id, {column} FROM {table} ORDER BY id");
    match pool {
        Pool::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
    }
}

/// Encrypts `table.column` in place with the application's write of `new` to row 1 in the
/// window; returns the summary and what row 1 opens to.
async fn encrypt_with_a_write_in_the_window(
    pool: &Pool,
    table: &str,
    column: &str,
    new: &str,
) -> (Summary, String) {
    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let options = write_in_the_window(
        pool,
        format!("UPDATE {table} SET {column} = '{new}' WHERE id = 1"),
    );
    let job = ColumnJob::new(Operation::Encrypt, table, column);
    let summary = run(pool, &job, &keyring, &options, &mut |_| {})
        .await
        .unwrap();
    let context = Context::new(table, column).unwrap();
    let rows = texts(pool, table, column).await;
    let opened: String = keyring.open(&context, rows[0].1.as_bytes()).unwrap();
    for (id, stored) in &rows {
        assert!(stored.starts_with("fc1c1."), "row {id} left: {stored:?}");
    }
    (summary, opened)
}

#[tokio::test]
async fn sqlite_nocase_and_rtrim_columns_keep_a_concurrent_write() {
    let Some(pool) = connect("sqlite").await else {
        return;
    };
    for (collation, before, after) in [
        ("NOCASE", "ann@example.org", "Ann@Example.ORG"),
        ("RTRIM", "ann@example.org", "ann@example.org   "),
    ] {
        let t = unique("fcm_cas");
        exec(
            &pool,
            &format!(
                "CREATE TABLE {t} (id INTEGER PRIMARY KEY, email TEXT COLLATE {collation}); \
                 INSERT INTO {t} VALUES (1, '{before}'), (2, 'bob@example.org')"
            ),
        )
        .await;
        let (summary, opened) = encrypt_with_a_write_in_the_window(&pool, &t, "email", after).await;
        assert_eq!(
            opened, after,
            "{collation}: the application's write was overwritten"
        );
        assert_eq!(summary.concurrent, 1, "{collation}: {summary:?}");
        assert!(summary.is_clean(), "{collation}: {summary:?}");
    }
}

#[tokio::test]
async fn postgres_non_deterministic_collation_keeps_a_concurrent_write() {
    let Some(pool) = connect("postgres").await else {
        return;
    };
    // Case-insensitive, accent-sensitive (ICU level 2): 'Ann' = 'ann' under it.
    exec(
        &pool,
        "DO $$ BEGIN CREATE COLLATION fcm_ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false); \
         EXCEPTION WHEN duplicate_object THEN NULL; END $$",
    )
    .await;
    let t = unique("fcm_cas");
    exec(
        &pool,
        &format!(
            "CREATE TABLE {t} (id BIGINT PRIMARY KEY, email TEXT COLLATE fcm_ci); \
             INSERT INTO {t} VALUES (1, 'ann@example.org'), (2, 'bob@example.org')"
        ),
    )
    .await;
    // The collation itself would match: the job's old comparison did.
    let Pool::Postgres(p) = &pool else {
        unreachable!()
    };
    let same: bool = sqlx::query_scalar(&format!(
        "SELECT email = 'ANN@EXAMPLE.ORG' FROM {t} WHERE id = 1"
    ))
    .fetch_one(p)
    .await
    .unwrap();
    assert!(same, "the collation compares without case");
    let (summary, opened) =
        encrypt_with_a_write_in_the_window(&pool, &t, "email", "ANN@EXAMPLE.ORG").await;
    assert_eq!(opened, "ANN@EXAMPLE.ORG");
    assert_eq!(summary.concurrent, 1, "{summary:?}");
    assert!(summary.is_clean(), "{summary:?}");
}

#[tokio::test]
async fn postgres_float_sign_of_zero_is_a_change() {
    let Some(pool) = connect("postgres").await else {
        return;
    };
    let t = unique("fcm_cas");
    exec(
        &pool,
        &format!(
            "CREATE TABLE {t} (id BIGINT PRIMARY KEY, amount float8, amount_enc BYTEA); \
             INSERT INTO {t} (id, amount) VALUES (1, 0.0), (2, 2.5)"
        ),
    )
    .await;
    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let options = write_in_the_window(&pool, format!("UPDATE {t} SET amount = '-0' WHERE id = 1"));
    let mut job = ColumnJob::new(Operation::Encrypt, &t, "amount");
    job.into = Some("amount_enc".to_owned());
    let summary = run(&pool, &job, &keyring, &options, &mut |_| {})
        .await
        .unwrap();
    let Pool::Postgres(p) = &pool else {
        unreachable!()
    };
    let sealed: Vec<u8> = sqlx::query_scalar(&format!("SELECT amount_enc FROM {t} WHERE id = 1"))
        .fetch_one(p)
        .await
        .unwrap();
    let opened: f64 = keyring
        .open(&Context::new(t.as_str(), "amount_enc").unwrap(), &sealed)
        .unwrap();
    assert_eq!(
        opened.to_bits(),
        (-0.0_f64).to_bits(),
        "sealed +0.0 over -0.0"
    );
    assert_eq!(summary.concurrent, 1, "{summary:?}");
    assert!(summary.is_clean(), "{summary:?}");
}

#[tokio::test]
async fn mysql_latin1_columns_are_encrypted_and_keep_a_concurrent_write() {
    let Some(pool) = connect("mysql").await else {
        return;
    };
    let t = unique("fcm_cas");
    exec(
        &pool,
        &format!(
            "CREATE TABLE {t} (id BIGINT PRIMARY KEY, name VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_swedish_ci); \
             INSERT INTO {t} VALUES (1, 'José'), (2, 'Zoë Ångström'), (3, 'plain')"
        ),
    )
    .await;
    // latin1_swedish_ci ignores case: 'JOSÉ' = 'José' under it.
    let (summary, opened) = encrypt_with_a_write_in_the_window(&pool, &t, "name", "JOSÉ").await;
    assert_eq!(opened, "JOSÉ");
    assert_eq!(summary.concurrent, 1, "{summary:?}");
    assert!(summary.is_clean(), "{summary:?}");
    let keyring_free = texts(&pool, &t, "name").await;
    assert_eq!(keyring_free.len(), 3);
}

#[tokio::test]
async fn postgres_character_n_is_refused_with_the_conversion() {
    let Some(pool) = connect("postgres").await else {
        return;
    };
    let t = unique("fcm_bpchar");
    exec(
        &pool,
        &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, code CHARACTER(200)); INSERT INTO {t} VALUES (1, 'ab')"),
    )
    .await;
    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let job = ColumnJob::new(Operation::Encrypt, &t, "code");
    let err = run(&pool, &job, &keyring, &RunOptions::default(), &mut |_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("pads every value with spaces"), "{err}");
    assert!(err.contains("TYPE varchar(n)"), "{err}");
    let rows = texts(&pool, &t, "code").await;
    assert_eq!(rows[0].1.trim_end(), "ab", "nothing written");
}
