//! `customers bench`: the cost of encryption on whole-table work, beside the same work in
//! plaintext, in one run, on PostgreSQL and SQLite (and, given a Python with the packages of
//! `bench/requirements.txt`, the Django ORM with django-encrypted-model-fields on the same
//! PostgreSQL).
//!
//! Workload, matching `bench/django_bench.py`: N rows (default 100,000) of name, email and notes.
//! - plaintext table: `id, name, email, notes` as text, an index on `email`;
//! - encrypted table: name, email and notes as binary envelopes ([`Encrypted`], KC-XAES-256-GCM),
//!   and `email_idx`, a 16-bit case-insensitive blind index, indexed.
//! - insert: multi-row `INSERT`s of 1,000 rows, one transaction each;
//! - select: every row streamed and every field read (so every envelope is opened);
//! - lookup: 1,000 lookups by email (encrypted: by index, then the candidates opened and
//!   compared).

use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use clap::Args;
use fieldcrypt::{IndexDefinition, Keyring, Normalizer, Suite};
use fieldcrypt_sqlx::{BlindIndex, Encrypted};
use futures_util::TryStreamExt;
use sqlx::{Pool, QueryBuilder, Row};

fieldcrypt_sqlx::column!(BenchName = "bench_fc_enc"."name");
fieldcrypt_sqlx::column!(BenchEmail = "bench_fc_enc"."email");
fieldcrypt_sqlx::column!(BenchNotes = "bench_fc_enc"."notes");

/// Options of `customers bench`.
#[derive(Args)]
pub(crate) struct BenchArgs {
    /// Rows per table.
    #[arg(long, default_value_t = 100_000)]
    rows: u32,
    /// Lookups by email.
    #[arg(long, default_value_t = 1_000)]
    lookups: u32,
    /// PostgreSQL to run on ("" to skip).
    #[arg(
        long,
        env = "FIELDCRYPT_BENCH_PG_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// SQLite file to run on (created; "" to skip).
    #[arg(long, default_value = "fieldcrypt-demo/bench.db")]
    sqlite_path: String,
    /// A Python with bench/requirements.txt installed: also run bench/django_bench.py.
    #[arg(long)]
    django_python: Option<String>,
    /// Also write every figure as JSON to this file (bench/report.py reads it).
    #[arg(long)]
    json_out: Option<std::path::PathBuf>,
}

impl Rates {
    fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "insert_rows_per_s": self.insert,
            "select_rows_per_s": self.select,
            "select_all_cores_rows_per_s": self.select_all_cores,
            "lookups_per_s": self.lookup,
        })
    }
}

const BATCH: usize = 1_000;

/// Rows per second of one table.
#[derive(Debug, Clone, Copy)]
struct Rates {
    insert: f64,
    select: f64,
    /// Encrypted: decoded on all cores; plaintext: the same as `select`.
    select_all_cores: f64,
    lookup: f64,
}

fn per_second(n: u32, elapsed: Duration) -> f64 {
    f64::from(n) / elapsed.as_secs_f64()
}

fn name(i: u32) -> String {
    format!("Customer {i:06}")
}
fn email(i: u32) -> String {
    format!("customer{i:06}@example.org")
}
fn notes(i: u32) -> String {
    format!("Customer number {i:06} asked about delivery options and prefers contact by email.")
}

/// Lookup targets spread over the table.
fn lookup_ids(rows: u32, lookups: u32) -> impl Iterator<Item = u32> {
    let step = (rows / lookups.max(1)).max(1);
    (0..lookups).map(move |k| (k * step + 7) % rows)
}

