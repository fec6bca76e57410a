//! MariaDB/MySQL outside strict mode (`sql_mode=''`) truncate a value too long for its column
//! with only a warning: an envelope written over a `VARCHAR` plaintext would destroy it. The job
//! refuses a column too narrow for any envelope, lists (and never writes) each row whose envelope
//! would not fit, and runs its own sessions in strict mode besides.
//!
//! This sets the server's global `sql_mode` for the duration of the test and puts it back; it is
//! its own test binary, so no other test of this crate runs against the server meanwhile.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldcrypt::{Context, Keyring, Suite};
use fieldcrypt_migrate::{ColumnJob, MigrateError, Operation, Pool, RunOptions, run};

fn url() -> String {
    std::env::var("FIELDCRYPT_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306/test".to_owned())
}

#[test]
fn nothing_is_truncated_on_a_server_outside_strict_mode() {
    let runtime = || {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    runtime().block_on(around(runtime));
}

/// Sets the global mode, runs the checks on a thread of their own (a failed assertion is that
/// thread's panic), puts the mode back, then fails if they did.
async fn around(runtime: impl FnOnce() -> tokio::runtime::Runtime + Send + 'static) {
    let admin = match sqlx::MySqlPool::connect(&url()).await {
        Ok(pool) => pool,
        Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("MariaDB is required under CI=true but is not reachable: {e}")
        }
        Err(e) => {
            eprintln!("\n*** SKIPPED: MariaDB not reachable: {e} ***\n");
            return;
        }
    };
    let before: String = sqlx::query_scalar("SELECT @@GLOBAL.sql_mode")
        .fetch_one(&admin)
        .await
        .unwrap();
    sqlx::query("SET GLOBAL sql_mode = ''")
        .execute(&admin)
        .await
        .unwrap();
    let outcome = tokio::task::spawn_blocking(move || {
        std::thread::spawn(move || runtime().block_on(checks())).join()
    })
    .await
    .unwrap();
    sqlx::query("SET GLOBAL sql_mode = ?")
        .bind(&before)
        .execute(&admin)
        .await
        .unwrap();
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn checks() {
    let pool = Pool::connect(&url()).await.unwrap();
    let Pool::MySql(p) = &pool else {
        unreachable!()
    };
    // The server is non-strict: a plain session truncates.
    let probe = format!("fcm_probe_{}", std::process::id());
    sqlx::raw_sql(&format!(
        "DROP TABLE IF EXISTS {probe}; CREATE TABLE {probe} (v VARCHAR(3))"
    ))
    .execute(p)
    .await
    .unwrap();
    let plain = sqlx::MySqlPool::connect(&url()).await.unwrap();
    let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
        .fetch_one(&plain)
        .await
        .unwrap();
    assert!(!mode.contains("STRICT"), "{mode}");
    // The job's own sessions are strict.
    let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
        .fetch_one(p)
        .await
        .unwrap();
    assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");
    assert!(
        sqlx::query(&format!("INSERT INTO {probe} VALUES ('abcdef')"))
            .execute(p)
            .await
            .is_err(),
        "a job session refuses a value too long"
    );

    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let sixty_four = |i: u32| format!("{i:03}-{}@example.org", "x".repeat(48));
    assert_eq!(sixty_four(1).len(), 64);

    // VARCHAR(100) cannot hold even the shortest envelope (104 characters): refused before
    // anything is written.
    let narrow = format!("fcm_narrow_{}", std::process::id());
    let mut sql = format!(
        "DROP TABLE IF EXISTS {narrow}; CREATE TABLE {narrow} (id BIGINT PRIMARY KEY, email VARCHAR(100)); INSERT INTO {narrow} VALUES "
    );
    sql.push_str(
        &(1..=2)
            .map(|i| format!("({i}, '{}')", sixty_four(i)))
            .collect::<Vec<_>>()
            .join(","),
    );
    sqlx::raw_sql(&sql).execute(p).await.unwrap();
    let job = ColumnJob::new(Operation::Encrypt, &narrow, "email");
    let err = run(&pool, &job, &keyring, &RunOptions::default(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MigrateError::UnsupportedType { why, .. } if why.contains("too narrow")),
        "{err}"
    );
    let rows: Vec<(i64, String)> =
        sqlx::query_as(&format!("SELECT id, email FROM {narrow} ORDER BY id"))
            .fetch_all(p)
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![(1, sixty_four(1)), (2, sixty_four(2))],
        "both plaintexts intact"
    );

    // VARCHAR(150): short values' envelopes fit (117 characters), 64-character values' do not
    // (189): those rows are listed, left as they are, never written.
    let t = format!("fcm_fit_{}", std::process::id());
    let mut sql = format!(
        "DROP TABLE IF EXISTS {t}; CREATE TABLE {t} (id BIGINT PRIMARY KEY, email VARCHAR(150)); INSERT INTO {t} VALUES "
    );
    let value = |i: u32| {
        if i.is_multiple_of(2) {
            sixty_four(i)
        } else {
            format!("u{i}@ex.org")
        }
    };
    sql.push_str(
        &(1..=10)
            .map(|i| format!("({i}, '{}')", value(i)))
            .collect::<Vec<_>>()
            .join(","),
    );
    sqlx::raw_sql(&sql).execute(p).await.unwrap();
    let job = ColumnJob::new(Operation::Encrypt, &t, "email");
    let summary = run(&pool, &job, &keyring, &RunOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        (summary.written, summary.failed, summary.too_long),
        (5, 5, 5),
        "{summary:?}"
    );
    assert_eq!(summary.failed_keys, ["2", "4", "6", "8", "10"]);
    assert_eq!(summary.target_limit.as_deref(), Some("150 characters"));
    assert!(!summary.is_clean());
    let context = Context::new(t.as_str(), "email").unwrap();
    let rows: Vec<(i64, String)> =
        sqlx::query_as(&format!("SELECT id, email FROM {t} ORDER BY id"))
            .fetch_all(p)
            .await
            .unwrap();
    for (id, stored) in rows {
        let i = u32::try_from(id).unwrap();
        if i.is_multiple_of(2) {
            assert_eq!(stored, sixty_four(i), "row {id}: the plaintext is intact");
        } else {
            let opened: String = keyring.open(&context, stored.as_bytes()).unwrap();
            assert_eq!(opened, value(i));
        }
    }
    sqlx::raw_sql(&format!(
        "DROP TABLE {probe}; DROP TABLE {narrow}; DROP TABLE {t}"
    ))
    .execute(p)
    .await
    .unwrap();
}
