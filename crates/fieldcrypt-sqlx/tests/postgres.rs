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

/// PostgreSQL's own form of a search: the index values as one `int8[]` for `= ANY($1)`, through
/// the `query_as!`-style static SQL (no `QueryBuilder`).
#[tokio::test]
async fn a_search_binds_as_an_array_for_any() {
    fieldcrypt_sqlx::column!(pub Email = "fc_search_any"."email",
        index "email_idx" (nfkc, casefold), rows 1_000);
    let Some(pool) = pool().await else { return };
    installed_keyring();
    fresh_table(
        &pool,
        "fc_search_any",
        "id BIGINT PRIMARY KEY, email BYTEA, email_idx BIGINT",
    )
    .await;
    for id in 1..=100_i64 {
        let (email, idx) = Email::indexed(format!("user{id}@example.org")).unwrap();
        sqlx::query("INSERT INTO fc_search_any (id, email, email_idx) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(email)
            .bind(idx)
            .execute(&pool)
            .await
            .unwrap();
    }
    let search = Email::search("USER7@example.org").unwrap();
    let rows: Vec<(i64, Encrypted<String, Email>)> =
        sqlx::query_as("SELECT id, email FROM fc_search_any WHERE email_idx = ANY($1)")
            .bind(search.ints())
            .fetch_all(&pool)
            .await
            .unwrap();
    let kept = search.keep(rows, |(_, e)| e.plaintext().as_str());
    assert_eq!(kept.iter().map(|(id, _)| *id).collect::<Vec<_>>(), [7]);
}
