//! Values real Django libraries wrote (testdata/django/main_vectors.json; see its
//! PROVENANCE.md): every stored token of django-encrypted-model-fields, django-fernet-fields and
//! django-fernet-encrypted-fields decrypts with keys derived from the recorded settings, and the
//! text is what Django's ORM read back. (Turning that text into typed values the way each
//! library does, datetimes and JSON leaves included, is the next step of the reader.)
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldcrypt_compat::django::{
    encrypted_model_fields_keys, fernet_encrypted_fields_keys, fernet_fields_keys,
};
use fieldcrypt_compat::{FernetKey, MultiFernet};
use serde_json::Value;

fn vectors() -> Value {
    let path = format!(
        "{}/../../testdata/django/main_vectors.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<&str> {
    match v {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().map(|s| s.as_str().unwrap()).collect(),
        _ => Vec::new(),
    }
}

/// Compares decrypted text with what the ORM returned, by the library's own `str()` rules.
fn same(library: &str, column: &str, text: &str, orm: &Value) -> bool {
    match orm {
        Value::String(s) if column == "datetime" => {
            // The stored text is the backend's or the library's own rendering; same instant.
            text.replace(' ', "T").starts_with(&s[..19])
        }
        Value::String(s) => text == s,
        Value::Number(n) if n.is_i64() => text.parse::<i64>().ok() == n.as_i64(),
        Value::Number(n) => text.parse::<f64>().ok() == n.as_f64(),
        Value::Bool(b) => match library {
            "emf" => text == if *b { "1" } else { "0" },
            _ => text == if *b { "True" } else { "False" },
        },
        _ => false,
    }
}

#[test]
fn every_token_the_fernet_libraries_wrote_decrypts_to_what_django_read() {
    let v = vectors();
    let settings = &v["settings"];
    let secret = settings["SECRET_KEY"].as_str().unwrap();
    let mut secrets = vec![secret];
    secrets.extend(strings(&settings["SECRET_KEY_FALLBACKS"]));
    let emf = MultiFernet::new(
        encrypted_model_fields_keys(&strings(&settings["FIELD_ENCRYPTION_KEY"])).unwrap(),
    )
    .unwrap();
    let ff_keys = fernet_fields_keys(&[secret], true).unwrap();
    let fef_keys = fernet_encrypted_fields_keys(&secrets, &strings(&settings["SALT_KEY"]));
    assert_eq!(fef_keys.len(), 4);
    // The derived keys are the ones the generator recorded.
    let recorded = |k: &str| FernetKey::from_base64(k).unwrap();
    let probe = |key: &FernetKey| {
        fieldcrypt_compat::Fernet::new(key.clone()).encrypt_with(b"probe", [0; 16], 0)
    };
    assert_eq!(
        probe(&ff_keys[0]),
        probe(&recorded(
            v["derived_keys"]["django-fernet-fields"]["derived_fernet_key"]
                .as_str()
                .unwrap()
        ))
    );
    for (i, k) in v["derived_keys"]["django-fernet-encrypted-fields"]["library_keys"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(
            probe(&fef_keys[i]),
            probe(&recorded(k.as_str().unwrap())),
            "key {i}"
        );
    }
    let ff = MultiFernet::new(ff_keys).unwrap();
    let fef = MultiFernet::new(fef_keys).unwrap();

    let mut checked = 0;
    for (label, row) in v["raw"].as_object().unwrap() {
        let library = label.split('-').next().unwrap();
        let reader = match library {
            "emf" => &emf,
            "ff" => &ff,
            "fef" => &fef,
            _ => continue,
        };
        for (column, cell) in row["columns"].as_object().unwrap() {
            if column == "id" || column == "label" || column == "jsonv" {
                continue;
            }
            let stored = match (&cell["value"], &cell["as_ascii"]) {
                (_, Value::String(s)) => s.clone(),
                (Value::String(s), _) => s.clone(),
                _ => continue, // NULL
            };
            let plaintext = reader
                .decrypt(stored.as_bytes())
                .unwrap_or_else(|e| panic!("{label}.{column}: {e}"));
            let text = std::str::from_utf8(&plaintext).unwrap();
            let orm = &v["orm_readback"][label][column];
            assert!(same(library, column, text, orm), "{label}.{column}: {orm}");
            checked += 1;
        }
    }
    assert_eq!(
        checked, 33,
        "every non-NULL value of the three libraries' rows"
    );
    println!("vectors: django fernet-family values {checked}");
}

#[test]
fn cryptbase_values_decrypt_to_what_django_read() {
    use fieldcrypt_compat::cryptbase::{CryptbaseError, CryptbaseKey};
    let v = vectors();
    let key = CryptbaseKey::from_hex(v["settings"]["CRYPTBASE_KEY_HEX"].as_str().unwrap()).unwrap();
    let mut checked = 0;
    for label in ["cb-full", "cb-empty"] {
        let stored = v["raw"][label]["columns"]["text"]["value"]
            .as_str()
            .unwrap();
        let text = key.decrypt(stored).unwrap();
        assert_eq!(
            text.as_str(),
            v["orm_readback"][label]["text"].as_str().unwrap(),
            "{label}"
        );
        checked += 1;
    }
    assert_eq!(checked, 2);
    // Layout errors are typed; there is no authentication to fail, so another key yields bytes
    // that are (almost always) not UTF-8 or simply other text.
    assert_eq!(
        key.decrypt("no separator").unwrap_err(),
        CryptbaseError::Malformed
    );
    assert_eq!(
        key.decrypt("AAAA@AAAA").unwrap_err(),
        CryptbaseError::Malformed
    );
    assert_eq!(
        CryptbaseKey::from_hex("abc").unwrap_err(),
        CryptbaseError::InvalidKey
    );
    assert_eq!(
        CryptbaseKey::from_hex(&"zz".repeat(32)).unwrap_err(),
        CryptbaseError::InvalidKey
    );
    let spaced = v["settings"]["CRYPTBASE_KEY_HEX"]
        .as_str()
        .unwrap()
        .chars()
        .enumerate()
        .flat_map(|(i, c)| if i % 8 == 7 { vec![c, ' '] } else { vec![c] })
        .collect::<String>();
    let stored = v["raw"]["cb-full"]["columns"]["text"]["value"]
        .as_str()
        .unwrap();
    assert_eq!(
        CryptbaseKey::from_hex(&spaced)
            .unwrap()
            .decrypt(stored)
            .unwrap()
            .as_str(),
        "Hello, wörld ✓ 日本語"
    );
    println!("vectors: cryptbase values {checked}");
}