/// The benchmark for one database type: `$db` the sqlx database, `$blob`/`$text` its types.
macro_rules! backend {
    ($module:ident, $db:ty, $blob:literal, $text:literal, $bigint:literal, $placeholder:expr) => {
        mod $module {
            use super::*;

            type Db = $db;

            fn ph(n: usize) -> String {
                ($placeholder)(n)
            }

            async fn reset(pool: &Pool<Db>) -> Result<()> {
                for table in ["bench_fc_plain", "bench_fc_enc"] {
                    sqlx::query(&format!("DROP TABLE IF EXISTS {table}"))
                        .execute(pool)
                        .await?;
                }
                sqlx::query(concat!(
                    "CREATE TABLE bench_fc_plain (id ",
                    $bigint,
                    " PRIMARY KEY, name ",
                    $text,
                    ", email ",
                    $text,
                    ", notes ",
                    $text,
                    ")"
                ))
                .execute(pool)
                .await?;
                sqlx::query("CREATE INDEX bench_fc_plain_email ON bench_fc_plain (email)")
                    .execute(pool)
                    .await?;
                sqlx::query(concat!(
                    "CREATE TABLE bench_fc_enc (id ",
                    $bigint,
                    " PRIMARY KEY, name ",
                    $blob,
                    ", email ",
                    $blob,
                    ", notes ",
                    $blob,
                    ", email_idx ",
                    $bigint,
                    ")"
                ))
                .execute(pool)
                .await?;
                sqlx::query("CREATE INDEX bench_fc_enc_email_idx ON bench_fc_enc (email_idx)")
                    .execute(pool)
                    .await?;
                Ok(())
            }

            async fn insert_plain(pool: &Pool<Db>, rows: u32) -> Result<Duration> {
                let start = Instant::now();
                for chunk in (0..rows).collect::<Vec<_>>().chunks(BATCH) {
                    let mut tx = pool.begin().await?;
                    let mut q = QueryBuilder::<Db>::new(
                        "INSERT INTO bench_fc_plain (id, name, email, notes) ",
                    );
                    q.push_values(chunk, |mut b, &i| {
                        b.push_bind(i64::from(i))
                            .push_bind(name(i))
                            .push_bind(email(i))
                            .push_bind(notes(i));
                    });
                    q.build().execute(&mut *tx).await?;
                    tx.commit().await?;
                }
                Ok(start.elapsed())
            }

            async fn insert_encrypted(
                pool: &Pool<Db>,
                keyring: &Keyring,
                index: &BlindIndex,
                rows: u32,
            ) -> Result<Duration> {
                let start = Instant::now();
                for chunk in (0..rows).collect::<Vec<_>>().chunks(BATCH) {
                    let idx = chunk
                        .iter()
                        .map(|&i| index.value(keyring, &email(i)))
                        .collect::<Result<Vec<_>, _>>()?;
                    let mut tx = pool.begin().await?;
                    let mut q = QueryBuilder::<Db>::new(
                        "INSERT INTO bench_fc_enc (id, name, email, notes, email_idx) ",
                    );
                    // Binds are sealed as they are pushed: inside `bulk`, with nonces for the
                    // whole statement drawn in blocks rather than one CSPRNG call each.
                    fieldcrypt_sqlx::bulk(chunk.len() * 3, || {
                        q.push_values(chunk.iter().zip(idx), |mut b, (&i, ix)| {
                            b.push_bind(i64::from(i))
                                .push_bind(Encrypted::<_, BenchName>::new(name(i)))
                                .push_bind(Encrypted::<_, BenchEmail>::new(email(i)))
                                .push_bind(Encrypted::<_, BenchNotes>::new(notes(i)))
                                .push_bind(ix);
                        });
                    });
                    q.build().execute(&mut *tx).await?;
                    tx.commit().await?;
                }
                Ok(start.elapsed())
            }

            async fn select_plain(pool: &Pool<Db>, rows: u32) -> Result<Duration> {
                let start = Instant::now();
                let mut stream =
                    sqlx::query("SELECT id, name, email, notes FROM bench_fc_plain").fetch(pool);
                let (mut n, mut bytes) = (0u32, 0usize);
                while let Some(row) = stream.try_next().await? {
                    let name: String = row.try_get(1)?;
                    let email: String = row.try_get(2)?;
                    let notes: String = row.try_get(3)?;
                    bytes += name.len() + email.len() + notes.len();
                    n += 1;
                }
                check(n, bytes, rows)?;
                Ok(start.elapsed())
            }

            async fn select_encrypted(pool: &Pool<Db>, rows: u32) -> Result<Duration> {
                let start = Instant::now();
                let mut stream =
                    sqlx::query("SELECT id, name, email, notes FROM bench_fc_enc").fetch(pool);
                let (mut n, mut bytes) = (0u32, 0usize);
                while let Some(row) = stream.try_next().await? {
                    let name: Encrypted<String, BenchName> = row.try_get(1)?;
                    let email: Encrypted<String, BenchEmail> = row.try_get(2)?;
                    let notes: Encrypted<String, BenchNotes> = row.try_get(3)?;
                    bytes +=
                        name.plaintext().len() + email.plaintext().len() + notes.plaintext().len();
                    n += 1;
                }
                check(n, bytes, rows)?;
                Ok(start.elapsed())
            }

            /// The same rows, decoded 10,000 at a time on all cores while the next chunk is
            /// fetched (`fieldcrypt_sqlx::rows::chunks_with`).
            async fn select_encrypted_all_cores(pool: &Pool<Db>, rows: u32) -> Result<Duration> {
                let start = Instant::now();
                let stream =
                    sqlx::query("SELECT id, name, email, notes FROM bench_fc_enc").fetch(pool);
                let mut chunks = std::pin::pin!(fieldcrypt_sqlx::rows::chunks_with(
                    stream,
                    10_000,
                    |row: &<Db as sqlx::Database>::Row| {
                        let name: Encrypted<String, BenchName> = row.try_get(1)?;
                        let email: Encrypted<String, BenchEmail> = row.try_get(2)?;
                        let notes: Encrypted<String, BenchNotes> = row.try_get(3)?;
                        Ok(name.plaintext().len()
                            + email.plaintext().len()
                            + notes.plaintext().len())
                    }
                ));
                let (mut n, mut bytes) = (0u32, 0usize);
                while let Some(decoded) = chunks.try_next().await? {
                    bytes += decoded.iter().sum::<usize>();
                    n += decoded.len() as u32;
                }
                check(n, bytes, rows)?;
                Ok(start.elapsed())
            }

            async fn lookup_plain(pool: &Pool<Db>, rows: u32, lookups: u32) -> Result<Duration> {
                let sql = format!("SELECT id FROM bench_fc_plain WHERE email = {}", ph(1));
                let start = Instant::now();
                for i in lookup_ids(rows, lookups) {
                    let found: Vec<i64> = sqlx::query_scalar(&sql)
                        .bind(email(i))
                        .fetch_all(pool)
                        .await?;
                    if found != [i64::from(i)] {
                        bail!("plaintext lookup of row {i} found {found:?}");
                    }
                }
                Ok(start.elapsed())
            }

            async fn lookup_encrypted(
                pool: &Pool<Db>,
                keyring: &Keyring,
                index: &BlindIndex,
                rows: u32,
                lookups: u32,
            ) -> Result<Duration> {
                let start = Instant::now();
                for i in lookup_ids(rows, lookups) {
                    let wanted = email(i);
                    let lookup = index.lookup(keyring, &wanted)?;
                    let mut q =
                        QueryBuilder::<Db>::new("SELECT id, email FROM bench_fc_enc WHERE ");
                    lookup.push_match(&mut q, "email_idx");
                    let mut found = Vec::new();
                    for row in q.build().fetch_all(pool).await? {
                        let candidate: Encrypted<String, BenchEmail> = row.try_get(1)?;
                        if index.matches(&wanted, candidate.plaintext()) {
                            found.push(row.try_get::<i64, _>(0)?);
                        }
                    }
                    if found != [i64::from(i)] {
                        bail!("encrypted lookup of row {i} found {found:?}");
                    }
                }
                Ok(start.elapsed())
            }

            /// Runs the workload on `pool`; returns (plaintext, encrypted).
            pub(crate) async fn run(
                pool: &Pool<Db>,
                keyring: &Keyring,
                index: &BlindIndex,
                rows: u32,
                lookups: u32,
            ) -> Result<(Rates, Rates)> {
                reset(pool).await?;
                let plain_insert = insert_plain(pool, rows).await?;
                let enc_insert = insert_encrypted(pool, keyring, index, rows).await?;
                analyze(pool).await?;
                let plain_select = select_plain(pool, rows).await?;
                let enc_select = select_encrypted(pool, rows).await?;
                let enc_select_all_cores = select_encrypted_all_cores(pool, rows).await?;
                let plain_lookup = lookup_plain(pool, rows, lookups).await?;
                let enc_lookup = lookup_encrypted(pool, keyring, index, rows, lookups).await?;
                reset(pool).await?;
                Ok((
                    Rates {
                        insert: per_second(rows, plain_insert),
                        select: per_second(rows, plain_select),
                        select_all_cores: per_second(rows, plain_select),
                        lookup: per_second(lookups, plain_lookup),
                    },
                    Rates {
                        insert: per_second(rows, enc_insert),
                        select: per_second(rows, enc_select),
                        select_all_cores: per_second(rows, enc_select_all_cores),
                        lookup: per_second(lookups, enc_lookup),
                    },
                ))
            }

            /// Fresh statistics for both tables, untimed, as after any bulk load.
            async fn analyze(pool: &Pool<Db>) -> Result<()> {
                for table in ["bench_fc_plain", "bench_fc_enc"] {
                    sqlx::query(&format!("ANALYZE {table}"))
                        .execute(pool)
                        .await?;
                }
                Ok(())
            }
        }
    };
}

