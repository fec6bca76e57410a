//! The project's own Django fixtures (tools/django_fixtures): for each of the six libraries,
//! Django and the library write rows with fresh random keys and awkward values into SQLite and
//! PostgreSQL; `fieldcrypt import django` re-seals every encrypted column; every value then
//! opens to exactly what Django's ORM read back. Also: Django's own `check_password` accepts
//! the Argon2id hashes fieldcrypt-compat makes.
//!
//! The venvs come from `scripts/django-env.sh` (scripts/test.sh builds them and exports
//! FIELDCRYPT_TEST_DJANGO_{MAIN,SEARCH,LEGACY}). Without them the tests say so loudly and skip;
//! with CI=true they fail.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Command;

use fieldcrypt::{Context, Value};
use fieldcrypt_compat::FieldKind;
use fieldcrypt_kms::LocalKeyring;
use serde_json::Value as J;
use sqlx::Row as _;

mod common;
use common::{fieldcrypt, text};

#[path = "../../fieldcrypt-compat/tests/typed/mod.rs"]
mod typed;
use typed::same_value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The venv python for `venv` (main, search, legacy), or a loud skip (a failure under CI).
fn python(venv: &str, test: &str) -> Option<PathBuf> {
    let var = format!("FIELDCRYPT_TEST_DJANGO_{}", venv.to_uppercase());
    if let Ok(path) = std::env::var(&var) {
        return Some(PathBuf::from(path));
    }
    let local = repo().join(format!(".venv-django-{venv}/bin/python"));
    if local.exists() {
        return Some(local);
    }
    let message = format!(
        "{test}: SKIPPED, MISSING: {var} (a venv from `bash scripts/django-env.sh {venv}`)"
    );
    assert!(std::env::var("CI").as_deref() != Ok("true"), "{message}");
    eprintln!("{message}");
    None
}

