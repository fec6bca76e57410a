//! The `query!` family with encrypted columns, on PostgreSQL, checked at compile time.
//!
//! The macros check every query against the database's schema while compiling: live when
//! `DATABASE_URL` is set, otherwise from the query data cached in `crates/fieldcrypt-sqlx/.sqlx`,
//! which `scripts/sqlx-prepare.sh` writes from the live server (`tests/macros_schema.sql`) and
//! `scripts/test.sh` checks against it (`--check`). Each pattern below is the one
//! docs/SQLX.md documents: an override in the select list names the Rust type, and `as _` lets a
//! bind take its type from the value.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::{contains, installed_keyring, unreachable};
use fieldcrypt::IndexDefinition;
use fieldcrypt_sqlx::{BlindIndex, Encrypted, IndexValue};

fieldcrypt_sqlx::column!(MacroEmail = "fc_macro_customers"."email");
fieldcrypt_sqlx::column!(MacroNotes = "fc_macro_customers"."notes" as Text);

/// What `query_as!` fills: encrypted fields are plain values to the code that uses them.
struct Customer {
    id: i64,
    email: Encrypted<String, MacroEmail>,
    email_idx: IndexValue,
    notes: Option<Encrypted<String, MacroNotes>>,
}

#[tokio::test]
async fn query_macros_read_and_write_encrypted_columns() {
    let url = std::env::var("FIELDCRYPT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
    let pool = match sqlx::PgPool::connect(&url).await {
        Ok(pool) => pool,
        Err(err) => return unreachable("PostgreSQL", &url, &err),
    };
    sqlx::raw_sql(include_str!("macros_schema.sql"))
        .execute(&pool)
        .await
        .unwrap();
    let keyring = installed_keyring();
    let index = BlindIndex::new(
        IndexDefinition::new("fc_macro_customers", "email", "email_idx", 16)
            .normalized(fieldcrypt::Normalizer::parse_list("nfkc,trim,casefold").unwrap()),
    )
    .unwrap();

    let rows = [
        (1_i64, "ann@example.org", Some("prefers email")),
        (2, "bob@example.org", None),
        (3, "", Some("")),
    ];
    for (id, email, notes) in rows {
        let email_idx = index.value(&keyring, email).unwrap();
        let email = Encrypted::<String, MacroEmail>::new(email.to_owned());
        let notes = notes.map(|n| Encrypted::<String, MacroNotes>::new(n.to_owned()));
        sqlx::query!(
            "INSERT INTO fc_macro_customers (id, email, email_idx, notes) VALUES ($1, $2, $3, $4)",
            id,
            email as _,
            email_idx as _,
            notes as _
        )
        .execute(&pool)
        .await
        .unwrap();
    }

    // query_as!: nullability comes from the schema (notes is nullable, so it is an Option).
    let ann = sqlx::query_as!(
        Customer,
        r#"SELECT id, email AS "email: Encrypted<String, MacroEmail>", email_idx AS "email_idx: IndexValue",
                  notes AS "notes: Encrypted<String, MacroNotes>"
           FROM fc_macro_customers WHERE id = $1"#,
        1_i64
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (ann.id, ann.email.plaintext().as_str()),
        (1, "ann@example.org")
    );
    assert_eq!(
        ann.notes.as_ref().map(|n| n.plaintext().as_str()),
        Some("prefers email")
    );
    assert_eq!(
        ann.email_idx,
        index.value(&keyring, "ann@example.org").unwrap()
    );

    // query!: an anonymous record, NULL and the empty string kept apart.
    let all = sqlx::query!(
        r#"SELECT id, notes AS "notes: Encrypted<String, MacroNotes>" FROM fc_macro_customers ORDER BY id"#
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let notes: Vec<Option<String>> = all
        .into_iter()
        .map(|r| r.notes.map(Encrypted::into_inner))
        .collect();
    assert_eq!(
        notes,
        [Some("prefers email".to_owned()), None, Some(String::new())]
    );

    // query_scalar!: search by the blind index, with every root the keyring holds, then confirm
    // the candidates by opening them (a 16-bit index has false positives by design).
    let lookup = index.lookup(&keyring, "  BOB@Example.ORG ").unwrap();
    let wanted: Vec<i64> = lookup.values().iter().map(|v| v.get()).collect();
    let candidates = sqlx::query!(
        r#"SELECT id, email AS "email: Encrypted<String, MacroEmail>" FROM fc_macro_customers WHERE email_idx = ANY($1)"#,
        &wanted
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    let found: Vec<i64> = candidates
        .into_iter()
        .filter(|c| index.matches("bob@example.org", c.email.plaintext()))
        .map(|c| c.id)
        .collect();
    assert_eq!(found, [2]);

    // The raw column, read as bytes by a macro too, holds an envelope and not the plaintext.
    let raw = sqlx::query_scalar!("SELECT email FROM fc_macro_customers WHERE id = 1")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(raw[0], 0xFC, "a binary envelope");
    assert!(!contains(&raw, b"ann@example.org"));
}