backend!(
    pg,
    sqlx::Postgres,
    "BYTEA",
    "TEXT",
    "BIGINT",
    |n: usize| format!("${n}")
);
backend!(
    lite,
    sqlx::Sqlite,
    "BLOB",
    "TEXT",
    "INTEGER",
    |_n: usize| "?".to_owned()
);

fn check(n: u32, bytes: usize, rows: u32) -> Result<()> {
    let expected: usize = (0..rows)
        .map(|i| name(i).len() + email(i).len() + notes(i).len())
        .sum();
    if n != rows || bytes != expected {
        bail!("read {n} rows / {bytes} bytes, expected {rows} / {expected}");
    }
    Ok(())
}

fn print_pair(db: &str, plain: Rates, enc: Rates) {
    // Time per row against plaintext's (issue 18's targets: insert <= 1.5x, select <= 2x).
    let ratio = |p: f64, e: f64| p / e;
    for (what, p, e, target) in [
        ("insert", plain.insert, enc.insert, Some(1.5)),
        ("select", plain.select, enc.select, None),
        ("select*", plain.select, enc.select_all_cores, Some(2.0)),
        ("lookup", plain.lookup, enc.lookup, None),
    ] {
        let target = match target {
            Some(t) if ratio(p, e) <= t => format!("<= {t}x  ok"),
            Some(t) => format!("<= {t}x  MISSED"),
            None => String::new(),
        };
        println!(
            "{db:<10} {what:<7} {p:>12.0} {e:>12.0} {:>9.2}x  {target}",
            ratio(p, e)
        );
    }
}

