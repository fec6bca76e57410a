//! Values real Django libraries wrote (testdata/django/main_vectors.json; see its
//! PROVENANCE.md): every stored token of django-encrypted-model-fields, django-fernet-fields and
//! django-fernet-encrypted-fields decrypts with keys derived from the recorded settings, and the
//! text is what Django's ORM read back; and through `LegacyReader`, every value of all six
//! libraries (legacy_vectors.json: django-cryptography; searchable_vectors.json:
//! django-searchable-encrypted-fields) reads back as the typed value the ORM returned.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldcrypt::Value as Value_;
use fieldcrypt_compat::django::{
    encrypted_model_fields_keys, fernet_encrypted_fields_keys, fernet_fields_keys,
};
use fieldcrypt_compat::django_cryptography::{CryptographyError, CryptographyKeys};
use fieldcrypt_compat::searchable::{SearchableError, search_hash};
use fieldcrypt_compat::{
    CompatError, DjangoSettings, FernetKey, FieldKind, Flavor, LegacyReader, MultiFernet,
    ReadOptions, TokenError,
};
use serde_json::Value;
use zeroize::Zeroizing;

mod typed;
use typed::{kind_of, same_value};

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
            assert!(std::str::from_utf8(&plaintext).is_ok(), "{label}.{column}");
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

