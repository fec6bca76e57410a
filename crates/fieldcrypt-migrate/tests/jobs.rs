//! The jobs against real databases: SQLite in a temporary file, and the PostgreSQL and MariaDB
//! servers of the development machine (FIELDCRYPT_TEST_POSTGRES_URL, FIELDCRYPT_TEST_MYSQL_URL).
//! Every test uses tables of its own, so tests run in parallel. With CI=true an unreachable
//! server fails the run; elsewhere the test says loudly that it skips.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fieldcrypt::{Context, Keyring, Suite, Value};
use fieldcrypt_migrate::{ColumnJob, MigrateError, Operation, Pool, RunOptions, run};
use fieldcrypt_sqlx::Migrating;
use sqlx::Row as _;

mod common;
use common::*;

fn awkward(i: i64) -> Option<String> {
    match i % 7 {
        0 => None,
        1 => Some(String::new()),
        2 => Some(format!("Ünïcødé {i} ✓ 𝄞")),
        3 => Some("fc1 looks like a prefix".to_owned()),
        4 => Some(format!("  padded {i}  ")),
        5 => Some("x".repeat(5000)),
        _ => Some(format!("customer-{i}@example.org")),
    }
}

/// Row `i` of the typed-columns test: a date, a timestamp (local text at +02:00, and the same
/// instant as UTC text) and a decimal, each NULL on some rows; the edges of each type included.
#[allow(clippy::type_complexity)]
fn typed_row(
    i: i64,
) -> (
    Option<&'static str>,
    Option<(String, String)>,
    Option<&'static str>,
) {
    const DATES: [&str; 6] = [
        "2024-02-29",
        "0001-01-01",
        "9999-12-31",
        "1969-12-31",
        "1970-01-01",
        "2000-06-15",
    ];
    const AMOUNTS: [&str; 6] = ["-12.50", "0.00", "999999999999.99", "0.01", "7", "-0.01"];
    let k = usize::try_from(i).unwrap() % 6;
    let born = (i % 10 != 0).then_some(DATES[k]);
    let seen = (i % 10 != 3).then(|| {
        let micros = if i % 2 == 0 {
            format!(".{:06}", i * 7919 % 1_000_000)
        } else {
            String::new()
        };
        let hour = i % 24;
        // Local +02:00 is two hours ahead of UTC; keep the UTC date the same for simple text.
        let local = format!(
            "2024-03-{:02} {:02}:{:02}:{:02}{micros}",
            1 + i % 28,
            hour,
            i % 60,
            (i * 7) % 60
        );
        let utc = if hour >= 2 {
            format!(
                "2024-03-{:02} {:02}:{:02}:{:02}{micros}",
                1 + i % 28,
                hour - 2,
                i % 60,
                (i * 7) % 60
            )
        } else {
            format!(
                "2024-03-{:02} {:02}:{:02}:{:02}{micros}",
                i % 28,
                hour + 22,
                i % 60,
                (i * 7) % 60
            )
        };
        (local, utc)
    });
    let amount = (i % 10 != 6).then_some(AMOUNTS[k]);
    (born, seen, amount)
}

fieldcrypt_sqlx::column!(AppSecret = "fcm_app"."secret" as Text);

/// The keyring the application's column types use (`fieldcrypt_sqlx::install` is process-wide),
/// shared by the tests that play the application.
fn app_keyring() -> Arc<Keyring> {
    static KEYRING: std::sync::OnceLock<Arc<Keyring>> = std::sync::OnceLock::new();
    KEYRING
        .get_or_init(|| fieldcrypt_sqlx::install(Keyring::generate(Suite::KcXaes256Gcm).unwrap()))
        .clone()
}