fn postgres_url() -> String {
    std::env::var("FIELDCRYPT_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database the test reads from: SQLite or PostgreSQL.
enum Db {
    Sqlite(sqlx::SqlitePool),
    Postgres(sqlx::PgPool),
}

impl Db {
    async fn exec(&self, sql: &str) {
        match self {
            Db::Sqlite(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
            Db::Postgres(p) => sqlx::raw_sql(sql).execute(p).await.map(|_| ()),
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The stored cell as bytes (text as its UTF-8), or None for NULL.
    async fn cell(&self, table: &str, column: &str, id: i64) -> Option<Vec<u8>> {
        let sql = format!("SELECT \"{column}\" FROM {table} WHERE id = {id}");
        macro_rules! get {
            ($pool:expr) => {{
                let row = sqlx::query(&sql).fetch_one($pool).await.unwrap();
                row.try_get::<Option<Vec<u8>>, _>(0)
                    .or_else(|_| {
                        row.try_get::<Option<String>, _>(0)
                            .map(|s| s.map(String::into_bytes))
                    })
                    .unwrap()
            }};
        }
        match self {
            Db::Sqlite(p) => get!(p),
            Db::Postgres(p) => get!(p),
        }
    }
}

fn flavor_of(library: &str) -> &'static str {
    match library {
        "emf" => "encrypted-model-fields",
        "ff" => "fernet-fields",
        "fef" => "fernet-encrypted-fields",
        "cryptography" => "cryptography",
        "cryptbase" => "cryptbase",
        "searchable" => "searchable",
        other => panic!("unknown library {other}"),
    }
}

/// Generates `library`'s fixture on both backends, imports every column, checks every value.
fn import_and_compare(library: &str, venv: &str) {
    let test = format!("django fixture {library}");
    let Some(python) = python(venv, &test) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = fieldcrypt(dir.path(), &["keyring", "init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let keyring = LocalKeyring::open(
        dir.path().join("keyring.json"),
        Some(&dir.path().join("secret/master.key")),
    )
    .unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let table = format!("fxt_{library}");
    let sqlite_file = dir.path().join("django.db");
    for backend in ["sqlite", "postgresql"] {
        let url = match backend {
            "sqlite" => format!("sqlite:///{}", sqlite_file.display()),
            _ => postgres_url(),
        };
        let manifest_path = dir.path().join(format!("{backend}.json"));
        let out = Command::new(&python)
            .arg(repo().join("tools/django_fixtures/generate.py"))
            .args([
                "--library",
                library,
                "--database-url",
                &url,
                "--table",
                &table,
            ])
            .args(["--rows-extra", "40", "--out"])
            .arg(&manifest_path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "generate {library} {backend}: {}",
            text(&out.stderr)
        );
        let manifest: J =
            serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
        assert_eq!(manifest["backend"], backend);

        // The library's settings, by their Django names, in a file (never in arguments).
        let mut settings = serde_json::Map::new();
        for (name, value) in manifest["settings"].as_object().unwrap() {
            let name = if name == "CRYPTBASE_KEY_HEX" {
                "CRYPTBASE_KEY"
            } else {
                name
            };
            if fieldcrypt_compat::reader::SETTING_NAMES.contains(&name) && !value.is_null() {
                settings.insert(name.to_owned(), value.clone());
            }
        }
        let settings_file = dir.path().join("settings.json");
        std::fs::write(&settings_file, J::Object(settings).to_string()).unwrap();

        let fieldcrypt_url = match backend {
            "sqlite" => format!("sqlite://{}", sqlite_file.display()),
            _ => postgres_url(),
        };
        let db = rt.block_on(async {
            match backend {
                "sqlite" => Db::Sqlite(sqlx::SqlitePool::connect(&fieldcrypt_url).await.unwrap()),
                _ => Db::Postgres(sqlx::PgPool::connect(&fieldcrypt_url).await.unwrap()),
            }
        });
        let rows = manifest["rows"].as_array().unwrap();
        let (mut checked, mut expected_values) = (0, 0);
        for (column, spec) in manifest["columns"].as_object().unwrap() {
            let Some(kind) = spec["kind"].as_str().and_then(FieldKind::parse) else {
                continue; // a search column: not encrypted
            };
            // A JSON column validates its content (SQLite's CHECK, PostgreSQL's jsonb), so the
            // envelopes go --into a text column; the job reads the jsonb column as its text.
            let into = (spec["storage"] == "json").then(|| format!("{column}_fc"));
            if let Some(into) = &into {
                rt.block_on(db.exec(&format!("ALTER TABLE {table} ADD COLUMN \"{into}\" text")));
            }
            let mut args = vec![
                "import",
                "django",
                "--flavor",
                flavor_of(library),
                "--kind",
                kind.name(),
                "--settings",
                settings_file.to_str().unwrap(),
                "--database-url",
                &fieldcrypt_url,
                "--table",
                &table,
                "--column",
                column,
                "--batch",
                "7",
            ];
            if let Some(into) = &into {
                args.extend(["--into", into]);
            }
            let out = fieldcrypt(dir.path(), &args);
            assert!(
                out.status.success(),
                "{library}/{backend} {column}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            let target = into.clone().unwrap_or_else(|| column.clone());
            let context = Context::new(table.clone(), target.clone()).unwrap();
            for row in rows {
                let id = row["id"].as_i64().unwrap();
                let expected = &row["values"][column.as_str()];
                expected_values += usize::from(!expected.is_null());
                let stored = rt.block_on(db.cell(&table, &target, id));
                let Some(stored) = stored else {
                    assert!(
                        expected.is_null(),
                        "{library}/{backend} {column} row {id}: NULL stored"
                    );
                    continue;
                };
                let opened: Value = keyring
                    .keyring()
                    .open(&context, &stored)
                    .unwrap_or_else(|e| panic!("{library}/{backend} {column} row {id}: {e}"));
                assert!(
                    same_value(kind, &opened, expected),
                    "{library}/{backend} {column} row {id} ({}): {opened:?} vs {expected}",
                    row["label"]
                );
                checked += 1;
            }
        }
        assert_eq!(checked, expected_values, "{library}/{backend}");
        assert!(checked > 0, "{library}/{backend}");
        println!(
            "vectors: django fixture {library} on {backend}: {checked} values imported and compared"
        );
        if backend == "postgresql" {
            rt.block_on(db.exec(&format!("DROP TABLE IF EXISTS {table}")));
        }
    }
}

#[test]
fn encrypted_model_fields_fixture() {
    import_and_compare("emf", "main");
}

#[test]
fn fernet_fields_fixture() {
    import_and_compare("ff", "main");
}

#[test]
fn fernet_encrypted_fields_fixture() {
    import_and_compare("fef", "main");
}

#[test]
fn cryptbase_fixture() {
    import_and_compare("cryptbase", "main");
}

#[test]
fn searchable_fixture() {
    import_and_compare("searchable", "search");
}

#[test]
fn django_cryptography_fixture() {
    import_and_compare("cryptography", "legacy");
}

#[test]
fn django_accepts_our_argon2id_hashes_and_we_accept_its() {
    let Some(python) = python("main", "django password hashes") else {
        return;
    };
    let password = "pässwörd ✓ with spaces and $ signs";
    let ours = fieldcrypt_compat::password::hash_argon2id(password).unwrap();
    let script = r#"
import sys, django
from django.conf import settings
settings.configure(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
])
django.setup()
from django.contrib.auth.hashers import check_password, make_password, identify_hasher
password, ours = sys.argv[1], sys.argv[2]
assert check_password(password, ours), "Django rejects fieldcrypt's hash"
assert not check_password(password + "x", ours)
assert not identify_hasher(ours).must_update(ours), "Django would rehash it"
print(make_password(password))
print(make_password(password, hasher="pbkdf2_sha256"))
print(make_password(password, hasher="pbkdf2_sha1"))
"#;
    let out = Command::new(&python)
        .args(["-c", script, password, &ours])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let django_hashes = text(&out.stdout);
    let hashes: Vec<&str> = django_hashes.lines().collect();
    assert_eq!(hashes.len(), 3);
    assert!(hashes[0].starts_with("argon2$argon2id$v=19$m=102400,t=2,p=8$"));
    for hash in hashes {
        assert!(
            fieldcrypt_compat::password::verify(password, hash).unwrap(),
            "{hash}"
        );
        assert!(
            !fieldcrypt_compat::password::verify("wrong", hash).unwrap(),
            "{hash}"
        );
    }
    println!(
        "vectors: django password hashes made by Django and checked by us 3, ours accepted by Django 1"
    );
}