fn load(name: &str) -> Value {
    let path = format!(
        "{}/../../testdata/django/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn stored_bytes(cell: &Value) -> Option<Vec<u8>> {
    match (&cell["value"], &cell["hex"]) {
        (_, Value::String(h)) => Some(hex::decode(h).unwrap()),
        (Value::String(s), _) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

fn settings_of(v: &Value) -> DjangoSettings {
    let s = &v["settings"];
    let list = |name: &str| {
        strings(&s[name])
            .into_iter()
            .map(|x| Zeroizing::new(x.to_owned()))
            .collect()
    };
    DjangoSettings {
        secret_key: s["SECRET_KEY"]
            .as_str()
            .map(|x| Zeroizing::new(x.to_owned())),
        secret_key_fallbacks: list("SECRET_KEY_FALLBACKS"),
        field_encryption_key: list("FIELD_ENCRYPTION_KEY"),
        salt_key: list("SALT_KEY"),
        cryptography_key: s["CRYPTOGRAPHY_KEY"]
            .as_str()
            .map(|x| Zeroizing::new(x.to_owned())),
        cryptography_salt: s["CRYPTOGRAPHY_SALT"].as_str().map(str::to_owned),
        cryptbase_key: s["CRYPTBASE_KEY_HEX"]
            .as_str()
            .map(|x| Zeroizing::new(x.to_owned())),
        field_encryption_keys: list("FIELD_ENCRYPTION_KEYS"),
        ..DjangoSettings::default()
    }
}

/// Reads every non-NULL encrypted value of `rows` with the flavor's reader for its column's
/// kind and compares it with the typed value Django's ORM returned. Returns the count.
fn check_typed(
    v: &Value,
    flavor_of: impl Fn(&str) -> Option<Flavor>,
    expected: impl Fn(&str, &str) -> Value,
) -> usize {
    let settings = settings_of(v);
    let mut checked = 0;
    for (label, row) in v["raw"].as_object().unwrap() {
        let Some(flavor) = flavor_of(label) else {
            continue;
        };
        for (column, cell) in row["columns"].as_object().unwrap() {
            let Some(kind) = kind_of(column) else {
                continue;
            };
            let Some(stored) = stored_bytes(cell) else {
                continue;
            };
            let reader =
                LegacyReader::new(flavor, kind, &settings, ReadOptions::default()).unwrap();
            let value = reader
                .read(&stored)
                .unwrap_or_else(|e| panic!("{label}.{column}: {e}"));
            let orm = expected(label, column);
            assert!(
                same_value(kind, &value, &orm),
                "{label}.{column}: {value:?} vs {orm}"
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn every_value_of_the_fernet_libraries_and_cryptbase_reads_as_django_typed_it() {
    let v = vectors();
    let checked = check_typed(
        &v,
        |label| match label.split('-').next() {
            Some("emf") => Some(Flavor::EncryptedModelFields),
            Some("fef") => Some(Flavor::FernetEncryptedFields),
            Some("cb") => Some(Flavor::Cryptbase),
            _ => None,
        },
        |label, column| v["orm_readback"][label][column].clone(),
    );
    // fernet-fields keeps FERNET_KEYS apart from SECRET_KEY; here the default (SECRET_KEY).
    let ff = LegacyReader::new(
        Flavor::FernetFields,
        FieldKind::DateTime,
        &settings_of(&v),
        ReadOptions::default(),
    )
    .unwrap();
    let stored = stored_bytes(&v["raw"]["ff-full"]["columns"]["datetime"]).unwrap();
    assert!(same_value(
        FieldKind::DateTime,
        &ff.read(&stored).unwrap(),
        &v["orm_readback"]["ff-full"]["datetime"]
    ));
    let mut ff_checked = 0;
    for (label, row) in v["raw"].as_object().unwrap() {
        if !label.starts_with("ff-") {
            continue;
        }
        for (column, cell) in row["columns"].as_object().unwrap() {
            let (Some(kind), Some(stored)) = (kind_of(column), stored_bytes(cell)) else {
                continue;
            };
            let reader = LegacyReader::new(
                Flavor::FernetFields,
                kind,
                &settings_of(&v),
                ReadOptions::default(),
            )
            .unwrap();
            let value = reader.read(&stored).unwrap();
            assert!(
                same_value(kind, &value, &v["orm_readback"][label][column]),
                "{label}.{column}"
            );
            ff_checked += 1;
        }
    }
    // 35 Fernet-family values (the 2 JSON documents included) and 2 cryptbase values.
    assert_eq!(checked + ff_checked, 37);
    println!(
        "vectors: django typed reads (emf, ff, fef, cryptbase) {}",
        checked + ff_checked
    );
}

#[test]
fn every_django_cryptography_value_reads_as_django_typed_it() {
    let v = load("legacy_vectors.json");
    // The derived AES key is the one the generator recorded.
    let checked = check_typed(
        &v,
        |label| label.starts_with("dc-").then_some(Flavor::Cryptography),
        |label, column| v["orm_readback"][label][column].clone(),
    );
    assert_eq!(checked, 12, "every non-NULL value of both rows");
    // A value under another SECRET_KEY fails on its signature; a changed salt on its padding.
    let stored = stored_bytes(&v["raw"]["dc-full"]["columns"]["char"]).unwrap();
    let mut other = settings_of(&v);
    other.secret_key = Some(Zeroizing::new("another secret".to_owned()));
    let reader = LegacyReader::new(
        Flavor::Cryptography,
        FieldKind::Text,
        &other,
        ReadOptions::default(),
    )
    .unwrap();
    assert!(matches!(
        reader.read(&stored),
        Err(CompatError::Cryptography(CryptographyError::BadSignature))
    ));
    let mut other = settings_of(&v);
    other.cryptography_salt = Some("another salt".to_owned());
    let reader = LegacyReader::new(
        Flavor::Cryptography,
        FieldKind::Text,
        &other,
        ReadOptions::default(),
    )
    .unwrap();
    assert!(reader.read(&stored).is_err());
    // The wrong kind is a typed error, not a wrong value.
    let reader = LegacyReader::new(
        Flavor::Cryptography,
        FieldKind::Integer,
        &settings_of(&v),
        ReadOptions::default(),
    )
    .unwrap();
    assert!(matches!(reader.read(&stored), Err(CompatError::Value(_))));
    // The pickles are what the recorded disassembly says, byte for byte.
    let keys = CryptographyKeys::from_settings(
        v["settings"]["SECRET_KEY"].as_str().unwrap(),
        None,
        "django-cryptography",
    );
    let mut pickles = 0;
    for row in v["raw"].as_object().unwrap().values() {
        for cell in row["columns"].as_object().unwrap().values() {
            if let (Some(stored), Some(pickle)) =
                (stored_bytes(cell), cell["plaintext_pickle_hex"].as_str())
            {
                assert_eq!(hex::encode(&*keys.decrypt_pickle(&stored).unwrap()), pickle);
                pickles += 1;
            }
        }
    }
    assert_eq!(pickles, 12);
    println!("vectors: django-cryptography typed reads {checked}");
}

#[test]
fn every_searchable_value_reads_and_its_search_hash_matches() {
    let v = load("searchable_vectors.json");
    let expected = &v["expected_plaintext"];
    let settings = settings_of(&v);
    let mut checked = 0;
    for (label, row) in v["raw"].as_object().unwrap() {
        for (column, cell) in row["columns"].as_object().unwrap() {
            let Some(kind) = kind_of(column) else {
                continue;
            };
            let Some(stored) = stored_bytes(cell).filter(|_| cell["hex"].is_string()) else {
                continue;
            };
            // The text is exactly what the library encrypted...
            let text_reader = LegacyReader::new(
                Flavor::Searchable,
                FieldKind::Text,
                &settings,
                ReadOptions::default(),
            )
            .unwrap();
            let Ok(Value_::String(text)) = text_reader.read(&stored) else {
                panic!("{label}.{column}")
            };
            assert_eq!(
                text,
                expected[label][column].as_str().unwrap(),
                "{label}.{column}"
            );
            // ...and reads as its kind.
            let reader =
                LegacyReader::new(Flavor::Searchable, kind, &settings, ReadOptions::default())
                    .unwrap();
            let typed = reader.read(&stored).unwrap();
            let orm = match kind {
                FieldKind::Integer => Value::from(text.parse::<i64>().unwrap()),
                _ => Value::String(text.clone()),
            };
            assert!(same_value(kind, &typed, &orm), "{label}.{column}");
            checked += 1;
        }
        for (search, hash_key) in v["settings"]["HASH_KEYS"].as_object().unwrap() {
            let stored = row["columns"][search]["value"].as_str().unwrap();
            let text = expected[label][search].as_str().unwrap();
            assert_eq!(
                search_hash(text, hash_key.as_str().unwrap()),
                stored,
                "{label}.{search}"
            );
            assert_ne!(
                search_hash(&text.to_uppercase(), hash_key.as_str().unwrap()),
                stored.to_owned() + "x"
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 12);
    // Flipping one bit of the ciphertext fails authentication, under either key.
    let mut stored = stored_bytes(&v["raw"]["sr-full"]["columns"]["text"]).unwrap();
    let last = stored.len() - 1;
    stored[last] ^= 1;
    let reader = LegacyReader::new(
        Flavor::Searchable,
        FieldKind::Text,
        &settings,
        ReadOptions::default(),
    )
    .unwrap();
    assert_eq!(
        reader.read(&stored).unwrap_err(),
        CompatError::Searchable(SearchableError::BadTag)
    );
    println!("vectors: django-searchable-encrypted-fields values and search hashes {checked}");
}

#[test]
fn django_password_hashes() {
    use fieldcrypt_compat::password::{self, DJANGO_ARGON2, Preferred};
    let v = vectors();
    let hashes = &v["password_hashes"];
    let password = hashes["password"].as_str().unwrap();
    for name in ["pbkdf2_sha256", "pbkdf2_sha256_random_salt", "argon2"] {
        let encoded = hashes[name].as_str().unwrap();
        assert!(password::verify(password, encoded).unwrap(), "{name}");
        assert!(
            !password::verify("correct horse battery stapler", encoded).unwrap(),
            "{name}"
        );
        assert!(!password::verify("", encoded).unwrap(), "{name}");
    }
    let pbkdf2 = hashes["pbkdf2_sha256"].as_str().unwrap();
    let argon2 = hashes["argon2"].as_str().unwrap();
    // Django 5.2's defaults: PBKDF2 at 1,000,000 is current; Django 6.0 would upgrade it.
    assert!(!password::needs_upgrade(pbkdf2, Preferred::default()).unwrap());
    assert!(
        password::needs_upgrade(
            pbkdf2,
            Preferred::Pbkdf2Sha256 {
                iterations: 1_200_000
            }
        )
        .unwrap()
    );
    assert!(password::needs_upgrade(pbkdf2, Preferred::Argon2id(DJANGO_ARGON2)).unwrap());
    assert!(!password::needs_upgrade(argon2, Preferred::Argon2id(DJANGO_ARGON2)).unwrap());
    // A 12-character salt (Django before 3.1) is upgraded.
    let short = password::hash_pbkdf2_sha256("pw", 1000).unwrap();
    let (head, tail) = short.rsplit_once('$').unwrap();
    let (head, _salt) = head.rsplit_once('$').unwrap();
    let short = format!("{head}$abcdefghijkl${tail}");
    assert!(password::needs_upgrade(&short, Preferred::Pbkdf2Sha256 { iterations: 1000 }).unwrap());
    // Our own Argon2id hash: Django's layout, and it verifies (Django itself accepting it is
    // checked by the fixture test in fieldcrypt-cli, against Django's own hasher).
    let ours = password::hash_argon2id(password).unwrap();
    assert!(
        ours.starts_with("argon2$argon2id$v=19$m=102400,t=2,p=8$"),
        "{ours}"
    );
    assert!(password::verify(password, &ours).unwrap());
    assert!(!password::verify("other", &ours).unwrap());
    // The same salt and parameters reproduce Django's own vector exactly.
    assert_eq!(
        password::hash_argon2id_with(password, "interopSALT0123456789a", DJANGO_ARGON2).unwrap(),
        argon2
    );
    // Other algorithms and broken hashes are errors, never a match.
    for (bad, unsupported) in [
        ("md5$salt$abc", true),
        ("!unusable", true),
        ("", true),
        ("pbkdf2_sha256$x$salt$hash", false),
        ("pbkdf2_sha256$1000$salt$bm90IDMyIGJ5dGVz", false),
        (
            "pbkdf2_sha256$0$salt$DxPJ0kI9jzbJ7qVQNu0cEIw8eATdl4s2qBYNsCSJARc=",
            false,
        ),
        (
            "pbkdf2_sha256$4000000000$salt$DxPJ0kI9jzbJ7qVQNu0cEIw8eATdl4s2qBYNsCSJARc=",
            false,
        ),
        (
            "argon2$argon2id$v=19$m=99999999,t=2,p=8$c2FsdA$aGFzaA",
            false,
        ),
        ("argon2$argon2id$v=19$t=2,p=8$c2FsdA$aGFzaGhhc2g", false),
        (
            "argon2$argon2id$v=19$m=1048576,t=64,p=8$c2FsdA$aGFzaGhhc2g",
            false,
        ),
        (
            "argon2$argon2id$v=19$m=1024,t=2,p=0$c2FsdA$aGFzaGhhc2g",
            false,
        ),
        (
            "argon2$argon2id$v=19$m=1024,t=2,p=1000$c2FsdA$aGFzaGhhc2g",
            false,
        ),
    ] {
        let error = password::verify("pw", bad).unwrap_err();
        assert!(!error.to_string().contains("!unusable"), "{error}");
        assert_eq!(
            matches!(error, password::PasswordError::UnsupportedAlgorithm(_)),
            unsupported,
            "{bad}: {error}"
        );
    }
    println!("vectors: django password hashes 3");
}

#[test]
fn read_through_opens_either_format_and_says_which() {
    use fieldcrypt::{Context, Keyring, Suite};
    use fieldcrypt_compat::{ReadThrough, ReadThroughError, Source};
    let v = vectors();
    let legacy = LegacyReader::new(
        Flavor::EncryptedModelFields,
        FieldKind::Integer,
        &settings_of(&v),
        ReadOptions::default(),
    )
    .unwrap();
    let read = ReadThrough::new(legacy);
    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let context = Context::new("interop_app_emfrow", "integer").unwrap();
    // A value the library wrote...
    let token = v["raw"]["emf-full"]["columns"]["integer"]["value"]
        .as_str()
        .unwrap();
    let (value, source) = read.open(&keyring, &context, token.as_bytes()).unwrap();
    assert_eq!(source, Source::Legacy(Flavor::EncryptedModelFields));
    assert_eq!(value, Value_::Int(42));
    // ...and the same value after the import, as a text and as a binary envelope.
    let text = keyring.seal_text(&context, &Value_::Int(42)).unwrap();
    let (value, source) = read.open(&keyring, &context, text.as_bytes()).unwrap();
    assert_eq!((value, source), (Value_::Int(42), Source::Fieldcrypt));
    let binary = keyring.seal(&context, &Value_::Int(42)).unwrap();
    assert_eq!(
        read.open(&keyring, &context, &binary).unwrap().1,
        Source::Fieldcrypt
    );
    // An envelope bound to another column does not open, and is not mistaken for legacy.
    let elsewhere = Context::new("interop_app_emfrow", "bigint").unwrap();
    assert!(matches!(
        read.open(&keyring, &elsewhere, text.as_bytes()),
        Err(ReadThroughError::Fieldcrypt(fieldcrypt::Error::CannotOpen))
    ));
    // Neither format: the legacy reader's typed error.
    assert!(matches!(
        read.open(&keyring, &context, b"plain text"),
        Err(ReadThroughError::Legacy(CompatError::Fernet(
            TokenError::Malformed
        )))
    ));

    // With plaintext passthrough on, plaintext reads as legacy plaintext, but an envelope that
    // does not open is still that error, never "legacy plaintext" holding the envelope's text.
    let text_field = |passthrough| {
        ReadThrough::new(
            LegacyReader::new(
                Flavor::EncryptedModelFields,
                FieldKind::Text,
                &settings_of(&v),
                ReadOptions {
                    plaintext_passthrough: passthrough,
                    ..ReadOptions::default()
                },
            )
            .unwrap(),
        )
    };
    let read = text_field(true);
    let context = Context::new("interop_app_emfrow", "text").unwrap();
    assert_eq!(
        read.open(
            &keyring,
            &context,
            b"written before the field was encrypted"
        )
        .unwrap(),
        (
            Value_::String("written before the field was encrypted".to_owned()),
            Source::Legacy(Flavor::EncryptedModelFields)
        )
    );
    let sealed = keyring.seal_text(&context, "ann@example.org").unwrap();
    let wrong_context = Context::new("interop_app_emfrow", "other").unwrap();
    let mut tampered = sealed.clone().into_bytes();
    let last = tampered.len() - 1;
    tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
    let other_keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    for (what, result) in [
        (
            "wrong context",
            read.open(&keyring, &wrong_context, sealed.as_bytes()),
        ),
        ("tampered", read.open(&keyring, &context, &tampered)),
        (
            "another keyring",
            read.open(&other_keyring, &context, sealed.as_bytes()),
        ),
    ] {
        assert!(
            matches!(result, Err(ReadThroughError::Fieldcrypt(_))),
            "{what}: {:?}",
            result.map(|(_, source)| source)
        );
    }
    assert_eq!(
        read.open(&keyring, &context, sealed.as_bytes()).unwrap(),
        (
            Value_::String("ann@example.org".to_owned()),
            Source::Fieldcrypt
        )
    );
}

/// An envelope damaged past its whole header never passes for plaintext, whatever the damage:
/// a non-canonical last base64 character (what a random one-character edit gives one time in
/// sixteen, which once made `read_through_opens_either_format_and_says_which` fail), a cut,
/// a body of garbage; in the text and the binary form. Plaintext that merely starts with "fc"
/// still passes through.
#[test]
fn a_damaged_envelope_is_never_read_as_plaintext() {
    use fieldcrypt::{Context, Keyring, Suite};
    use fieldcrypt_compat::{ReadThrough, ReadThroughError, Source};
    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let read = ReadThrough::new(
        LegacyReader::new(
            Flavor::EncryptedModelFields,
            FieldKind::Text,
            &settings_of(&vectors()),
            ReadOptions {
                plaintext_passthrough: true,
                ..ReadOptions::default()
            },
        )
        .unwrap(),
    );
    let context = Context::new("interop_app_emfrow", "text").unwrap();
    let text = keyring.seal_text(&context, "ann@example.org").unwrap();
    let binary = keyring.seal(&context, "ann@example.org").unwrap();
    let mut damaged: Vec<Vec<u8>> = Vec::new();
    // Every last character: some decode to other bytes, some are not canonical base64.
    for c in b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_" {
        let mut t = text.clone().into_bytes();
        *t.last_mut().unwrap() = *c;
        if t != text.as_bytes() {
            damaged.push(t);
        }
    }
    damaged.push(text.as_bytes()[..text.len() - 7].to_vec());
    damaged.push(format!("{}!!!", &text[..text.find('.').unwrap() + 1]).into_bytes());
    damaged.push(binary[..binary.len() - 3].to_vec());
    damaged.push(binary[..7].to_vec());
    for value in &damaged {
        let result = read.open(&keyring, &context, value);
        assert!(
            matches!(result, Err(ReadThroughError::Fieldcrypt(_))),
            "{:?}: {:?}",
            String::from_utf8_lossy(value),
            result.map(|(_, source)| source)
        );
    }
    for plain in [
        "fc barcelona",
        "fc1",
        "fc1a",
        "fc1a12",
        "fc1zz.abc",
        "fcc@example.org",
    ] {
        let (value, source) = read.open(&keyring, &context, plain.as_bytes()).unwrap();
        assert_eq!(value, Value_::String(plain.to_owned()), "{plain}");
        assert_eq!(source, Source::Legacy(Flavor::EncryptedModelFields));
    }
}