macro_rules! suite {
    ($module:ident, $backend:literal) => {
        mod $module {
            use super::*;

            #[tokio::test]
            async fn encrypt_in_place_then_rotate_then_decrypt_back() {
                let Some((pool, _)) = connect($backend).await else { return };
                let t = unique("fcm_inplace");
                exec(&pool, &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, secret TEXT)")).await;
                for i in 1..=500_i64 {
                    let v = awkward(i).map_or("NULL".to_owned(), |v| format!("'{}'", v.replace('\'', "''")));
                    exec(&pool, &format!("INSERT INTO {t} (id, secret) VALUES ({i}, {v})")).await;
                }
                let before = read_text(&pool, &t, "secret").await;
                let mut keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                let encrypt = ColumnJob::new(Operation::Encrypt, &t, "secret");

                let dry = run(&pool, &encrypt, &keyring, &RunOptions { dry_run: true, ..RunOptions::default() }, &mut |_| {}).await.unwrap();
                assert_eq!(dry.pending_at_start, 500 - 500 / 7);
                assert_eq!(read_text(&pool, &t, "secret").await, before, "a dry run writes nothing");

                let summary = job(&pool, &encrypt, &keyring).await;
                assert!(summary.is_clean(), "{summary:?}");
                assert_eq!(summary.written, 500 - 500 / 7);
                let v = summary.verification.clone().unwrap();
                assert_eq!((v.checked, v.good, v.left, v.failed_to_open), (429, 429, 0, 0));
                // What this run wrote is taken as written, but for a sample opened anyway.
                assert!((300..=429).contains(&v.as_written), "{v:?}");
                let ctx = Context::new(t.as_str(), "secret").unwrap();
                let after = read_text(&pool, &t, "secret").await;
                for ((id, old), (_, new)) in before.iter().zip(&after) {
                    match (old, new) {
                        (None, None) => {}
                        (Some(old), Some(new)) => {
                            assert!(new.starts_with("fc1c1."), "row {id}");
                            assert_eq!(&keyring.open::<String>(&ctx, new.as_bytes()).unwrap(), old);
                        }
                        _ => panic!("row {id}: NULL changed"),
                    }
                }
                // Running it again finds nothing to do.
                let again = job(&pool, &encrypt, &keyring).await;
                assert_eq!((again.pending_at_start, again.written), (0, 0));

                // Rotate: everything moves to the new primary, found by prefix.
                keyring.rotate().unwrap();
                let rotated = job(&pool, &ColumnJob::new(Operation::Rotate, &t, "secret"), &keyring).await;
                assert!(rotated.is_clean(), "{rotated:?}");
                assert_eq!(rotated.pending_at_start, 429);
                for (_, new) in read_text(&pool, &t, "secret").await {
                    if let Some(new) = new {
                        assert!(new.starts_with("fc1c2."));
                    }
                }

                // And back to plaintext, exactly as it was.
                let decrypted = job(&pool, &ColumnJob::new(Operation::Decrypt, &t, "secret"), &keyring).await;
                assert!(decrypted.is_clean(), "{decrypted:?}");
                assert_eq!(read_text(&pool, &t, "secret").await, before);
            }

            #[tokio::test]
            async fn encrypt_into_a_binary_column_bound_to_rows_and_back_into_integers() {
                let Some((pool, blob)) = connect($backend).await else { return };
                let t = unique("fcm_into");
                exec(&pool, &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, visits BIGINT, visits_enc {blob}, visits_back BIGINT)")).await;
                for i in 1..=300_i64 {
                    let v = if i % 10 == 0 { "NULL".to_owned() } else { (i * 1_000_003 - 150_000_000).to_string() };
                    exec(&pool, &format!("INSERT INTO {t} (id, visits) VALUES ({i}, {v})")).await;
                }
                let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                let mut encrypt = ColumnJob::new(Operation::Encrypt, &t, "visits");
                encrypt.into = Some("visits_enc".to_owned());
                encrypt.bind_row = true;
                let summary = job(&pool, &encrypt, &keyring).await;
                assert!(summary.is_clean(), "{summary:?}");
                assert_eq!(summary.written, 270);
                let stored = read_bytes(&pool, &t, "visits_enc").await;
                for (id, enc) in &stored {
                    let ctx = Context::new(t.as_str(), "visits_enc").unwrap().with_row(*id).unwrap();
                    match enc {
                        None => assert_eq!(id % 10, 0),
                        Some(enc) => {
                            assert_eq!(enc[0], 0xFC, "binary envelope");
                            assert_eq!(keyring.open::<i64>(&ctx, enc).unwrap(), id * 1_000_003 - 150_000_000);
                        }
                    }
                }
                // A value copied into another row does not open there: the verification pass
                // counts it, a decrypt leaves it alone and names the row.
                let copy = match &pool {
                    Pool::MySql(_) => format!("UPDATE {t} AS a JOIN {t} AS b ON b.id = 1 SET a.visits_enc = b.visits_enc WHERE a.id = 2"),
                    _ => format!("UPDATE {t} SET visits_enc = (SELECT visits_enc FROM {t} WHERE id = 1) WHERE id = 2"),
                };
                exec(&pool, &copy).await;
                let mut back = ColumnJob::new(Operation::Decrypt, &t, "visits_enc");
                back.into = Some("visits_back".to_owned());
                back.context = Some((t.clone(), "visits_enc".to_owned()));
                back.bind_row = true;
                let summary = job(&pool, &back, &keyring).await;
                assert_eq!(summary.failed, 1);
                assert_eq!(summary.failed_keys, vec!["2".to_owned()]);
                assert!(!summary.is_clean());
                let sql = format!("SELECT id, visits, visits_back FROM {t} ORDER BY id");
                let rows: Vec<(i64, Option<i64>, Option<i64>)> = match &pool {
                    Pool::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                    Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                    Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                };
                for (id, visits, back) in rows {
                    if id == 2 {
                        assert_eq!(back, None, "the failed row is untouched");
                    } else {
                        assert_eq!(back, visits, "row {id}");
                    }
                }
            }

            #[tokio::test]
            async fn dates_timestamps_and_decimals_are_sealed_typed_and_come_back_exactly() {
                let Some((pool, blob)) = connect($backend).await else { return };
                let t = unique("fcm_typed");
                let ts = match $backend { "postgres" => "TIMESTAMPTZ", "mysql" => "DATETIME(6)", _ => "DATETIME" };
                exec(&pool, &format!(
                    "CREATE TABLE {t} (id BIGINT PRIMARY KEY, born DATE, seen {ts}, amount DECIMAL(14,2), \
                     born_enc {blob}, seen_enc {blob}, amount_enc TEXT, born_back DATE, seen_back {ts}, amount_back DECIMAL(14,2))"
                )).await;
                for i in 1..=60_i64 {
                    let (born, seen, amount) = typed_row(i);
                    let lit = |v: Option<&str>| v.map_or("NULL".to_owned(), |v| format!("'{v}'"));
                    // PostgreSQL gets the instants with an offset, to show they are read in UTC.
                    let seen = match ($backend, seen) {
                        ("postgres", Some((local, _))) => Some(format!("{local}+02:00")),
                        (_, Some((_, utc))) => Some(utc.to_owned()),
                        (_, None) => None,
                    };
                    exec(&pool, &format!("INSERT INTO {t} (id, born, seen, amount) VALUES ({i}, {}, {}, {})",
                        lit(born), lit(seen.as_deref()), lit(amount))).await;
                }
                // One value per database that the core cannot hold: reported, left as it is.
                let bad = match $backend {
                    "postgres" => format!("INSERT INTO {t} (id, seen) VALUES (61, 'infinity')"),
                    "mysql" => format!("SET SESSION sql_mode = ''; INSERT INTO {t} (id, born) VALUES (61, '0000-00-00')"),
                    _ => format!("INSERT INTO {t} (id, born) VALUES (61, 'yesterday')"),
                };
                exec(&pool, &bad).await;
                let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                let bad_column = if $backend == "postgres" { "seen" } else { "born" };
                for column in ["born", "seen", "amount"] {
                    let mut encrypt = ColumnJob::new(Operation::Encrypt, &t, column);
                    encrypt.into = Some(format!("{column}_enc"));
                    let summary = job(&pool, &encrypt, &keyring).await;
                    if column == bad_column {
                        assert_eq!((summary.failed, summary.failed_keys.clone()), (1, vec!["61".to_owned()]), "{column}");
                    } else {
                        assert!(summary.is_clean(), "{column}: {summary:?}");
                    }
                }
                let ctx = |column: &str| Context::new(t.as_str(), format!("{column}_enc")).unwrap();
                let born = read_bytes(&pool, &t, "born_enc").await;
                let seen = read_bytes(&pool, &t, "seen_enc").await;
                let amount = read_text(&pool, &t, "amount_enc").await;
                let mut opened = 0;
                for i in 1..=60_i64 {
                    let row = usize::try_from(i - 1).unwrap();
                    let (b, s, a) = typed_row(i);
                    let open = |column: &str, stored: &[u8]| keyring.open::<Value>(&ctx(column), stored).unwrap();
                    match (b, &born[row].1) {
                        (Some(b), Some(stored)) => { assert_eq!(open("born", stored), Value::Date(b.parse().unwrap()), "row {i}"); opened += 1 }
                        (None, None) => {}
                        other => panic!("row {i}: born {other:?}"),
                    }
                    match (s, &seen[row].1) {
                        (Some((_, utc)), Some(stored)) => {
                            let expected = format!("{}Z", utc.replacen(' ', "T", 1));
                            assert_eq!(open("seen", stored), Value::Timestamp(expected.parse().unwrap()), "row {i}");
                            opened += 1;
                        }
                        (None, None) => {}
                        other => panic!("row {i}: seen {other:?}"),
                    }
                    match (a, &amount[row].1) {
                        (Some(a), Some(stored)) => {
                            // The column's scale is kept: 7 is stored (and sealed) as 7.00. SQLite has
                            // no decimal type: its NUMERIC affinity stores these as integers or
                            // reals, and the job seals what is stored.
                            let expected = match ($backend, a) {
                                ("sqlite", "-12.50") => "-12.5".to_owned(),
                                ("sqlite", "0.00") => "0".to_owned(),
                                ("sqlite", a) => a.to_owned(),
                                (_, a) if a.contains('.') => a.to_owned(),
                                (_, a) => format!("{a}.00"),
                            };
                            assert_eq!(open("amount", stored.as_bytes()), Value::Decimal(fieldcrypt::Decimal::new(expected).unwrap()), "row {i}");
                            opened += 1;
                        }
                        (None, None) => {}
                        other => panic!("row {i}: amount {other:?}"),
                    }
                }
                assert_eq!(opened, 3 * 54, "every non-NULL value opened");
                // And back into columns of the original types, equal to the originals.
                for column in ["born", "seen", "amount"] {
                    let mut back = ColumnJob::new(Operation::Decrypt, &t, &format!("{column}_enc"));
                    back.into = Some(format!("{column}_back"));
                    back.context = Some((t.clone(), format!("{column}_enc")));
                    let summary = job(&pool, &back, &keyring).await;
                    assert!(summary.is_clean(), "{column}: {summary:?}");
                    let differ = match $backend {
                        "postgres" => format!("{column} IS DISTINCT FROM {column}_back"),
                        "mysql" => format!("NOT ({column} <=> {column}_back)"),
                        _ => format!("{column} IS NOT {column}_back"),
                    };
                    let sql = format!("SELECT COUNT(*) FROM {t} WHERE id <= 60 AND {differ}");
                    let n: i64 = match &pool {
                        Pool::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
                        Pool::MySql(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
                        Pool::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
                    };
                    assert_eq!(n, 0, "{column}: rows that did not come back equal");
                }
            }

            #[tokio::test]
            async fn uuid_keys_and_uuid_columns_walk_bind_and_come_back() {
                let Some((pool, _)) = connect($backend).await else { return };
                let t = unique("fcm_uuid");
                // MariaDB and PostgreSQL have a UUID type (MariaDB orders time-based UUIDs, version
                // 1, by their time fields, not as text: half the keys are); SQLite keeps whatever
                // the column is declared as.
                exec(&pool, &format!(
                    "CREATE TABLE {t} (id UUID PRIMARY KEY, email TEXT, token UUID, token_enc TEXT, token_back UUID)"
                )).await;
                let uuid = |i: u32, salt: u32| {
                    let a = i.wrapping_mul(2_654_435_761) ^ salt;
                    let version = if i % 2 == 0 { 1 } else { 7 };
                    format!("{a:08x}-{:04x}-{version}{:03x}-{:04x}-{:012x}", i & 0xffff, (i ^ salt) % 4096,
                        0x8000 | (i.wrapping_mul(7) % 0x3fff), u64::from(i) * 1_000_003)
                };
                let rows = 300_u32;
                for i in 1..=rows {
                    let token = if i % 10 == 0 { "NULL".to_owned() } else { format!("'{}'", uuid(i, 0x5a5a_5a5a)) };
                    exec(&pool, &format!("INSERT INTO {t} (id, email, token) VALUES ('{}', 'person{i}@example.org', {token})", uuid(i, 0))).await;
                }
                if $backend == "sqlite" {
                    // A SQLite column declared UUID holds any text: reported, left as it is.
                    exec(&pool, &format!("INSERT INTO {t} (id, email, token) VALUES ('{}', 'x@example.org', 'not-a-uuid')", uuid(rows + 1, 0))).await;
                }
                let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();

                let mut email = ColumnJob::new(Operation::Encrypt, &t, "email");
                email.bind_row = true;
                let summary = job(&pool, &email, &keyring).await;
                assert!(summary.is_clean(), "{summary:?}");
                let extra = u64::from($backend == "sqlite");
                assert_eq!(summary.written, u64::from(rows) + extra, "the walk by UUID key visits every row");
                assert_eq!((summary.passes, summary.concurrent), (1, 0), "in one pass, each row once");

                let mut token = ColumnJob::new(Operation::Encrypt, &t, "token");
                token.into = Some("token_enc".to_owned());
                let summary = job(&pool, &token, &keyring).await;
                assert_eq!(summary.written, u64::from(rows - rows / 10));
                if $backend == "sqlite" {
                    assert_eq!((summary.failed, summary.failed_keys.clone()), (1, vec![format!("{:?}", uuid(rows + 1, 0))]));
                } else {
                    assert!(summary.is_clean(), "{summary:?}");
                }

                let key_text = match $backend { "postgres" => "id::text", "mysql" => "CAST(id AS CHAR)", _ => "id" };
                let sql = format!("SELECT {key_text}, email, token_enc FROM {t}");
                let stored: Vec<(String, String, Option<String>)> = match &pool {
                    Pool::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                    Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                    Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                };
                let by_key: HashMap<String, u32> = (1..=rows + 1).map(|i| (uuid(i, 0), i)).collect();
                let token_ctx = Context::new(t.as_str(), "token_enc").unwrap();
                let mut opened = 0;
                for (key, email, token_enc) in &stored {
                    let i = by_key[key];
                    // Each email is bound to its row by the key's text, as `Sealed` binds a UUID.
                    let row_ctx = Context::new(t.as_str(), "email").unwrap().with_row(key.as_str()).unwrap();
                    let expected = if i > rows { "x@example.org".to_owned() } else { format!("person{i}@example.org") };
                    assert_eq!(keyring.open_text::<String>(&row_ctx, email).unwrap(), expected);
                    let column_only = Context::new(t.as_str(), "email").unwrap();
                    assert!(keyring.open_text::<String>(&column_only, email).is_err(), "bound to the row");
                    if let Some(token_enc) = token_enc {
                        assert_eq!(keyring.open_text::<String>(&token_ctx, token_enc).unwrap(), uuid(i, 0x5a5a_5a5a));
                        opened += 1;
                    }
                }
                assert_eq!(opened, rows - rows / 10);

                let mut back = ColumnJob::new(Operation::Decrypt, &t, "token_enc");
                back.into = Some("token_back".to_owned());
                back.context = Some((t.clone(), "token_enc".to_owned()));
                let summary = job(&pool, &back, &keyring).await;
                assert!(summary.is_clean(), "{summary:?}");
                assert_eq!(summary.written, u64::from(rows - rows / 10));
                let differ = match $backend {
                    "postgres" => "token IS DISTINCT FROM token_back",
                    "mysql" => "NOT (token <=> token_back)",
                    _ => "token IS NOT token_back",
                };
                let sql = format!("SELECT COUNT(*) FROM {t} WHERE token_enc IS NOT NULL AND {differ}");
                let n: i64 = match &pool {
                    Pool::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
                    Pool::MySql(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
                    Pool::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
                };
                assert_eq!(n, 0, "UUIDs that did not come back equal");
                if $backend == "sqlite" {
                    // sqlx writes a `Uuid` to SQLite as 16 bytes: refused before anything is written.
                    let b = unique("fcm_uuid_blob");
                    exec(&pool, &format!("CREATE TABLE {b} (id UUID PRIMARY KEY, email TEXT); INSERT INTO {b} VALUES (x'0190a6e27c1b7d3e9f002a1b3c4d5e6f', 'a@example.org')")).await;
                    let e = run(&pool, &ColumnJob::new(Operation::Encrypt, &b, "email"), &keyring, &RunOptions::default(), &mut |_| {}).await.unwrap_err();
                    assert!(matches!(e, MigrateError::UnsupportedType { .. }) && e.to_string().contains("BLOB"), "{e}");
                }
            }

            #[tokio::test]
            async fn json_columns_are_sealed_with_every_number_exact_and_come_back() {
                let Some((pool, blob)) = connect($backend).await else { return };
                let t = unique("fcm_json");
                let json = if $backend == "postgres" { "JSONB" } else { "JSON" };
                exec(&pool, &format!(
                    "CREATE TABLE {t} (id BIGINT PRIMARY KEY, doc {json}, doc_enc {blob}, doc_back {json})"
                )).await;
                // Numbers no f64 holds, a scale to keep, escapes, unicode, JSON null, SQL NULL.
                let docs: [Option<&str>; 8] = [
                    Some(r#"{"big": 123456789012345678901234567890.5, "price": 1.10, "n": -0.0}"#),
                    Some(r#"[1e400, 18446744073709551617, 0.1, -5]"#),
                    Some(r#"{"note": "line\nbreak \"quoted\" \\ tab\t", "name": "Zoë 👩‍⚕️ שלום"}"#),
                    Some(r#"{"nested": {"a": [], "b": {}, "c": [true, false, null]}}"#),
                    Some("null"),
                    Some(r#""just a string""#),
                    Some("  [ 1 ,  2 ]  "),
                    None,
                ];
                for (i, doc) in docs.iter().enumerate() {
                    // MySQL string literals take backslash escapes of their own.
                    let escaped = |d: &str| if $backend == "mysql" { d.replace('\\', "\\\\") } else { d.to_owned() };
                    let lit = doc.map_or("NULL".to_owned(), |d| format!("'{}'", escaped(d).replace('\'', "''")));
                    exec(&pool, &format!("INSERT INTO {t} (id, doc) VALUES ({i}, {lit})")).await;
                }
                if $backend == "sqlite" {
                    // A SQLite column declared JSON holds any text: reported, left as it is.
                    exec(&pool, &format!("INSERT INTO {t} (id, doc) VALUES (99, '{{not json')")).await;
                }
                let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();

                // In place is refused: the column cannot hold envelopes (MariaDB's JSON columns
                // are LONGTEXT, known by their json_valid check).
                let in_place = run(&pool, &ColumnJob::new(Operation::Encrypt, &t, "doc"), &keyring, &RunOptions::default(), &mut |_| {}).await.unwrap_err();
                assert!(in_place.to_string().contains("cannot hold envelopes"), "{in_place}");

                let mut encrypt = ColumnJob::new(Operation::Encrypt, &t, "doc");
                encrypt.into = Some("doc_enc".to_owned());
                let summary = job(&pool, &encrypt, &keyring).await;
                assert_eq!(summary.written, 7);
                if $backend == "sqlite" {
                    assert_eq!((summary.failed, summary.failed_keys.clone()), (1, vec!["99".to_owned()]));
                } else {
                    assert!(summary.is_clean(), "{summary:?}");
                }

                let text_of = |column: &str| match $backend {
                    "postgres" => format!("{column}::text"),
                    "mysql" => format!("CAST({column} AS CHAR)"),
                    _ => column.to_owned(),
                };
                let sql = format!("SELECT id, {}, doc_enc, {} FROM {t} WHERE id < 99 ORDER BY id", text_of("doc"), text_of("doc_back"));
                let fetch = || async {
                    let rows: Vec<(i64, Option<String>, Option<Vec<u8>>, Option<String>)> = match &pool {
                        Pool::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                        Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                        Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                    };
                    rows
                };
                let ctx = Context::new(t.as_str(), "doc_enc").unwrap();
                let mut opened = 0;
                for (id, doc, doc_enc, _) in fetch().await {
                    match (doc, doc_enc) {
                        (Some(doc), Some(stored)) => {
                            let Value::Json(sealed) = keyring.open::<Value>(&ctx, &stored).unwrap() else {
                                panic!("row {id}: not sealed as JSON");
                            };
                            // What the database printed, whitespace between tokens dropped.
                            assert_eq!(sealed, fieldcrypt::JsonText::new(&doc).unwrap(), "row {id}");
                            opened += 1;
                        }
                        (None, None) => {}
                        other => panic!("row {id}: {other:?}"),
                    }
                }
                assert_eq!(opened, 7);
                let first = keyring.open::<fieldcrypt::JsonText>(&ctx, &fetch().await[0].2.clone().unwrap()).unwrap();
                assert!(first.as_str().contains("123456789012345678901234567890.5"), "numbers kept exactly");
                assert!(first.as_str().contains("1.10"), "scale kept");

                let mut back = ColumnJob::new(Operation::Decrypt, &t, "doc_enc");
                back.into = Some("doc_back".to_owned());
                back.context = Some((t.clone(), "doc_enc".to_owned()));
                let summary = job(&pool, &back, &keyring).await;
                assert!(summary.is_clean(), "{summary:?}");
                assert_eq!(summary.written, 7);
                for (id, doc, _, doc_back) in fetch().await {
                    let compact = |d: Option<String>| d.map(|d| fieldcrypt::JsonText::new(&d).unwrap());
                    assert_eq!(compact(doc), compact(doc_back), "row {id} came back otherwise");
                }
            }

            #[tokio::test]
            async fn an_application_on_migrating_reads_every_row_and_writes_envelopes_during_the_job() {
                let Some((pool, _)) = connect($backend).await else { return };
                let t = unique("fcm_app");
                exec(&pool, &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, secret TEXT)")).await;
                let rows = 2000_i64;
                let values: Vec<String> = (1..=rows).map(|i| format!("({i}, 'v0-{i}')")).collect();
                exec(&pool, &format!("INSERT INTO {t} (id, secret) VALUES {}", values.join(","))).await;
                let keyring = app_keyring();
                let stop = Arc::new(AtomicBool::new(false));
                let ph = |n: usize| if $backend == "postgres" { format!("${n}") } else { "?".to_owned() };
                let update = format!("UPDATE {t} SET secret = {} WHERE id = {}", ph(1), ph(2));
                let select = format!("SELECT id, secret FROM {t}");
                // The application: writes through `Migrating` (envelopes), reads every row back
                // through it, whatever the job has reached.
                macro_rules! on_pool {
                    ($pool:expr, $p:ident => $body:expr) => {
                        match $pool {
                            Pool::Postgres($p) => $body,
                            Pool::MySql($p) => $body,
                            Pool::Sqlite($p) => $body,
                        }
                    };
                }
                let writer = {
                    let (pool, stop, update) = (pool.clone(), Arc::clone(&stop), update.clone());
                    tokio::spawn(async move {
                        let mut last: HashMap<i64, String> = HashMap::new();
                        let mut n = 0_u64;
                        while !stop.load(Ordering::Relaxed) || n < 100 {
                            n += 1;
                            let r = fieldcrypt::random_array::<8>().unwrap();
                            let id = (u64::from_le_bytes(r) % rows as u64) as i64 + 1;
                            let value = format!("v{n}-{id}");
                            on_pool!(&pool, p => sqlx::query(&update)
                                .bind(Migrating::<String, AppSecret>::new(value.clone()))
                                .bind(id)
                                .execute(p).await.map(drop).unwrap());
                            last.insert(id, value);
                        }
                        last
                    })
                };
                let (first_scan, scanned) = tokio::sync::oneshot::channel::<()>();
                let reader = {
                    let (pool, stop, select) = (pool.clone(), Arc::clone(&stop), select.clone());
                    let mut first_scan = Some(first_scan);
                    tokio::spawn(async move {
                        let (mut scans, mut plain, mut sealed) = (0_u64, 0_u64, 0_u64);
                        while !stop.load(Ordering::Relaxed) || scans < 2 {
                            scans += 1;
                            let read: Vec<(i64, bool, String)> = on_pool!(&pool, p => {
                                let got = sqlx::query(&select).fetch_all(p).await.unwrap();
                                got.iter().map(|row| {
                                    let id: i64 = row.get(0);
                                    let value: Migrating<String, AppSecret> = row
                                        .try_get(1)
                                        .unwrap_or_else(|e| panic!("row {id} did not read mid-job: {e}"));
                                    (id, value.was_plaintext(), value.into_inner())
                                }).collect()
                            });
                            assert_eq!(read.len(), rows as usize);
                            for (id, was_plaintext, value) in read {
                                assert!(value.starts_with('v') && value.ends_with(&format!("-{id}")), "row {id}");
                                if was_plaintext { plain += 1 } else { sealed += 1 }
                            }
                            if let Some(first) = first_scan.take() {
                                let _ = first.send(());
                            }
                        }
                        (scans, plain, sealed)
                    })
                };
                // The job starts once the application has read the table once; from then on both
                // run together.
                scanned.await.unwrap();
                let mut encrypt = ColumnJob::new(Operation::Encrypt, &t, "secret");
                encrypt.context = Some(("fcm_app".to_owned(), "secret".to_owned()));
                let summary = run(&pool, &encrypt, &keyring, &RunOptions { batch: 50, ..RunOptions::default() }, &mut |_| {}).await.unwrap();
                stop.store(true, Ordering::Relaxed);
                let last = writer.await.unwrap();
                let (scans, plain, sealed) = reader.await.unwrap();
                // The application wrote envelopes only, so one run leaves nothing behind.
                assert!(summary.is_clean(), "{summary:?}");
                assert!(scans >= 2 && plain > 0 && sealed > 0, "{scans} scans, {plain} plaintext, {sealed} envelopes");
                eprintln!("{} mid-job reads: {scans} scans, {plain} plaintext, {sealed} envelopes", $backend);
                // And every value is what was last written, readable as `Encrypted` now.
                let all: Vec<(i64, String)> = on_pool!(&pool, p => {
                    let got = sqlx::query(&select).fetch_all(p).await.unwrap();
                    got.iter().map(|row| {
                        let value: fieldcrypt_sqlx::Encrypted<String, AppSecret> = row.try_get(1).unwrap();
                        (row.get::<i64, _>(0), value.into_inner())
                    }).collect()
                });
                for (id, value) in all {
                    let expected = last.get(&id).cloned().unwrap_or_else(|| format!("v0-{id}"));
                    assert_eq!(value, expected, "row {id}");
                }
            }

            #[tokio::test]
            async fn a_concurrent_writer_never_loses_an_update() {
                let Some((pool, _)) = connect($backend).await else { return };
                let t = unique("fcm_race");
                exec(&pool, &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, secret TEXT)")).await;
                let rows = 3000_i64;
                let mut values = String::new();
                for i in 1..=rows {
                    if !values.is_empty() {
                        values.push(',');
                    }
                    values.push_str(&format!("({i}, 'v0-{i}')"));
                }
                exec(&pool, &format!("INSERT INTO {t} (id, secret) VALUES {values}")).await;
                let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                let stop = Arc::new(AtomicBool::new(false));
                let writer = {
                    let (pool, t, stop) = (pool.clone(), t.clone(), Arc::clone(&stop));
                    tokio::spawn(async move {
                        let mut last: HashMap<i64, String> = HashMap::new();
                        let mut n = 0_u64;
                        while !stop.load(Ordering::Relaxed) || n < 200 {
                            n += 1;
                            let r = fieldcrypt::random_array::<8>().unwrap();
                            let id = (u64::from_le_bytes(r) % rows as u64) as i64 + 1;
                            let value = format!("v{n}-{id}");
                            update_text(&pool, &t, id, &value).await;
                            last.insert(id, value);
                        }
                        last
                    })
                };
                let encrypt = ColumnJob::new(Operation::Encrypt, &t, "secret");
                let first = run(&pool, &encrypt, &keyring, &RunOptions { batch: 50, ..RunOptions::default() }, &mut |_| {}).await.unwrap();
                stop.store(true, Ordering::Relaxed);
                let last = writer.await.unwrap();
                // The writer wrote plaintext after the job passed some rows: a second run takes them.
                let second = job(&pool, &encrypt, &keyring).await;
                assert!(second.is_clean(), "{second:?}");
                assert!(first.written + second.written >= rows as u64);
                let ctx = Context::new(t.as_str(), "secret").unwrap();
                let mut checked_writes = 0;
                for (id, value) in read_text(&pool, &t, "secret").await {
                    let opened: String = keyring.open(&ctx, value.unwrap().as_bytes()).unwrap();
                    let expected = last.get(&id).cloned().unwrap_or_else(|| format!("v0-{id}"));
                    if last.contains_key(&id) {
                        checked_writes += 1;
                    }
                    assert_eq!(opened, expected, "row {id}: an update was lost");
                }
                assert!(checked_writes > 100);
            }

            #[tokio::test]
            async fn encrypt_with_a_blind_index_then_reindex_after_a_root_rotation() {
                let Some((pool, _)) = connect($backend).await else { return };
                let t = unique("fcm_index");
                exec(&pool, &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, email TEXT, email_idx BIGINT)")).await;
                for i in 1..=300_i64 {
                    exec(&pool, &format!("INSERT INTO {t} (id, email) VALUES ({i}, 'Customer{i}@Example.org')")).await;
                }
                let mut keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                let spec = fieldcrypt_migrate::IndexSpec::parse("email_idx:nfkc,trim,casefold:16").unwrap();
                let mut encrypt = ColumnJob::new(Operation::Encrypt, &t, "email");
                encrypt.index = Some(spec.clone());
                let summary = job(&pool, &encrypt, &keyring).await;
                assert!(summary.is_clean(), "{summary:?}");
                assert_eq!(summary.verification.as_ref().unwrap().good, 300);

                // The application's own index (same definition) finds a row in any case.
                let index = fieldcrypt_sqlx::BlindIndex::new(
                    fieldcrypt::IndexDefinition::new(t.as_str(), "email", "email_idx", 16)
                        .normalized(fieldcrypt::Normalizer::parse_list("nfkc,trim,casefold").unwrap()),
                )
                .unwrap();
                let stored_index = |pool: Pool, t: String| async move {
                    let sql = format!("SELECT id, email_idx FROM {t} ORDER BY id");
                    let rows: Vec<(i64, Option<i64>)> = match &pool {
                        Pool::Postgres(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                        Pool::MySql(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                        Pool::Sqlite(p) => sqlx::query_as(&sql).fetch_all(p).await.unwrap(),
                    };
                    rows
                };
                let wanted = index.value(&keyring, "  customer42@EXAMPLE.ORG").unwrap().get();
                let rows = stored_index(pool.clone(), t.clone()).await;
                assert!(rows.iter().any(|(id, v)| *id == 42 && *v == Some(wanted)));

                // A new index root: reindex rewrites the index column only, and the values match
                // what the application computes under the new root.
                keyring.rotate_index_root().unwrap();
                let mut reindex = ColumnJob::new(Operation::Reindex, &t, "email");
                reindex.index = Some(spec.clone());
                let before = read_text(&pool, &t, "email").await;
                let summary = job(&pool, &reindex, &keyring).await;
                assert!(summary.is_clean(), "{summary:?}");
                // (A 16-bit value is the same under both roots once in 65,536.)
                assert!(summary.written >= 290, "{summary:?}");
                assert_eq!(read_text(&pool, &t, "email").await, before, "envelopes untouched");
                for (id, value) in stored_index(pool.clone(), t.clone()).await {
                    let expected = index.value(&keyring, &format!("Customer{id}@Example.org")).unwrap().get();
                    assert_eq!(value, Some(expected), "row {id}");
                }
                                let again = job(&pool, &reindex, &keyring).await;
                assert_eq!(again.written, 0);

                // doctor checks the index column too, and names a row whose value is wrong.
                let indexes = [("email".to_owned(), spec.clone())];
                let report = fieldcrypt_migrate::doctor(&pool, &t, None, &keyring, &indexes, 50).await.unwrap();
                assert!(report.is_clean(), "{report:?}");
                exec(&pool, &format!("UPDATE {t} SET email_idx = email_idx + 1 WHERE id = 7")).await;
                let report = fieldcrypt_migrate::doctor(&pool, &t, None, &keyring, &indexes, 50).await.unwrap();
                let email = report.columns.iter().find(|c| c.column == "email").unwrap();
                assert_eq!(email.index_mismatch, 1);
                assert_eq!(email.examples, vec!["7: blind-index value does not match".to_owned()]);


                // Reindex without an index, or an index into a text column: clear errors.
                let err = run(&pool, &ColumnJob::new(Operation::Reindex, &t, "email"), &keyring, &RunOptions::default(), &mut |_| {}).await.unwrap_err();
                assert!(err.to_string().contains("needs --index"), "{err}");
                let mut wrong = ColumnJob::new(Operation::Reindex, &t, "email");
                wrong.index = Some(fieldcrypt_migrate::IndexSpec::parse("email::16").unwrap());
                let err = run(&pool, &wrong, &keyring, &RunOptions::default(), &mut |_| {}).await.unwrap_err();
                assert!(err.to_string().contains("BIGINT"), "{err}");
                assert!(fieldcrypt_migrate::IndexSpec::parse("email_idx:nfkc").is_err());
                assert!(fieldcrypt_migrate::IndexSpec::parse("email_idx:nfkc:64").is_err());
                assert!(fieldcrypt_migrate::IndexSpec::parse("email_idx:bogus:16").is_err());
            }

            #[tokio::test]
            async fn doctor_names_every_kind_of_problem() {
                let Some((pool, _)) = connect($backend).await else { return };
                let t = unique("fcm_doctor");
                exec(&pool, &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, email TEXT, extra TEXT, plain TEXT, born DATE)")).await;
                for i in 1..=40_i64 {
                    exec(&pool, &format!("INSERT INTO {t} (id, email, extra, plain, born) VALUES ({i}, 'e{i}@x.org', 'x{i}', 'p{i}', '2000-01-01')")).await;
                }
                let mut keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                let under_key_1 = keyring.seal_text(&Context::new(t.as_str(), "email").unwrap(), "old").unwrap();
                keyring.rotate().unwrap();
                keyring.retire(fieldcrypt::KeyId::new(1).unwrap()).unwrap();
                job(&pool, &ColumnJob::new(Operation::Encrypt, &t, "email"), &keyring).await;
                let mut bound = ColumnJob::new(Operation::Encrypt, &t, "extra");
                bound.bind_row = true;
                job(&pool, &bound, &keyring).await;
                let clean = fieldcrypt_migrate::doctor(&pool, &t, None, &keyring, &[], 7).await.unwrap();
                assert!(clean.is_clean(), "{clean:?}");
                assert_eq!(clean.columns.len(), 3);
                assert_eq!(clean.skipped.len(), 1, "the date column is not read");

                // One of each problem.
                let mut stranger = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                stranger.rotate().unwrap();
                stranger.rotate().unwrap();
                let unknown = stranger.seal_text(&Context::new(t.as_str(), "email").unwrap(), "?").unwrap();
                exec(&pool, &format!("UPDATE {t} SET email = 'left behind' WHERE id = 3")).await;
                exec(&pool, &format!("UPDATE {t} SET email = '{under_key_1}' WHERE id = 4")).await;
                exec(&pool, &format!("UPDATE {t} SET email = '{unknown}' WHERE id = 5")).await;
                let moved = match &pool {
                    Pool::MySql(_) => format!("UPDATE {t} AS a JOIN {t} AS b ON b.id = 1 SET a.extra = b.extra WHERE a.id = 6"),
                    _ => format!("UPDATE {t} SET extra = (SELECT extra FROM {t} WHERE id = 1) WHERE id = 6"),
                };
                exec(&pool, &moved).await;
                let report = fieldcrypt_migrate::doctor(&pool, &t, None, &keyring, &[], 7).await.unwrap();
                assert!(!report.is_clean());
                let column = |name: &str| report.columns.iter().find(|c| c.column == name).unwrap().clone();
                let email = column("email");
                assert_eq!(
                    (email.values, email.envelopes, email.plaintext, email.retired_key, email.unknown_key, email.fail_to_open, email.open_by_column),
                    (40, 39, 1, 1, 1, 0, 37)
                );
                assert_eq!(email.by_key.get(&2), Some(&37));
                assert!(email.examples.iter().any(|e| e.starts_with("3: plaintext")), "{:?}", email.examples);
                let extra = column("extra");
                assert_eq!((extra.open_by_row, extra.open_by_column, extra.fail_to_open), (39, 0, 1));
                assert!(extra.examples[0].starts_with("6: does not open"), "{:?}", extra.examples);
                let plain = column("plain");
                assert!(!plain.is_encrypted() && plain.problems() == 0 && plain.examples.is_empty());
            }

            #[tokio::test]
            async fn bad_input_is_a_clear_error_and_changes_nothing() {
                let Some((pool, _)) = connect($backend).await else { return };
                let t = unique("fcm_bad");
                exec(&pool, &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, secret TEXT, born DATE, code VARCHAR(20), n BIGINT)")).await;
                exec(&pool, &format!("INSERT INTO {t} (id, secret, born, code, n) VALUES (1, 'a', '2000-01-02', 'x', 5)")).await;
                let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                let options = RunOptions::default();
                let keyring = Arc::new(keyring);
                let err = |job: ColumnJob| {
                    let (pool, keyring, options) = (pool.clone(), Arc::clone(&keyring), options.clone());
                    async move { run(&pool, &job, &keyring, &options, &mut |_| {}).await.unwrap_err() }
                };
                let e = err(ColumnJob::new(Operation::Encrypt, "fcm_no_such_table", "secret")).await;
                assert!(matches!(e, MigrateError::NoSuchTable(_)), "{e}");
                let e = err(ColumnJob::new(Operation::Encrypt, &t, "nope")).await;
                assert!(matches!(e, MigrateError::NoSuchColumn { .. }), "{e}");
                // A date column cannot hold envelopes in place (it can be encrypted --into).
                let e = err(ColumnJob::new(Operation::Encrypt, &t, "born")).await;
                assert!(matches!(e, MigrateError::UnsupportedType { .. }), "{e}");
                assert!(e.to_string().contains("cannot hold envelopes"), "{e}");
                let e = err(ColumnJob::new(Operation::Encrypt, &t, "code")).await;
                assert!(e.to_string().contains("too narrow"), "{e}");
                let e = err(ColumnJob::new(Operation::Encrypt, &t, "n")).await;
                assert!(e.to_string().contains("cannot hold envelopes"), "{e}");
                // A keyring that cannot open the existing values: rotate names the row, writes nothing.
                job(&pool, &ColumnJob::new(Operation::Encrypt, &t, "secret"), &keyring).await;
                let stored = read_text(&pool, &t, "secret").await;
                let mut other = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
                other.rotate().unwrap();
                let summary = job(&pool, &ColumnJob::new(Operation::Rotate, &t, "secret"), &other).await;
                assert_eq!((summary.written, summary.failed), (0, 1));
                assert_eq!(summary.verification.unwrap().failed_to_open, 1);
                assert_eq!(read_text(&pool, &t, "secret").await, stored);
                let _: Value = keyring.open(&Context::new(t.as_str(), "secret").unwrap(), stored[0].1.as_ref().unwrap().as_bytes()).unwrap();
            }
        }
    };
}

suite!(sqlite, "sqlite");
suite!(postgres, "postgres");
suite!(mysql, "mysql");

/// The database goes away mid-run (its server ends every connection of the job, repeatedly):
/// the job stops with a database error or carries on over new connections, and either way no
/// row is damaged and a second run finishes the column.
#[tokio::test]
async fn postgres_connections_killed_mid_run_damage_nothing() {
    let base = url(
        "FIELDCRYPT_TEST_POSTGRES_URL",
        "postgres://postgres@127.0.0.1:5432/test",
    );
    let Some((admin, _)) = connect("postgres").await else {
        return;
    };
    let Pool::Postgres(admin_pool) = &admin else {
        unreachable!()
    };
    let app = unique("fcm_gone");
    let sep = if base.contains('?') { '&' } else { '?' };
    let pool = Pool::connect(&format!("{base}{sep}application_name={app}"))
        .await
        .unwrap();
    let t = unique("fcm_gone");
    exec(
        &admin,
        &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, secret TEXT)"),
    )
    .await;
    exec(
        &admin,
        &format!("INSERT INTO {t} SELECT g, 'value-' || g FROM generate_series(1, 20000) g"),
    )
    .await;
    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let encrypt = ColumnJob::new(Operation::Encrypt, &t, "secret");
    let slow = RunOptions {
        batch: 200,
        rows_per_sec: Some(8000.0),
        ..RunOptions::default()
    };
    let killer = {
        let (admin_pool, app) = (admin_pool.clone(), app.clone());
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(700)).await;
            let mut ended = 0_i64;
            for _ in 0..20 {
                let n: i64 = sqlx::query_scalar(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1",
                )
                .bind(&app)
                .fetch_one(&admin_pool)
                .await
                .unwrap();
                ended += n;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            ended
        })
    };
    let outcome = run(&pool, &encrypt, &keyring, &slow, &mut |_| {}).await;
    let ended = killer.await.unwrap();
    assert!(ended > 0, "no connection of the job was ended");
    eprintln!(
        "connections ended: {ended}; the job {}",
        match &outcome {
            Ok(s) => format!(
                "carried on over new connections ({} rows written)",
                s.written
            ),
            Err(e) => format!("stopped: {e}"),
        }
    );
    match &outcome {
        Err(MigrateError::Database { .. }) => {}
        Ok(summary) => assert!(summary.written > 0),
        Err(other) => panic!("unexpected error: {other}"),
    }
    // No row is damaged: each is its original plaintext or an envelope of it.
    let ctx = Context::new(t.as_str(), "secret").unwrap();
    let check = |rows: Vec<(i64, Option<String>)>, all_sealed: bool| {
        for (id, value) in rows {
            let value = value.unwrap();
            let expected = format!("value-{id}");
            if value.starts_with("fc1") {
                assert_eq!(
                    keyring.open::<String>(&ctx, value.as_bytes()).unwrap(),
                    expected
                );
            } else {
                assert!(!all_sealed, "row {id} left as plaintext");
                assert_eq!(value, expected, "row {id} damaged");
            }
        }
    };
    check(read_text(&admin, &t, "secret").await, false);
    let second = job(&admin, &encrypt, &keyring).await;
    assert!(second.is_clean(), "{second:?}");
    check(read_text(&admin, &t, "secret").await, true);
}

/// The job's PostgreSQL sessions: no parallel plans and no sorts (a misestimated pending
/// condition otherwise makes every batch read sort the table), dates in ISO and UTC.
#[tokio::test]
async fn postgres_job_sessions_walk_the_primary_key_in_utc() {
    let Some((pool, _)) = connect("postgres").await else {
        return;
    };
    let Pool::Postgres(p) = &pool else {
        unreachable!()
    };
    for (setting, expected) in [
        ("max_parallel_workers_per_gather", "0"),
        ("enable_sort", "off"),
        ("TimeZone", "UTC"),
        ("DateStyle", "ISO, MDY"),
    ] {
        let value: String = sqlx::query_scalar(&format!("SHOW {setting}"))
            .fetch_one(p)
            .await
            .unwrap();
        assert_eq!(value, expected, "{setting}");
    }
    // A rotation's batch read, with the generic plan a prepared statement gets, walks the key,
    // on a table whose rows lie in random order (as after a pass): with sorts allowed, PostgreSQL
    // plans a scan of a third of the table and a sort for every batch here.
    let t = unique("fcm_plan");
    exec(
        &pool,
        &format!("CREATE TABLE {t} (id BIGINT PRIMARY KEY, secret TEXT)"),
    )
    .await;
    exec(&pool, &format!("INSERT INTO {t} SELECT g, 'fc1c1.' || md5(g::text) FROM generate_series(1, 20000) g ORDER BY random()")).await;
    exec(&pool, &format!("ANALYZE {t}")).await;
    let mut conn = p.acquire().await.unwrap();
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::raw_sql(&format!(
        "PREPARE fc_batch(bigint) AS SELECT id, secret FROM {t} WHERE (secret IS NOT NULL AND substr(secret, 1, 6) = 'fc1c1.') AND id > $1 ORDER BY id LIMIT 5000"
    ))
    .execute(&mut *conn)
    .await
    .unwrap();
    let plan: Vec<String> = sqlx::query_scalar("EXPLAIN EXECUTE fc_batch(100)")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("Index Scan") && !plan.contains("Sort"),
        "{plan}"
    );
}
