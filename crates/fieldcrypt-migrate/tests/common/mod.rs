//! What the jobs' tests share: a pool on each database (SQLite in a temporary file, the
//! development machine's PostgreSQL and MariaDB; with CI=true an unreachable server fails the
//! run, elsewhere the test says loudly that it skips), raw SQL, unique table names, reads and
//! writes of a test table, and a job run with small batches.
#![allow(dead_code)]

use fieldcrypt::Keyring;
use fieldcrypt_migrate::{ColumnJob, Pool, RunOptions, Summary, run};

pub(crate) fn url(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_owned())
}

pub(crate) async fn connect(backend: &str) -> Option<(Pool, &'static str)> {
    let (url, blob, text) = match backend {
        "sqlite" => {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("t.db");
            std::mem::forget(dir);
            (
                format!("sqlite://{}?mode=rwc", path.display()),
                "BLOB",
                "TEXT",
            )
        }
        "postgres" => (
            url(
                "FIELDCRYPT_TEST_POSTGRES_URL",
                "postgres://postgres@127.0.0.1:5432/test",
            ),
            "BYTEA",
            "TEXT",
        ),
        _ => (
            url(
                "FIELDCRYPT_TEST_MYSQL_URL",
                "mysql://root@127.0.0.1:3306/test",
            ),
            "LONGBLOB",
            "LONGTEXT",
        ),
    };
    let _ = text;
    match Pool::connect(&url).await {
        Ok(pool) => Some((pool, blob)),
        Err(e) => {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{backend} is required under CI=true but is not reachable: {e}");
            }
            eprintln!("\n*** SKIPPED: {backend} not reachable: {e} ***\n");
            None
        }
    }
}

/// Runs raw SQL (DDL, fixtures) on whichever database.
pub(crate) async fn exec(pool: &Pool, sql: &str) {
    match pool {
        Pool::Postgres(p) => {
            sqlx::raw_sql(sql).execute(p).await.unwrap();
        }
        Pool::MySql(p) => {
            sqlx::raw_sql(sql).execute(p).await.unwrap();
        }
        Pool::Sqlite(p) => {
            sqlx::raw_sql(sql).execute(p).await.unwrap();
        }
    }
}

pub(crate) fn unique(name: &str) -> String {
    let r = fieldcrypt::random_array::<4>().unwrap();
    format!("{name}_{:02x}{:02x}{:02x}{:02x}", r[0], r[1], r[2], r[3])
}

/// `(id, value)` of every row of `table.column`, as text or bytes.
pub(crate) async fn read_text(
    pool: &Pool,
    table: &str,
    column: &str,
) -> Vec<(i64, Option<String>)> {
    let sql = format!("SELECT id, {column} FROM {table} ORDER BY id");
    match pool {
        Pool::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
    }
}

pub(crate) async fn read_bytes(
    pool: &Pool,
    table: &str,
    column: &str,
) -> Vec<(i64, Option<Vec<u8>>)> {
    let sql = format!("SELECT id, {column} FROM {table} ORDER BY id");
    match pool {
        Pool::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
        Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
    }
}

pub(crate) async fn update_text(pool: &Pool, table: &str, id: i64, value: &str) {
    let sql = match pool {
        Pool::Postgres(_) => format!("UPDATE {table} SET secret = $1 WHERE id = $2"),
        _ => format!("UPDATE {table} SET secret = ? WHERE id = ?"),
    };
    match pool {
        Pool::Postgres(p) => sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()),
        Pool::MySql(p) => sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()),
        Pool::Sqlite(p) => sqlx::query(&sql)
            .bind(value)
            .bind(id)
            .execute(p)
            .await
            .map(|_| ()),
    }
    .unwrap();
}

pub(crate) async fn job(pool: &Pool, job: &ColumnJob, keyring: &Keyring) -> Summary {
    run(
        pool,
        job,
        keyring,
        &RunOptions {
            batch: 97,
            ..RunOptions::default()
        },
        &mut |_| {},
    )
    .await
    .unwrap()
}
