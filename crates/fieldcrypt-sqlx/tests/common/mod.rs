//! The integration suite, run against each database by `backend_suite!` in `sqlite.rs`,
//! `postgres.rs` and `mysql.rs`. Every test creates its own tables, so tests run in parallel.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::panic,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::sync::{Arc, OnceLock};

use fieldcrypt::{Keyring, Suite};

/// `sqlx::query`, `query_as` and `query_scalar` for the SQL this suite assembles, on either
/// sqlx version (0.9 takes dynamic SQL only as `AssertSqlSafe`): the suite runs on both.
pub mod q {
    use fieldcrypt_sqlx::compat::Arguments;
    use sqlx::query::{Query, QueryAs, QueryScalar};
    use sqlx::{Database, FromRow};

    #[cfg(not(all(feature = "sqlx-09", not(feature = "sqlx-08"))))]
    fn sql(sql: &str) -> &str {
        sql
    }
    #[cfg(all(feature = "sqlx-09", not(feature = "sqlx-08")))]
    fn sql(sql: &str) -> sqlx::AssertSqlSafe<String> {
        sqlx::AssertSqlSafe(sql.to_owned())
    }

    pub fn query<'q, DB: Database>(text: &'q str) -> Query<'q, DB, Arguments<'q, DB>> {
        sqlx::query(sql(text))
    }

    pub fn query_as<'q, DB, O>(text: &'q str) -> QueryAs<'q, DB, O, Arguments<'q, DB>>
    where
        DB: Database,
        O: for<'r> FromRow<'r, DB::Row>,
    {
        sqlx::query_as(sql(text))
    }

    pub fn query_scalar<'q, DB, O>(text: &'q str) -> QueryScalar<'q, DB, O, Arguments<'q, DB>>
    where
        DB: Database,
        (O,): for<'r> FromRow<'r, DB::Row>,
    {
        sqlx::query_scalar(sql(text))
    }
}

/// SQL spelling that differs between the databases.
pub struct Dialect {
    pub name: &'static str,
    /// Placeholders are `$1, $2, ..` rather than `?`.
    pub numbered: bool,
    pub blob: &'static str,
    pub text: &'static str,
    pub bigint: &'static str,
}

pub const POSTGRES: Dialect = Dialect {
    name: "PostgreSQL",
    numbered: true,
    blob: "BYTEA",
    text: "TEXT",
    bigint: "BIGINT",
};
pub const SQLITE: Dialect = Dialect {
    name: "SQLite",
    numbered: false,
    blob: "BLOB",
    text: "TEXT",
    bigint: "INTEGER",
};
pub const MYSQL: Dialect = Dialect {
    name: "MariaDB/MySQL",
    numbered: false,
    blob: "LONGBLOB",
    text: "LONGTEXT",
    bigint: "BIGINT",
};

impl Dialect {
    /// `sql` written with `?` placeholders, in this database's style; `{blob}`, `{text}` and
    /// `{bigint}` become its type names.
    pub fn sql(&self, sql: &str) -> String {
        let sql = sql
            .replace("{blob}", self.blob)
            .replace("{text}", self.text)
            .replace("{bigint}", self.bigint);
        if !self.numbered {
            return sql;
        }
        let mut out = String::with_capacity(sql.len() + 8);
        let mut n = 0;
        for c in sql.chars() {
            if c == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(c);
            }
        }
        out
    }
}

/// The keyring the transparent columns of this test process use, installed once.
pub fn installed_keyring() -> Arc<Keyring> {
    static KEYRING: OnceLock<Arc<Keyring>> = OnceLock::new();
    KEYRING
        .get_or_init(|| fieldcrypt_sqlx::install(Keyring::generate(Suite::KcXaes256Gcm).unwrap()))
        .clone()
}

/// A database URL from `var`, else `default`.
pub fn url(var: &str, default: &str) -> String {
    std::env::var(var).unwrap_or_else(|_| default.to_string())
}

/// What to do when a database is not reachable: under CI, fail; elsewhere, skip loudly.
pub fn unreachable(what: &str, url: &str, err: &dyn std::fmt::Display) {
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{what} is required under CI=true but is not reachable at {url}: {err}");
    }
    eprintln!("\n*** SKIPPED: {what} not reachable at {url}: {err} ***\n");
}

/// Flips one bit in the middle of `bytes`.
pub fn flip_middle_bit(bytes: &mut [u8]) {
    let i = bytes.len() / 2;
    bytes[i] ^= 0x10;
}

