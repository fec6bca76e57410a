//! `fieldcrypt import django` on rows real Django libraries wrote: every value of the six
//! libraries is re-sealed in place and opens to the typed value Django's ORM read back; a
//! tampered value is listed and left as it was; a plaintext row is taken only when asked.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldcrypt::{Context, Value};
use fieldcrypt_kms::LocalKeyring;
use serde_json::Value as J;
use sqlx::Row as _;

mod common;
use common::{fieldcrypt, text, verification_line};

#[path = "../../fieldcrypt-compat/tests/typed/mod.rs"]
mod typed;
use typed::{kind_of, same_value};

fn load(name: &str) -> J {
    let path = format!(
        "{}/../../testdata/django/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A stored cell: text, or bytes (hex in the fixture).
enum Cell {
    Text(String),
    Bytes(Vec<u8>),
}

fn cell_of(cell: &J) -> Option<Cell> {
    match (&cell["value"], &cell["hex"]) {
        (_, J::String(h)) => Some(Cell::Bytes(hex::decode(h).unwrap())),
        (J::String(s), _) => Some(Cell::Text(s.clone())),
        _ => None,
    }
}

struct Imported {
    table: String,
    column: String,
    label: String,
    kind: fieldcrypt_compat::FieldKind,
    expected: J,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn every_value_of_the_six_libraries_imports_and_opens_as_django_read_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = fieldcrypt(dir.path(), &["keyring", "init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("django.db").display()
    );
    let rt = runtime();
    let pool = rt.block_on(sqlx::SqlitePool::connect(&url)).unwrap();

    let main = load("main_vectors.json");
    let legacy = load("legacy_vectors.json");
    let search = load("searchable_vectors.json");
    // Settings for every flavor in one file, as Django names them.
    let mut settings = serde_json::Map::new();
    for (k, v) in main["settings"].as_object().unwrap() {
        let name = if k == "CRYPTBASE_KEY_HEX" {
            "CRYPTBASE_KEY"
        } else {
            k
        };
        if fieldcrypt_compat::reader::SETTING_NAMES.contains(&name) && !v.is_null() {
            settings.insert(name.to_owned(), v.clone());
        }
    }
    settings.insert(
        "FIELD_ENCRYPTION_KEYS".to_owned(),
        search["settings"]["FIELD_ENCRYPTION_KEYS"].clone(),
    );
    // django-cryptography's rows were written with the same SECRET_KEY.
    assert_eq!(
        legacy["settings"]["SECRET_KEY"],
        main["settings"]["SECRET_KEY"]
    );
    let settings_file = dir.path().join("django-settings.json");
    std::fs::write(&settings_file, J::Object(settings).to_string()).unwrap();

    // One table per library, holding the stored values as the library left them.
    let sources: [(&J, &str, &str); 6] = [
        (&main, "emf", "encrypted-model-fields"),
        (&main, "ff", "fernet-fields"),
        (&main, "fef", "fernet-encrypted-fields"),
        (&main, "cb", "cryptbase"),
        (&legacy, "dc", "cryptography"),
        (&search, "sr", "searchable"),
    ];
    let mut imported = Vec::new();
    for (vectors, prefix, flavor) in sources {
        let table = format!("dj_{prefix}");
        let rows: Vec<(&String, &J)> = vectors["raw"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(label, _)| label.starts_with(&format!("{prefix}-")))
            .collect();
        let mut columns: Vec<(String, &'static str)> = Vec::new();
        for (_, row) in &rows {
            for (column, cell) in row["columns"].as_object().unwrap() {
                if kind_of(column).is_some() && !columns.iter().any(|(c, _)| c == column) {
                    let sql_type = if cell["sqlite_type"] == "blob" {
                        "BLOB"
                    } else {
                        "TEXT"
                    };
                    columns.push((column.clone(), sql_type));
                }
            }
        }
        // Blob columns whose first row is NULL: the library's column type decides.
        for (column, sql_type) in &mut columns {
            if rows
                .iter()
                .any(|(_, r)| r["columns"][column.as_str()]["sqlite_type"] == "blob")
            {
                *sql_type = "BLOB";
            }
        }
        let ddl = format!(
            "CREATE TABLE {table} (id INTEGER PRIMARY KEY, label TEXT, {})",
            columns
                .iter()
                .map(|(c, t)| format!("\"{c}\" {t}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        rt.block_on(sqlx::query(&ddl).execute(&pool)).unwrap();
        for (label, row) in &rows {
            let id = row["columns"]["id"]["value"].as_i64().unwrap();
            rt.block_on(
                sqlx::query(&format!("INSERT INTO {table} (id, label) VALUES (?, ?)"))
                    .bind(id)
                    .bind(label.as_str())
                    .execute(&pool),
            )
            .unwrap();
            for (column, _) in &columns {
                let update = format!("UPDATE {table} SET \"{column}\" = ? WHERE id = ?");
                let query = match cell_of(&row["columns"][column.as_str()]) {
                    Some(Cell::Text(s)) => sqlx::query(&update).bind(s),
                    Some(Cell::Bytes(b)) => sqlx::query(&update).bind(b),
                    None => continue,
                };
                rt.block_on(query.bind(id).execute(&pool)).unwrap();
                let kind = kind_of(column).unwrap();
                let expected = match prefix {
                    // The library's own plaintext, typed as the field reads it.
                    "sr" => {
                        let plain = search["expected_plaintext"][label.as_str()][column.as_str()]
                            .as_str()
                            .unwrap();
                        match kind {
                            fieldcrypt_compat::FieldKind::Integer => {
                                J::from(plain.parse::<i64>().unwrap())
                            }
                            _ => J::String(plain.to_owned()),
                        }
                    }
                    _ => vectors["orm_readback"][label.as_str()][column.as_str()].clone(),
                };
                imported.push(Imported {
                    table: table.clone(),
                    column: column.clone(),
                    label: (*label).clone(),
                    kind,
                    expected,
                });
            }
        }
        for (column, _) in &columns {
            let kind = kind_of(column).unwrap();
            let out = fieldcrypt(
                dir.path(),
                &[
                    "import",
                    "django",
                    "--flavor",
                    flavor,
                    "--kind",
                    kind.name(),
                    "--settings",
                    settings_file.to_str().unwrap(),
                    "--database-url",
                    &url,
                    "--table",
                    &table,
                    "--column",
                    column,
                ],
            );
            assert!(
                out.status.success(),
                "{flavor} {column}: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            assert!(
                text(&out.stdout).contains(" 0 left to do, 0 do not open"),
                "{}",
                text(&out.stdout)
            );
        }
    }

    // Every value opens, bound to its table and column, as what Django read.
    let keyring = LocalKeyring::open(
        dir.path().join("keyring.json"),
        Some(&dir.path().join("secret/master.key")),
    )
    .unwrap();
    for value in &imported {
        let row = rt
            .block_on(
                sqlx::query(&format!(
                    "SELECT \"{}\" FROM {} WHERE label = ?",
                    value.column, value.table
                ))
                .bind(&value.label)
                .fetch_one(&pool),
            )
            .unwrap();
        let stored: Vec<u8> = row
            .try_get::<Vec<u8>, _>(0)
            .or_else(|_| row.try_get::<String, _>(0).map(String::into_bytes))
            .unwrap();
        let context = Context::new(value.table.clone(), value.column.clone()).unwrap();
        let opened: Value = keyring
            .keyring()
            .open(&context, &stored)
            .unwrap_or_else(|e| panic!("{}.{} {}: {e}", value.table, value.column, value.label));
        assert!(
            same_value(value.kind, &opened, &value.expected),
            "{}.{} {}: {opened:?} vs {}",
            value.table,
            value.column,
            value.label,
            value.expected
        );
    }
    assert_eq!(
        imported.len(),
        37 + 12 + 8,
        "every non-NULL value of the six libraries"
    );
    println!(
        "vectors: django values imported by the CLI and opened {}",
        imported.len()
    );

    // A tampered token is listed by primary key, left byte for byte, and the job exits 9; a
    // value that is not a token is refused unless --accept-plaintext says it is plaintext.
    let tampered = main["raw"]["emf-full"]["columns"]["char"]["value"]
        .as_str()
        .unwrap()
        .replacen("gAAAAA", "gAAAAB", 1);
    rt.block_on(
        sqlx::query("CREATE TABLE dj_bad (id INTEGER PRIMARY KEY, secret TEXT)").execute(&pool),
    )
    .unwrap();
    rt.block_on(
        sqlx::query("INSERT INTO dj_bad VALUES (1, ?), (2, 'written before encryption'), (3, ?)")
            .bind(&tampered)
            .bind(
                main["raw"]["emf-oldkey"]["columns"]["char"]["value"]
                    .as_str()
                    .unwrap(),
            )
            .execute(&pool),
    )
    .unwrap();
    let import_bad = |extra: &[&str]| {
        let mut args = vec![
            "import",
            "django",
            "--flavor",
            "encrypted-model-fields",
            "--settings",
            settings_file.to_str().unwrap(),
            "--database-url",
            &url,
            "--table",
            "dj_bad",
            "--column",
            "secret",
        ];
        args.extend_from_slice(extra);
        fieldcrypt(dir.path(), &args)
    };
    let out = import_bad(&[]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 rows could not be transformed and were left as they are")
            && text(&out.stdout).contains(": 1, 2"),
        "{}",
        text(&out.stdout)
    );
    let out = import_bad(&["--accept-plaintext"]);
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("left as they are"),
        "{}",
        text(&out.stdout)
    );
    let rows: Vec<(i64, String)> = rt
        .block_on(sqlx::query_as("SELECT id, secret FROM dj_bad ORDER BY id").fetch_all(&pool))
        .unwrap();
    assert_eq!(rows[0].1, tampered, "a tampered value is left as it was");
    let context = Context::new("dj_bad", "secret").unwrap();
    let plain: String = keyring.keyring().open_text(&context, &rows[1].1).unwrap();
    assert_eq!(plain, "written before encryption");
    let old: String = keyring.keyring().open_text(&context, &rows[2].1).unwrap();
    assert_eq!(old, "written with OLD key");
    // No secret reached the output.
    assert!(!text(&out.stdout).contains("written before"));
    assert!(!text(&out.stderr).contains(main["settings"]["SECRET_KEY"].as_str().unwrap()));

    // Into another column, the row that does not read keeps a NULL target, and the
    // verification counts it as left (it cannot read a value that is not there).
    rt.block_on(
        sqlx::query(
            "CREATE TABLE dj_bad_into (id INTEGER PRIMARY KEY, secret TEXT, secret_fc TEXT)",
        )
        .execute(&pool),
    )
    .unwrap();
    rt.block_on(
        sqlx::query("INSERT INTO dj_bad_into (id, secret) VALUES (1, ?), (2, ?)")
            .bind(&tampered)
            .bind(
                main["raw"]["emf-oldkey"]["columns"]["char"]["value"]
                    .as_str()
                    .unwrap(),
            )
            .execute(&pool),
    )
    .unwrap();
    let out = fieldcrypt(
        dir.path(),
        &[
            "import",
            "django",
            "--flavor",
            "encrypted-model-fields",
            "--settings",
            settings_file.to_str().unwrap(),
            "--database-url",
            &url,
            "--table",
            "dj_bad_into",
            "--column",
            "secret",
            "--into",
            "secret_fc",
        ],
    );
    assert_eq!(out.status.code(), Some(9), "{}", text(&out.stderr));
    assert!(
        verification_line(&text(&out.stdout))
            .contains("2 values read back: 1 good, 1 left to do, 0 do not open"),
        "{}",
        text(&out.stdout)
    );

    // Settings problems are clear errors.
    let out = fieldcrypt(
        dir.path(),
        &[
            "import",
            "django",
            "--flavor",
            "cryptography",
            "--database-url",
            &url,
            "--table",
            "dj_dc",
            "--column",
            "char",
        ],
    );
    assert_eq!(out.status.code(), Some(8));
    assert!(
        text(&out.stderr).contains("needs SECRET_KEY"),
        "{}",
        text(&out.stderr)
    );
    let out = fieldcrypt(
        dir.path(),
        &[
            "import",
            "django",
            "--flavor",
            "nope",
            "--database-url",
            &url,
            "--table",
            "dj_dc",
            "--column",
            "char",
        ],
    );
    assert!(
        text(&out.stderr).contains("expected one of encrypted-model-fields"),
        "{}",
        text(&out.stderr)
    );
}