pub(crate) async fn run(args: &BenchArgs) -> Result<()> {
    let keyring = Keyring::generate(Suite::KcXaes256Gcm)?;
    let keyring = fieldcrypt_sqlx::install(keyring);
    let index = BlindIndex::new(
        IndexDefinition::new("bench_fc_enc", "email", "email_ci", 16).normalized([
            Normalizer::Nfkc,
            Normalizer::Trim,
            Normalizer::CaseFold,
        ]),
    )?;
    println!(
        "customers bench: {} rows, {} lookups; rows (or lookups) per second, one connection at a time\n(select*: the encrypted rows decoded 10,000 at a time on all cores, fieldcrypt_sqlx::rows)\n",
        args.rows, args.lookups
    );
    println!(
        "{:<10} {:<7} {:>12} {:>12} {:>10}  target",
        "database", "", "plaintext", "encrypted", "x plain"
    );
    let mut report = serde_json::json!({ "rows": args.rows, "lookups": args.lookups });
    let mut pg_plain = None;
    if !args.postgres_url.is_empty() {
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .connect(&args.postgres_url)
            .await
            .with_context(|| {
                format!(
                    "connecting to {}",
                    crate::store::redact_url(&args.postgres_url)
                )
            })?;
        let (plain, enc) = pg::run(&pool, &keyring, &index, args.rows, args.lookups).await?;
        print_pair("postgres", plain, enc);
        report["postgres"] =
            serde_json::json!({ "plaintext": plain.json(), "encrypted": enc.json() });
        pg_plain = Some((plain, enc));
    }
    if !args.sqlite_path.is_empty() {
        if let Some(dir) = std::path::Path::new(&args.sqlite_path).parent() {
            std::fs::create_dir_all(dir).ok();
        }
        let options = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(&args.sqlite_path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options)
            .await?;
        let (plain, enc) = lite::run(&pool, &keyring, &index, args.rows, args.lookups).await?;
        print_pair("sqlite", plain, enc);
        report["sqlite"] =
            serde_json::json!({ "plaintext": plain.json(), "encrypted": enc.json() });
    }
    if let Some(python) = &args.django_python {
        report["django"] = django(python, args.rows, pg_plain.map(|(_, enc)| enc))?;
    }
    if let Some(path) = &args.json_out {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// Runs `bench/django_bench.py` and sets its encrypted rates beside ours on PostgreSQL.
fn django(python: &str, rows: u32, ours: Option<Rates>) -> Result<serde_json::Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/django_bench.py");
    let out = std::process::Command::new(python)
        .args([script, "--json", "--rows", &rows.to_string()])
        .stderr(std::process::Stdio::inherit())
        .output()
        .with_context(|| format!("running {python} {script}"))?;
    if !out.status.success() {
        bail!("{script} failed ({})", out.status);
    }
    let json = String::from_utf8_lossy(&out.stdout);
    let field = |group: &str, key: &str| -> Option<f64> {
        // The script prints one flat JSON object; pick "group": {.. "key": number ..}.
        let start = json.find(&format!("\"{group}\""))?;
        let rest = &json[start..];
        let at = rest.find(&format!("\"{key}\""))? + key.len() + 3;
        rest[at..]
            .trim_start_matches([' ', ':'])
            .split([',', '}'])
            .next()?
            .trim()
            .parse()
            .ok()
    };
    println!(
        "\nDjango ORM + django-encrypted-model-fields (Fernet) on the same PostgreSQL, same workload:"
    );
    println!(
        "{:<7} {:>14} {:>14} {:>10}",
        "", "Django enc.", "fieldcrypt", "ratio"
    );
    for (what, key) in [
        ("insert", "insert_rows_per_s"),
        ("select", "select_rows_per_s"),
        ("lookup", "lookups_per_s"),
    ] {
        let theirs = field("encrypted", key).unwrap_or(f64::NAN);
        let mine = ours.map_or(f64::NAN, |r| match what {
            "insert" => r.insert,
            "select" => r.select,
            _ => r.lookup,
        });
        println!(
            "{what:<7} {theirs:>14.0} {mine:>14.0} {:>9.1}x",
            mine / theirs
        );
    }
    Ok(serde_json::from_str(&json).unwrap_or(serde_json::Value::Null))
}