/// Whether `haystack` contains `needle`.
pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Defines the suite for one database: `$db` the sqlx database type, `$dialect` its
/// [`Dialect`], `$connect` an async expression giving `Option<Pool<$db>>` (None: skipped).
#[macro_export]
macro_rules! backend_suite {
    ($db:ty, $dialect:expr, $connect:expr) => {
        use fieldcrypt::{Context, Date, Decimal, IndexDefinition, Json, Keyring, Normalizer, Suite, Timestamp};
        use fieldcrypt_sqlx::{BlindIndex, Encrypted, IndexValue, Sealed, column_error};
        use sqlx::{Pool, QueryBuilder, Row};
        use $crate::common::*;

        const D: &Dialect = &$dialect;

        async fn pool() -> Option<Pool<$db>> {
            $connect
        }

        async fn fresh_table(pool: &Pool<$db>, name: &str, columns: &str) {
            q::query(&format!("DROP TABLE IF EXISTS {name}")).execute(pool).await.unwrap();
            q::query(&D.sql(&format!("CREATE TABLE {name} ({columns})")))
                .execute(pool)
                .await
                .unwrap();
        }

        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        struct Preferences {
            language: String,
            newsletter: bool,
            tags: Vec<String>,
        }

        mod cols {
            fieldcrypt_sqlx::column!(pub S = "fc_types"."s");
            fieldcrypt_sqlx::column!(pub St = "fc_types"."st" as Text);
            fieldcrypt_sqlx::column!(pub B = "fc_types"."b");
            fieldcrypt_sqlx::column!(pub I = "fc_types"."i");
            fieldcrypt_sqlx::column!(pub F = "fc_types"."f");
            fieldcrypt_sqlx::column!(pub Bo = "fc_types"."bo");
            fieldcrypt_sqlx::column!(pub Da = "fc_types"."da");
            fieldcrypt_sqlx::column!(pub Ts = "fc_types"."ts");
            fieldcrypt_sqlx::column!(pub De = "fc_types"."de");
            fieldcrypt_sqlx::column!(pub J = "fc_types"."j");
            fieldcrypt_sqlx::column!(pub Email = "fc_people"."email");
            fieldcrypt_sqlx::column!(pub Notes = "fc_people"."notes");
            fieldcrypt_sqlx::column!(pub Ssn = "fc_rows"."ssn");
            fieldcrypt_sqlx::column!(pub SsnText = "fc_rows"."ssn_text" as Text);
        }
        use cols::*;

        #[derive(sqlx::FromRow)]
        struct Typed {
            id: i64,
            s: Option<Encrypted<String, S>>,
            st: Option<Encrypted<String, St>>,
            b: Option<Encrypted<Vec<u8>, B>>,
            i: Option<Encrypted<i64, I>>,
            f: Option<Encrypted<f64, F>>,
            bo: Option<Encrypted<bool, Bo>>,
            da: Option<Encrypted<Date, Da>>,
            ts: Option<Encrypted<Timestamp, Ts>>,
            de: Option<Encrypted<Decimal, De>>,
            j: Option<Encrypted<Json<Preferences>, J>>,
        }

        const TYPED_COLUMNS: &str = "id {bigint} PRIMARY KEY, s {blob}, st {text}, b {blob}, \
            i {blob}, f {blob}, bo {blob}, da {blob}, ts {blob}, de {blob}, j {blob}";

        async fn insert_typed(pool: &Pool<$db>, table: &str, row: &Typed) {
            q::query(&D.sql(&format!(
                "INSERT INTO {table} (id, s, st, b, i, f, bo, da, ts, de, j) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )))
            .bind(row.id)
            .bind(&row.s)
            .bind(&row.st)
            .bind(&row.b)
            .bind(&row.i)
            .bind(&row.f)
            .bind(&row.bo)
            .bind(&row.da)
            .bind(&row.ts)
            .bind(&row.de)
            .bind(&row.j)
            .execute(pool)
            .await
            .unwrap();
        }

        async fn select_typed(pool: &Pool<$db>, table: &str, id: i64) -> Typed {
            q::query_as(&D.sql(&format!(
                "SELECT id, s, st, b, i, f, bo, da, ts, de, j FROM {table} WHERE id = ?"
            )))
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap()
        }

        #[tokio::test]
        async fn every_type_round_trips_and_nulls_stay_null() {
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_types";
            fresh_table(&pool, table, TYPED_COLUMNS).await;
            let prefs = Preferences {
                language: "fr".into(),
                newsletter: true,
                tags: vec!["vip".into(), "été".into()],
            };
            let full = Typed {
                id: 1,
                s: Some(Encrypted::new("Zoë Ångström ✓".to_string())),
                st: Some(Encrypted::new("text column".to_string())),
                b: Some(Encrypted::new(vec![0, 1, 2, 255])),
                i: Some(Encrypted::new(i64::MIN)),
                f: Some(Encrypted::new(-0.1)),
                bo: Some(Encrypted::new(true)),
                da: Some(Encrypted::new(Date::from_ymd(1969, 7, 20).unwrap())),
                ts: Some(Encrypted::new(Timestamp::new(1_700_000_000, 123_456_789).unwrap())),
                de: Some(Encrypted::new(Decimal::new("-12345678901234567890.000100").unwrap())),
                j: Some(Encrypted::new(Json(prefs.clone()))),
            };
            insert_typed(&pool, table, &full).await;
            let empty = Typed {
                id: 2, s: None, st: None, b: None, i: None, f: None, bo: None, da: None,
                ts: None, de: None, j: None,
            };
            insert_typed(&pool, table, &empty).await;

            let got = select_typed(&pool, table, 1).await;
            assert_eq!(got.s.as_ref().map(Encrypted::plaintext).map(String::as_str), Some("Zoë Ångström ✓"));
            assert_eq!(got.st.as_ref().map(Encrypted::plaintext).map(String::as_str), Some("text column"));
            assert_eq!(got.b.as_ref().map(Encrypted::plaintext), Some(&vec![0, 1, 2, 255]));
            assert_eq!(got.i.as_ref().map(Encrypted::plaintext), Some(&i64::MIN));
            assert_eq!(got.f.as_ref().map(Encrypted::plaintext), Some(&-0.1));
            assert_eq!(got.bo.as_ref().map(Encrypted::plaintext), Some(&true));
            assert_eq!(got.da.as_ref().map(Encrypted::plaintext), Some(&Date::from_ymd(1969, 7, 20).unwrap()));
            assert_eq!(got.ts.as_ref().map(Encrypted::plaintext), Some(&Timestamp::new(1_700_000_000, 123_456_789).unwrap()));
            assert_eq!(
                got.de.as_ref().map(Encrypted::plaintext).map(Decimal::as_str),
                Some("-12345678901234567890.000100")
            );
            assert_eq!(got.j.as_ref().map(Encrypted::plaintext).map(|j| &j.0), Some(&prefs));

            let none = select_typed(&pool, table, 2).await;
            assert!(none.s.is_none() && none.st.is_none() && none.b.is_none() && none.i.is_none());
            assert!(none.f.is_none() && none.bo.is_none() && none.da.is_none());
            assert!(none.ts.is_none() && none.de.is_none() && none.j.is_none());
            for column in ["s", "st", "b", "i", "j"] {
                let nulls: i64 = q::query_scalar(&format!(
                    "SELECT COUNT(*) FROM {table} WHERE id = 2 AND {column} IS NULL"
                ))
                .fetch_one(&pool)
                .await
                .unwrap();
                assert_eq!(nulls, 1, "{column} of row 2 must be SQL NULL");
            }

            // The text column holds the text envelope, the binary ones the binary envelope.
            let row = q::query(&D.sql(&format!("SELECT st, s FROM {table} WHERE id = 1")))
                .fetch_one(&pool)
                .await
                .unwrap();
            let st: String = row.get(0);
            assert!(st.starts_with("fc1c1."), "text envelope expected");
            let s: Vec<u8> = row.get(1);
            assert_eq!(&s[..3], &[0xFC, 0x01, 0x01]);
        }

        #[tokio::test]
        async fn empty_strings_and_a_one_mib_value_round_trip() {
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_sizes";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, s {blob}, st {text}, b {blob}").await;
            let big: Vec<u8> = (0..1_048_576u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
            let big_text: String = "0123456789abcdef".repeat(65_536);
            let insert = D.sql(&format!("INSERT INTO {table} (id, s, st, b) VALUES (?, ?, ?, ?)"));
            q::query(&insert)
                .bind(1_i64)
                .bind(Encrypted::<String, S>::new(String::new()))
                .bind(Encrypted::<String, St>::new(String::new()))
                .bind(Encrypted::<Vec<u8>, B>::new(Vec::new()))
                .execute(&pool)
                .await
                .unwrap();
            q::query(&insert)
                .bind(2_i64)
                .bind(Encrypted::<String, S>::new(big_text.clone()))
                .bind(Encrypted::<String, St>::new(big_text.clone()))
                .bind(Encrypted::<Vec<u8>, B>::new(big.clone()))
                .execute(&pool)
                .await
                .unwrap();
            let select = D.sql(&format!("SELECT s, st, b FROM {table} WHERE id = ?"));
            let row = q::query(&select).bind(1_i64).fetch_one(&pool).await.unwrap();
            assert_eq!(row.get::<Encrypted<String, S>, _>(0).into_inner(), "");
            assert_eq!(row.get::<Encrypted<String, St>, _>(1).into_inner(), "");
            assert!(row.get::<Encrypted<Vec<u8>, B>, _>(2).plaintext().is_empty());
            // An empty string is sealed like any other value, not stored empty: 7 header bytes,
            // a 24-byte nonce, the type tag, a 16-byte tag and a 32-byte commitment.
            let raw: Vec<u8> = q::query_scalar(&D.sql(&format!("SELECT s FROM {table} WHERE id = 1")))
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(raw.len(), 7 + 24 + 1 + 16 + 32);

            let row = q::query(&select).bind(2_i64).fetch_one(&pool).await.unwrap();
            assert_eq!(row.get::<Encrypted<String, S>, _>(0).into_inner(), big_text);
            assert_eq!(row.get::<Encrypted<String, St>, _>(1).into_inner(), big_text);
            assert_eq!(row.get::<Encrypted<Vec<u8>, B>, _>(2).into_inner(), big);
        }

        #[tokio::test]
        async fn raw_columns_never_hold_the_plaintext() {
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_people";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, email {blob}, notes {blob}").await;
            let secret = "ann.secret@example.org";
            q::query(&D.sql(&format!("INSERT INTO {table} (id, email, notes) VALUES (?, ?, ?)")))
                .bind(1_i64)
                .bind(Encrypted::<String, Email>::new(secret.to_string()))
                .bind(Encrypted::<String, Notes>::new(secret.to_string()))
                .execute(&pool)
                .await
                .unwrap();
            let row = q::query(&format!("SELECT email, notes FROM {table}"))
                .fetch_one(&pool)
                .await
                .unwrap();
            let email: Vec<u8> = row.get(0);
            let notes: Vec<u8> = row.get(1);
            for raw in [&email, &notes] {
                assert!(!contains(raw, secret.as_bytes()));
                assert!(!contains(raw, b"ann.secret"));
                assert!(!contains(raw, b"example.org"));
            }
            // Sealing the same value twice gives two different envelopes.
            assert_ne!(email, notes);
        }

        #[tokio::test]
        async fn a_value_copied_into_another_column_or_row_does_not_open() {
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_rows";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, ssn {blob}, ssn_text {text}, other {blob}").await;
            // Explicit mode: each value bound to its row.
            let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
            for (id, ssn) in [(1_i64, "123-45-6789"), (2, "987-65-4321")] {
                q::query(&D.sql(&format!("INSERT INTO {table} (id, ssn, ssn_text) VALUES (?, ?, ?)")))
                    .bind(id)
                    .bind(Sealed::<String, Ssn>::seal(&keyring, id, ssn).unwrap())
                    .bind(Sealed::<String, SsnText>::seal(&keyring, id, ssn).unwrap())
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            let read = |id: i64| {
                let pool = pool.clone();
                async move {
                    q::query(&D.sql(&format!("SELECT ssn, ssn_text FROM {table} WHERE id = ?")))
                        .bind(id)
                        .fetch_one(&pool)
                        .await
                        .unwrap()
                }
            };
            let row1 = read(1).await;
            let ssn1: Sealed<String, Ssn> = row1.get(0);
            let ssn1_text: Sealed<String, SsnText> = row1.get(1);
            assert_eq!(ssn1.open(&keyring, 1_i64).unwrap(), "123-45-6789");
            assert_eq!(ssn1_text.open(&keyring, 1_i64).unwrap(), "123-45-6789");

            // Copy row 1's values into row 2: they are well-formed, but do not open there.
            q::query(&D.sql(&format!("UPDATE {table} SET ssn = ?, ssn_text = ? WHERE id = 2")))
                .bind(&ssn1)
                .bind(&ssn1_text)
                .execute(&pool)
                .await
                .unwrap();
            let row2 = read(2).await;
            let copied: Sealed<String, Ssn> = row2.get(0);
            let copied_text: Sealed<String, SsnText> = row2.get(1);
            let err = copied.open(&keyring, 2_i64).unwrap_err();
            assert!(matches!(err.crypto(), Some(fieldcrypt::Error::CannotOpen)), "{err}");
            let err = copied_text.open(&keyring, 2_i64).unwrap_err();
            assert!(matches!(err.crypto(), Some(fieldcrypt::Error::CannotOpen)), "{err}");
            // Opened as the row it came from, it still opens: nothing was lost.
            assert_eq!(copied.open(&keyring, 1_i64).unwrap(), "123-45-6789");

            // Transparent mode: a value copied into another column does not open there.
            q::query(&D.sql(&format!("UPDATE {table} SET other = ? WHERE id = 1")))
                .bind(Encrypted::<String, Email>::new("x@example.org".into()))
                .execute(&pool)
                .await
                .unwrap();
            let err = q::query(&D.sql(&format!("SELECT other FROM {table} WHERE id = 1")))
                .fetch_one(&pool)
                .await
                .unwrap()
                .try_get::<Encrypted<String, Notes>, _>(0)
                .map(|_| ())
                .unwrap_err();
            let typed = column_error(&err).and_then(|e| e.crypto());
            assert!(matches!(typed, Some(fieldcrypt::Error::CannotOpen)), "{err}");
        }

        #[tokio::test]
        async fn a_corrupted_value_fails_on_its_row_only() {
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_corrupt";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, email {blob}").await;
            for id in 1..=5_i64 {
                q::query(&D.sql(&format!("INSERT INTO {table} (id, email) VALUES (?, ?)")))
                    .bind(id)
                    .bind(Encrypted::<String, Email>::new(format!("user{id}@example.org")))
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            // Row 3: one bit flipped. Row 4: not an envelope at all.
            let mut raw: Vec<u8> = q::query_scalar(&D.sql(&format!("SELECT email FROM {table} WHERE id = 3")))
                .fetch_one(&pool)
                .await
                .unwrap();
            flip_middle_bit(&mut raw);
            let update = D.sql(&format!("UPDATE {table} SET email = ? WHERE id = ?"));
            q::query(&update).bind(raw).bind(3_i64).execute(&pool).await.unwrap();
            q::query(&update).bind(b"garbage".to_vec()).bind(4_i64).execute(&pool).await.unwrap();

            let rows = q::query(&format!("SELECT id, email FROM {table} ORDER BY id"))
                .fetch_all(&pool)
                .await
                .unwrap();
            let mut opened = Vec::new();
            for row in &rows {
                let id: i64 = row.get(0);
                match row.try_get::<Encrypted<String, Email>, _>(1) {
                    Ok(email) => opened.push((id, email.into_inner())),
                    Err(err) => {
                        let typed = column_error(&err).and_then(|e| e.crypto()).cloned();
                        match id {
                            3 => assert_eq!(typed, Some(fieldcrypt::Error::CannotOpen), "{err}"),
                            // Not an envelope, and text: named as likely plaintext.
                            4 => assert!(
                                matches!(column_error(&err), Some(fieldcrypt_sqlx::Error::Plaintext { .. })),
                                "{err}"
                            ),
                            _ => panic!("row {id} should open: {err}"),
                        }
                    }
                }
            }
            assert_eq!(
                opened,
                vec![
                    (1, "user1@example.org".to_string()),
                    (2, "user2@example.org".to_string()),
                    (5, "user5@example.org".to_string()),
                ]
            );
        }

        #[derive(sqlx::FromRow, Debug)]
        struct Person {
            id: i64,
            email: Encrypted<String, Email>,
            notes: Option<Encrypted<String, Notes>>,
        }

        #[tokio::test]
        async fn a_large_result_set_opens_on_all_cores_in_order() {
            use futures_util::TryStreamExt;
            let Some(pool) = pool().await else { return };
            installed_keyring();
            // Its own table (the suite runs in parallel); the columns are declared as fc_people's.
            let table = "fc_people_rows";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, email {blob} NOT NULL, notes {blob}").await;
            // Enough rows for every core to take a chunk of several hundred.
            let n = 3_000_i64;
            for chunk in (1..=n).collect::<Vec<_>>().chunks(500) {
                let mut qb = QueryBuilder::<$db>::new(format!("INSERT INTO {table} (id, email, notes) "));
                qb.push_values(chunk, |mut b, &id| {
                    b.push_bind(id)
                        .push_bind(Encrypted::<String, Email>::new(format!("user{id}@example.org")))
                        .push_bind((id % 3 != 0).then(|| Encrypted::<String, Notes>::new(format!("note {id}"))));
                });
                qb.build().execute(&pool).await.unwrap();
            }
            let check = |people: &[Person]| {
                assert_eq!(people.len(), n as usize);
                for (i, p) in people.iter().enumerate() {
                    let id = i as i64 + 1;
                    assert_eq!(p.id, id, "in order");
                    assert_eq!(p.email.plaintext(), &format!("user{id}@example.org"));
                    assert_eq!(p.notes.as_ref().map(|x| x.plaintext().clone()), (id % 3 != 0).then(|| format!("note {id}")));
                }
            };
            let select = format!("SELECT id, email, notes FROM {table} ORDER BY id");
            let rows = q::query(&select).fetch_all(&pool).await.unwrap();
            let people: Vec<Person> = fieldcrypt_sqlx::rows::from_rows(&rows).unwrap();
            check(&people);
            let emails = fieldcrypt_sqlx::rows::map_rows(&rows, |row| {
                row.try_get::<Encrypted<String, Email>, _>(1).map(Encrypted::into_inner)
            })
            .unwrap();
            assert_eq!(emails[2_999], "user3000@example.org");
            // The stream adapter, in chunks that do not divide the table evenly.
            let chunks: Vec<Vec<Person>> =
                fieldcrypt_sqlx::rows::chunks(q::query(&select).fetch(&pool), 700)
                    .try_collect()
                    .await
                    .unwrap();
            assert_eq!(chunks.iter().map(Vec::len).collect::<Vec<_>>(), [700, 700, 700, 700, 200]);
            check(&chunks.into_iter().flatten().collect::<Vec<_>>());
            // The closure form; a decoder that panics on its thread ends the stream with an
            // error instead of leaving it waiting.
            let ids: Vec<Vec<i64>> = fieldcrypt_sqlx::rows::chunks_with(q::query(&select).fetch(&pool), 1_500, |row| row.try_get::<i64, _>(0))
                .try_collect()
                .await
                .unwrap();
            assert_eq!(ids.concat(), (1..=i64::from(n)).collect::<Vec<_>>());
            let panicked: Result<Vec<Vec<i64>>, _> = fieldcrypt_sqlx::rows::chunks_with(q::query(&select).fetch(&pool), 1_000, |row| {
                let id = row.try_get::<i64, _>(0)?;
                assert_ne!(id, 1_234, "a decoder that fails this way on purpose");
                Ok(id)
            })
            .try_collect()
            .await;
            assert!(matches!(panicked, Err(sqlx::Error::Decode(_))), "{panicked:?}");

            // One damaged value late in the table: the batch is an error naming why.
            let mut raw: Vec<u8> = q::query_scalar(&D.sql(&format!("SELECT email FROM {table} WHERE id = 2900")))
                .fetch_one(&pool)
                .await
                .unwrap();
            flip_middle_bit(&mut raw);
            q::query(&D.sql(&format!("UPDATE {table} SET email = ? WHERE id = ?")))
                .bind(raw)
                .bind(2_900_i64)
                .execute(&pool)
                .await
                .unwrap();
            let rows = q::query(&select).fetch_all(&pool).await.unwrap();
            let err = fieldcrypt_sqlx::rows::from_rows::<_, Person>(&rows).unwrap_err();
            let typed = column_error(&err).and_then(|e| e.crypto()).cloned();
            assert_eq!(typed, Some(fieldcrypt::Error::CannotOpen), "{err}");
            let streamed: Result<Vec<Vec<Person>>, _> =
                fieldcrypt_sqlx::rows::chunks(q::query(&select).fetch(&pool), 1_000).try_collect().await;
            assert!(streamed.is_err(), "the chunk holding row 2900 fails");
        }

        #[tokio::test]
        async fn plaintext_and_a_binary_envelope_in_a_text_column_say_what_to_change() {
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_hints";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, email {text}").await;
            let insert = D.sql(&format!("INSERT INTO {table} (id, email) VALUES (?, ?)"));
            // The trap that remains: an explicit bind of the plain string.
            q::query(&insert).bind(1_i64).bind("ann@example.org").execute(&pool).await.unwrap();
            // A binary-declared column type bound into a text column.
            let second = q::query(&insert).bind(2_i64).bind(Email::new("bob@example.org".to_owned())).execute(&pool).await;
            if D.name == "MariaDB/MySQL" {
                // MariaDB refuses the bytes in a utf8mb4 column (1366): loud, nothing stored.
                assert!(second.is_err());
            } else {
                second.unwrap();
            }
            let rows = q::query(&format!("SELECT id, email FROM {table} ORDER BY id"))
                .fetch_all(&pool)
                .await
                .unwrap();
            let read = |i: usize| rows[i].try_get::<Encrypted<String, Email>, _>(1);
            let err = read(0).err().unwrap();
            let message = err.to_string();
            assert!(
                matches!(column_error(&err), Some(fieldcrypt_sqlx::Error::Plaintext { .. })),
                "{message}"
            );
            assert!(message.contains("looks like plaintext") && message.contains("fieldcrypt doctor"), "{message}");
            assert!(!message.contains("ann@example.org"), "no plaintext in the message");
            if D.name == "PostgreSQL" {
                // PostgreSQL casts the bytea to text on assignment: `\xfc01...`.
                let stored: String = q::query_scalar(&format!("SELECT email FROM {table} WHERE id = 2"))
                    .fetch_one(&pool)
                    .await
                    .unwrap();
                assert!(stored.starts_with("\\xfc01"), "{stored}");
                let err = read(1).err().unwrap();
                assert!(
                    matches!(column_error(&err), Some(fieldcrypt_sqlx::Error::BinaryAsText { .. })),
                    "{err}"
                );
                assert!(err.to_string().contains("as Text"), "{err}");
            }
        }

        mod searchable {
            fieldcrypt_sqlx::column!(pub UserEmail = "fc_search"."email",
                index "email_idx" (nfkc, trim, casefold), rows 1_000);
        }

        #[tokio::test]
        async fn a_search_binds_as_one_parameter_and_keeps_only_the_value_looked_up() {
            use searchable::UserEmail;
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_search_one";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, email {blob}, email_idx {bigint}").await;
            assert_eq!(UserEmail::blind_index().unwrap().definition().bits, 8, "the planner's bits for 1,000 rows");
            for id in 1..=300_i64 {
                let (email, email_idx) = UserEmail::indexed(format!("Customer{id}@Example.org")).unwrap();
                q::query(&D.sql(&format!("INSERT INTO {table} (id, email, email_idx) VALUES (?, ?, ?)")))
                    .bind(id)
                    .bind(email)
                    .bind(email_idx)
                    .execute(&pool)
                    .await
                    .unwrap();
            }
            let search = UserEmail::search("  CUSTOMER42@example.ORG ").unwrap();
            // One text parameter on every database (PostgreSQL also takes `= ANY($1)` with
            // `search.ints()`: tests/postgres.rs).
            let sql = match D.name {
                "PostgreSQL" => "SELECT id, email FROM fc_search_one WHERE email_idx IN \
                     (SELECT value::int8 FROM json_array_elements_text($1::json))",
                "SQLite" => "SELECT id, email FROM fc_search_one WHERE email_idx IN (SELECT value FROM json_each(?))",
                _ => "SELECT id, email FROM fc_search_one WHERE email_idx IN \
                     (SELECT v FROM JSON_TABLE(?, '$[*]' COLUMNS (v BIGINT PATH '$')) AS j)",
            };
            let rows: Vec<(i64, Encrypted<String, UserEmail>)> =
                q::query_as(sql).bind(search.json()).fetch_all(&pool).await.unwrap();
            assert!(!rows.is_empty());
            let kept = search.keep(rows, |(_, email)| email.plaintext().as_str());
            let ids: Vec<i64> = kept.iter().map(|(id, _)| *id).collect();
            assert_eq!(ids, [42]);
            assert!(!format!("{search:?}").contains("42"), "no query in Debug");
        }

        #[tokio::test]
        async fn keyring_in_the_keys_table_is_written_compare_and_swap() {
            use fieldcrypt_kms::local::MasterKeyFile;
            use fieldcrypt_kms::{CachePolicy, KeyringStore as _, KmsError, ManagedKeyring, UnlockedKeyring, Version};
            let Some(pool) = pool().await else { return };
            let name = format!("test-{}", fieldcrypt::random_array::<8>().unwrap().iter().map(|b| format!("{b:02x}")).collect::<String>());
            let store = fieldcrypt_sqlx::TableStore::new(pool.clone(), &name).unwrap();
            store.create_table().await.unwrap();
            store.create_table().await.unwrap(); // the migration is idempotent
            assert!(store.load().await.unwrap().is_none());
            let dir = tempfile::tempdir().unwrap();
            let master_path = dir.path().join("master.key");
            let master = MasterKeyFile::open_or_create(&master_path).unwrap();
            let unlocked = UnlockedKeyring::generate(&master, Suite::KcXaes256Gcm).await.unwrap();
            let ctx = Context::new("t", "c").unwrap();
            let sealed = unlocked.keyring.seal(&ctx, "kept").unwrap();
            let v1 = store.save(&unlocked.to_document().unwrap(), None).await.unwrap();
            assert_eq!(v1, Version::Counter(1));

            // A second `init` on the same row loses and overwrites nothing.
            let other = UnlockedKeyring::generate(&master, Suite::KcXaes256Gcm).await.unwrap();
            let err = store.save(&other.to_document().unwrap(), None).await.unwrap_err();
            assert!(matches!(err, KmsError::Conflict(_)), "{err}");

            // Two operators rotate from the same version: the first write wins, the second
            // changes nothing and says so.
            let stored = store.load().await.unwrap().unwrap();
            assert_eq!(stored.version, v1);
            assert_eq!(stored.document.keyring_id, unlocked.keyring.id().to_string());
            let mut first = UnlockedKeyring::open(&stored.document, &master).await.unwrap();
            let mut second = UnlockedKeyring::open(&stored.document, &master).await.unwrap();
            let new_primary = first.keyring.rotate().unwrap();
            let v2 = store.save(&first.to_document().unwrap(), Some(&v1)).await.unwrap();
            assert_eq!(v2, Version::Counter(2));
            second.keyring.rotate().unwrap();
            second.keyring.rotate().unwrap();
            let err = store.save(&second.to_document().unwrap(), Some(&v1)).await.unwrap_err();
            assert!(matches!(err, KmsError::Conflict(_)), "{err}");
            let err = store.save(&second.to_document().unwrap(), Some(&Version::Contents(String::new()))).await.unwrap_err();
            assert!(matches!(err, KmsError::Conflict(_)), "{err}");
            let now = store.load().await.unwrap().unwrap();
            assert_eq!(now.version, v2);
            assert_eq!(now.document.keys.len(), 2, "the first rotation, not the second");
            let reopened = UnlockedKeyring::open(&now.document, &master).await.unwrap();
            assert_eq!(reopened.keyring.primary(), new_primary);
            assert_eq!(reopened.keyring.open::<String>(&ctx, &sealed).unwrap(), "kept");

            // Six writers race from the same version: exactly one lands.
            let mut racers = Vec::new();
            for _ in 0..6 {
                let (store, document) = (store.clone(), reopened.to_document().unwrap());
                racers.push(tokio::spawn(async move { store.save(&document, Some(&Version::Counter(2))).await }));
            }
            let mut landed = 0;
            for racer in racers {
                match racer.await.unwrap() {
                    Ok(v) => {
                        assert_eq!(v, Version::Counter(3));
                        landed += 1;
                    }
                    Err(KmsError::Conflict(_)) => {}
                    Err(e) => panic!("a racing writer failed otherwise: {e}"),
                }
            }
            assert_eq!(landed, 1);

            // The row holds wrapped keys only: not the master key.
            let raw: String = q::query_scalar(&D.sql("SELECT document FROM fieldcrypt_keys WHERE name = ?"))
                .bind(&name)
                .fetch_one(&pool)
                .await
                .unwrap();
            let master_text = std::fs::read_to_string(&master_path).unwrap();
            let master_b64 = master_text.trim().rsplit(':').next().unwrap();
            assert!(master_b64.len() >= 43 && !raw.contains(master_b64));

            // A damaged row is a typed store error, not a panic.
            q::query(&D.sql("UPDATE fieldcrypt_keys SET document = ? WHERE name = ?"))
                .bind("{not json")
                .bind(&name)
                .execute(&pool)
                .await
                .unwrap();
            let err = store.load().await.unwrap_err();
            assert!(matches!(err, KmsError::Store { .. }), "{err}");
            q::query(&D.sql("UPDATE fieldcrypt_keys SET document = ? WHERE name = ?"))
                .bind(&raw)
                .bind(&name)
                .execute(&pool)
                .await
                .unwrap();

            // Cached: a thousand uses, one unwrap.
            let managed = ManagedKeyring::new(std::sync::Arc::new(store.clone()), std::sync::Arc::new(master), CachePolicy::default());
            for _ in 0..1000 {
                let keyring = managed.get().await.unwrap();
                assert_eq!(keyring.open::<String>(&ctx, &sealed).unwrap(), "kept");
            }
            assert_eq!(managed.loads(), 1);
            q::query(&D.sql("DELETE FROM fieldcrypt_keys WHERE name = ?")).bind(&name).execute(&pool).await.unwrap();
        }

        #[tokio::test]
        async fn search_by_blind_index_across_a_root_rotation() {
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_search";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, email {blob}, email_idx {bigint}, email_idx_prev {bigint}").await;
            q::query(&format!("CREATE INDEX {table}_email_idx ON {table} (email_idx)"))
                .execute(&pool)
                .await
                .unwrap();
            let mut keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
            // 4 bits: 16 buckets for 200 rows, so every lookup also returns rows it must filter out.
            let index = BlindIndex::new(
                IndexDefinition::new("fc_search", "email", "email_ci", 4)
                    .normalized([Normalizer::Nfkc, Normalizer::Trim, Normalizer::CaseFold]),
            )
            .unwrap();
            let insert = D.sql(&format!("INSERT INTO {table} (id, email, email_idx, email_idx_prev) VALUES (?, ?, ?, ?)"));
            let email_of = |id: i64| format!("Customer{id}@Example.org");
            for id in 1..=200_i64 {
                let email = email_of(id);
                let pair = index.pair(&keyring, &email).unwrap();
                assert_eq!(pair.previous, None);
                q::query(&insert)
                    .bind(id)
                    .bind(Sealed::<String, Email>::seal(&keyring, id, email.as_str()).unwrap())
                    .bind(pair.current)
                    .bind(pair.previous)
                    .execute(&pool)
                    .await
                    .unwrap();
            }

            async fn find(
                pool: &Pool<$db>,
                keyring: &Keyring,
                index: &BlindIndex,
                table: &str,
                query: &str,
            ) -> (Vec<i64>, usize) {
                let lookup = index.lookup(keyring, query).unwrap();
                let mut select = QueryBuilder::<$db>::new(format!("SELECT id, email FROM {table} WHERE "));
                lookup.push_match(&mut select, "email_idx");
                let rows = select.build().fetch_all(pool).await.unwrap();
                let candidates = rows.len();
                let mut found = Vec::new();
                for row in rows {
                    let id: i64 = row.get(0);
                    let email: Sealed<String, Email> = row.get(1);
                    if index.matches(query, &email.open(keyring, id).unwrap()) {
                        found.push(id);
                    }
                }
                (found, candidates)
            }

            // Case, width and surrounding spaces do not matter; other rows in the bucket are filtered.
            let (found, candidates) = find(&pool, &keyring, &index, table, "  customer42@EXAMPLE.ORG ").await;
            assert_eq!(found, vec![42]);
            assert!(candidates > 1, "a 4-bit index must return other rows too");
            let (found, _) = find(&pool, &keyring, &index, table, "nobody@example.org").await;
            assert!(found.is_empty());

            // Rotate the index root: new rows get the new value, old rows keep the old one until
            // re-indexed; lookups match both, and the write path fills both columns.
            let old_root = keyring.primary_index_root();
            keyring.rotate_index_root().unwrap();
            let email = email_of(201);
            let pair = index.pair(&keyring, &email).unwrap();
            let previous = pair.previous.expect("the old root is still held");
            // A 4-bit value collides with probability 1/16, so that the root changed is shown on
            // a 32-bit index over the same keyring (a false failure once in 2^32 runs).
            let wide = BlindIndex::new(IndexDefinition::new("fc_search", "email", "email_wide", 32)).unwrap();
            let wide_pair = wide.pair(&keyring, &email).unwrap();
            assert_ne!(Some(wide_pair.current), wide_pair.previous, "rotation changes the index key");
            // Both values are looked up; on a 1-in-16 collision the lookup holds the one value once.
            let mut expected = vec![pair.current];
            if previous != pair.current {
                expected.push(previous);
            }
            assert_eq!(index.lookup(&keyring, &email).unwrap().values(), expected);
            q::query(&insert)
                .bind(201_i64)
                .bind(Sealed::<String, Email>::seal(&keyring, 201_i64, email.as_str()).unwrap())
                .bind(pair.current)
                .bind(pair.previous)
                .execute(&pool)
                .await
                .unwrap();
            let (found, _) = find(&pool, &keyring, &index, table, &email_of(201)).await;
            assert_eq!(found, vec![201]);
            let (found, _) = find(&pool, &keyring, &index, table, &email_of(42)).await;
            assert_eq!(found, vec![42], "rows under the previous root are still found");
            // The previous-root column of the new row equals what old rows hold for the same value.
            let prev_col: Option<IndexValue> = q::query_scalar(&D.sql(&format!(
                "SELECT email_idx_prev FROM {table} WHERE id = 201"
            )))
            .fetch_one(&pool)
            .await
            .unwrap();
            assert_eq!(prev_col, Some(previous));
            let old_row: IndexValue = q::query_scalar(&D.sql(&format!("SELECT email_idx FROM {table} WHERE id = 42")))
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(Some(old_row), index.pair(&keyring, &email_of(42)).unwrap().previous, "old rows hold the previous-root value");

            // Once the old root is retired, only the new value is looked up.
            keyring.retire_index_root(old_root).unwrap();
            assert_eq!(index.lookup(&keyring, &email).unwrap().values().len(), 1);
            assert_eq!(index.pair(&keyring, &email).unwrap().previous, None);
        }

        #[tokio::test]
        async fn explicit_mode_with_ids_generated_before_and_by_the_database() {
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();

            // Ids generated before INSERT (UUIDv7): seal with the row key, insert once.
            let table = "fc_uuid_rows";
            fresh_table(&pool, table, "id {text} NOT NULL, ssn {blob}").await;
            let id = uuid::Uuid::now_v7().to_string();
            q::query(&D.sql(&format!("INSERT INTO {table} (id, ssn) VALUES (?, ?)")))
                .bind(&id)
                .bind(Sealed::<String, Ssn>::seal(&keyring, &id, "123-45-6789").unwrap())
                .execute(&pool)
                .await
                .unwrap();
            let ssn: Sealed<String, Ssn> = q::query_scalar(&D.sql(&format!("SELECT ssn FROM {table} WHERE id = ?")))
                .bind(&id)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(ssn.open(&keyring, &id).unwrap(), "123-45-6789");

            // Ids the database generates: insert the row, then write its sealed columns, in one
            // transaction so that no reader sees the row without them.
            let table = "fc_serial_rows";
            q::query(&format!("DROP TABLE IF EXISTS {table}")).execute(&pool).await.unwrap();
            let create = match D.name {
                "PostgreSQL" => "CREATE TABLE fc_serial_rows (id BIGSERIAL PRIMARY KEY, name TEXT, ssn BYTEA)",
                "SQLite" => "CREATE TABLE fc_serial_rows (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, ssn BLOB)",
                _ => "CREATE TABLE fc_serial_rows (id BIGINT PRIMARY KEY AUTO_INCREMENT, name TEXT, ssn BLOB)",
            };
            q::query(create).execute(&pool).await.unwrap();
            let mut tx = pool.begin().await.unwrap();
            let id: i64 = if D.name == "MariaDB/MySQL" {
                q::query("INSERT INTO fc_serial_rows (name) VALUES ('ann')")
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                q::query_scalar("SELECT CAST(LAST_INSERT_ID() AS SIGNED)")
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap()
            } else {
                q::query_scalar("INSERT INTO fc_serial_rows (name) VALUES ('ann') RETURNING id")
                    .fetch_one(&mut *tx)
                    .await
                    .unwrap()
            };
            q::query(&D.sql("UPDATE fc_serial_rows SET ssn = ? WHERE id = ?"))
                .bind(Sealed::<String, Ssn>::seal(&keyring, id, "555-12-3456").unwrap())
                .bind(id)
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            let ssn: Sealed<String, Ssn> = q::query_scalar(&D.sql("SELECT ssn FROM fc_serial_rows WHERE id = ?"))
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap();
            assert_eq!(ssn.open(&keyring, id).unwrap(), "555-12-3456");
            assert_eq!(ssn.key_id(), keyring.primary());
            let context = Context::new("fc_rows", "ssn").unwrap().with_row(id).unwrap();
            assert_eq!(ssn.open_in(&keyring, &context).unwrap(), "555-12-3456");
        }

        #[tokio::test]
        async fn a_column_encrypted_in_place_reads_both_forms_while_it_migrates() {
            use fieldcrypt_sqlx::Migrating;
            fieldcrypt_sqlx::column!(Notes = "fc_migrating"."notes" as Text);
            fieldcrypt_sqlx::column!(Blob = "fc_migrating"."data");
            let Some(pool) = pool().await else { return };
            installed_keyring();
            let table = "fc_migrating";
            fresh_table(&pool, table, "id {bigint} PRIMARY KEY, notes {text}, data {blob}").await;
            let insert = D.sql(&format!("INSERT INTO {table} (id, notes, data) VALUES (?, ?, ?)"));
            // Rows 1-3: plaintext the job has not reached. Rows 4-6: envelopes.
            for id in 1..=3_i64 {
                let q = q::query(&insert).bind(id).bind(format!("note {id}")).bind(format!("bytes {id}").into_bytes());
                q.execute(&pool).await.unwrap();
            }
            for id in 4..=6_i64 {
                let q = q::query(&insert)
                    .bind(id)
                    .bind(Encrypted::<String, Notes>::new(format!("note {id}")))
                    .bind(Encrypted::<Vec<u8>, Blob>::new(format!("bytes {id}").into_bytes()));
                q.execute(&pool).await.unwrap();
            }
            let sealed: String = q::query_scalar(&format!("SELECT notes FROM {table} WHERE id = 4"))
                .fetch_one(&pool).await.unwrap();
            // Row 7: plaintext that merely begins like an envelope. Row 8: an envelope with one
            // character of its body changed. Row 9: an envelope cut after its header.
            let mut tampered = sealed.clone().into_bytes();
            let middle = tampered.len() / 2;
            tampered[middle] = if tampered[middle] == b'A' { b'B' } else { b'A' };
            let odd = [
                (7_i64, "fc1 is how our order codes begin".to_owned()),
                (8, String::from_utf8(tampered).unwrap()),
                (9, sealed[..sealed.find('.').unwrap() + 3].to_owned()),
            ];
            for (id, notes) in &odd {
                q::query(&insert).bind(*id).bind(notes).bind(b"x".to_vec()).execute(&pool).await.unwrap();
            }

            let rows = q::query(&format!("SELECT id, notes, data FROM {table} ORDER BY id"))
                .fetch_all(&pool).await.unwrap();
            let mut read = Vec::new();
            for row in &rows {
                let id: i64 = row.get(0);
                match row.try_get::<Migrating<String, Notes>, _>(1) {
                    Ok(notes) => read.push((id, notes.was_plaintext(), notes.into_inner())),
                    Err(err) => {
                        // An envelope never comes back as plaintext: it opens or it is an error.
                        let typed = column_error(&err).and_then(|e| e.crypto()).cloned();
                        match id {
                            8 => assert!(matches!(typed, Some(fieldcrypt::Error::CannotOpen | fieldcrypt::Error::Malformed(_))), "{err}"),
                            9 => assert!(matches!(typed, Some(fieldcrypt::Error::Malformed(_))), "{err}"),
                            _ => panic!("row {id} should read: {err}"),
                        }
                    }
                }
                if id <= 6 {
                    let data: Migrating<Vec<u8>, Blob> = row.try_get(2).unwrap();
                    assert_eq!((data.was_plaintext(), data.into_inner()), (id <= 3, format!("bytes {id}").into_bytes()));
                }
            }
            let expected: Vec<(i64, bool, String)> = (1..=6)
                .map(|id| (id, id <= 3, format!("note {id}")))
                .chain([(7, true, odd[0].1.clone())])
                .collect();
            assert_eq!(read, expected);

            // What the application writes is an envelope: the job has nothing left to do there,
            // and the field reads as `Encrypted` once the column is done.
            let update = D.sql(&format!("UPDATE {table} SET notes = ? WHERE id = ?"));
            q::query(&update).bind(Migrating::<String, Notes>::new("rewritten".to_owned())).bind(1_i64)
                .execute(&pool).await.unwrap();
            let raw: String = q::query_scalar(&format!("SELECT notes FROM {table} WHERE id = 1"))
                .fetch_one(&pool).await.unwrap();
            assert!(!raw.contains("rewritten") && fieldcrypt::Envelope::parse(raw.as_bytes()).is_ok());
            let row = q::query(&format!("SELECT notes FROM {table} WHERE id = 1")).fetch_one(&pool).await.unwrap();
            assert_eq!(row.try_get::<Encrypted<String, Notes>, _>(0).unwrap().into_inner(), "rewritten");
            // `Encrypted` itself refuses the plaintext rows.
            let row = q::query(&format!("SELECT notes FROM {table} WHERE id = 2")).fetch_one(&pool).await.unwrap();
            assert!(row.try_get::<Encrypted<String, Notes>, _>(0).is_err());
        }
    };
}
