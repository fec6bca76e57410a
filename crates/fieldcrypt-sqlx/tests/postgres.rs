//! The integration suite on PostgreSQL (`FIELDCRYPT_TEST_POSTGRES_URL`, default the local server).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

backend_suite!(sqlx::Postgres, POSTGRES, {
    let url = url(
        "FIELDCRYPT_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    match sqlx::postgres::PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await
    {
        Ok(pool) => Some(pool),
        Err(err) => {
            unreachable("PostgreSQL", &url, &err);
            None
        }
    }
});
