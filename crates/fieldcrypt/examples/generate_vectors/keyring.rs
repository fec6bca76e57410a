//! `keyring.json`: the document, its entries and MAC input, variants read with the KEK given.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::document::{FORMAT, KekDescriptor, WrappedKey};
use fieldcrypt::{
    Context, Error, IndexDefinition, KeyId, KeyState, KeyWrapper, Keyring, KeyringDocument,
    KeyringError, KeyringId, LocalKek, SecretKey, Suite, Timestamp,
};
use serde_json::{Value as J, json};

use crate::common::{counts_by, hex, key, nonce};
use crate::provider::{
    LocalConfig, apply_config, argon2id_parameters, master_key_files, provider_document_class,
};
use crate::texts::document_texts;

/// One entry of the keyring-document vector.
struct DocEntry {
    /// 1: data key (`keys`), 2: blind-index root (`index_roots`): the wrap AAD's kind byte.
    kind: u8,
    id: u32,
    suite: Suite,
    state: KeyState,
    created: &'static str,
    key: Option<[u8; 32]>,
}

/// A keyring document (docs/FORMAT.md section 10) with fixed wrap nonces, the keys it holds, and
/// variants of it that must be refused (or, for unbound details, still accepted); the local
/// provider's wrapped KEK; master-key files; Argon2id parameters. Returns the file and the
/// vectors on which the reference implementation disagrees with the spec.
pub(crate) fn keyring_vectors() -> (J, Vec<String>) {
    let kek_bytes = key(90);
    let kek = LocalKek::new(&SecretKey::from_bytes(kek_bytes));
    let kc = fieldcrypt::aead::KcXaes256Gcm::new(&kek_bytes);
    let keyring_id = KeyringId(core::array::from_fn(|i| 0xA0 + i as u8));
    // The local provider (section 10.5): a master key, which is not the document KEK, wraps it.
    let master_bytes = key(96);
    let master = LocalKek::new(&SecretKey::from_bytes(master_bytes));
    let wrapped_kek_nonce = nonce(229);
    let wrapped_kek = wrap_kek(&master_bytes, wrapped_kek_nonce, keyring_id, &kek_bytes);
    assert_eq!(
        KeyWrapper::unwrap(&master, &kek_wrap_context(keyring_id), &wrapped_kek)
            .unwrap_or_else(|err| panic!("{err}"))
            .expose(),
        &kek_bytes,
        "the master key unwraps the document KEK as the local provider does"
    );
    let other_keyring = KeyringId(core::array::from_fn(|i| 0xB0 + i as u8));
    let wrapped_for_other_keyring =
        wrap_kek(&master_bytes, wrapped_kek_nonce, other_keyring, &kek_bytes);
    let entries = [
        DocEntry {
            kind: 1,
            id: 1,
            suite: Suite::KcXaes256Gcm,
            state: KeyState::Retired,
            created: "2025-01-02T03:04:05.5Z",
            key: None,
        },
        DocEntry {
            kind: 1,
            id: 2,
            suite: Suite::Xaes256Gcm,
            state: KeyState::Active,
            created: "2025-06-01T00:00:00Z",
            key: Some(key(91)),
        },
        DocEntry {
            kind: 1,
            id: 3,
            suite: Suite::KcXaes256Gcm,
            state: KeyState::Primary,
            created: "2026-01-01T12:30:00.123456789Z",
            key: Some(key(92)),
        },
        DocEntry {
            kind: 2,
            id: 1,
            suite: Suite::KcXaes256Gcm,
            state: KeyState::Active,
            // Before the epoch with a fraction: the AAD binds the floor, -1.
            created: "1969-12-31T23:59:59.5Z",
            key: Some(key(93)),
        },
        DocEntry {
            kind: 2,
            id: 2,
            suite: Suite::KcXaes256Gcm,
            state: KeyState::Primary,
            created: "2026-01-01T12:30:00Z",
            key: Some(key(94)),
        },
    ];
    let mut keys = Vec::new();
    let mut index_roots = Vec::new();
    let mut described = Vec::new();
    for (n, e) in entries.iter().enumerate() {
        let created: Timestamp = e.created.parse().unwrap_or_else(|err| panic!("{err}"));
        // Section 10.2, built here rather than by the crate: the document must unwrap below.
        let mut aad = FORMAT.as_bytes().to_vec();
        aad.extend_from_slice(&keyring_id.0);
        aad.push(e.kind);
        aad.extend_from_slice(&e.id.to_be_bytes());
        aad.push(e.suite.id());
        aad.extend_from_slice(&created.seconds().to_be_bytes());
        let wrap_nonce = nonce(230 + n as u8);
        let wrapped = e.key.map(|k| {
            let mut w = wrap_nonce.to_vec();
            w.extend_from_slice(&kc.seal(&wrap_nonce, &aad, &k));
            w
        });
        if let (Some(w), Some(k)) = (&wrapped, &e.key) {
            let back = KeyWrapper::unwrap(&kek, &aad, w).unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(back.expose(), k, "the reference implementation unwraps it");
        }
        let entry = WrappedKey {
            id: e.id,
            suite: e.suite,
            state: e.state,
            created: e.created.to_owned(),
            wrapped: wrapped.as_ref().map(|w| URL_SAFE_NO_PAD.encode(w)),
        };
        let list = if e.kind == 1 {
            keys.push(entry);
            "keys"
        } else {
            index_roots.push(entry);
            "index_roots"
        };
        described.push(json!({
            "list": list,
            "kind": e.kind,
            "id": e.id,
            "suite": e.suite.slug(),
            "state": e.state.to_string(),
            "created": e.created,
            "created_seconds": created.seconds(),
            "wrap_aad": hex(&aad),
            "wrap_nonce": e.key.map(|_| hex(&wrap_nonce)),
            "key": e.key.map(|k| hex(&k)),
        }));
    }
    let mut settings = BTreeMap::new();
    settings.insert("path".to_owned(), json!("/etc/fieldcrypt/master.key"));
    settings.insert("key_fingerprint".to_owned(), json!(master.fingerprint()));
    settings.insert(
        "wrapped_kek".to_owned(),
        json!(URL_SAFE_NO_PAD.encode(&wrapped_kek)),
    );
    settings.insert("generation".to_owned(), json!(7));
    let doc = KeyringDocument {
        format: FORMAT.to_owned(),
        keyring_id: keyring_id.to_string(),
        kek: KekDescriptor {
            provider: "local".to_owned(),
            fingerprint: kek.fingerprint(),
            settings,
        },
        keys,
        index_roots,
        mac: None,
    };
    let mut doc = doc;
    doc.seal_mac(&kek).unwrap_or_else(|err| panic!("{err}"));

    // The reference implementation reads it, holds exactly these keys, and would write the same
    // document but for the random wrap nonces.
    let kr = Keyring::from_document(&doc, &kek).unwrap_or_else(|err| panic!("{err}"));
    let without_wrapped = |d: &KeyringDocument| {
        let mut d = d.clone();
        for w in d.keys.iter_mut().chain(d.index_roots.iter_mut()) {
            w.wrapped = w.wrapped.as_ref().map(|_| String::new());
        }
        d.mac = None; // over the wrapped values, so it differs too
        d
    };
    let rewritten = kr
        .to_document(&kek, "local", doc.kek.settings.clone())
        .unwrap_or_else(|err| panic!("{err}"));
    assert_eq!(without_wrapped(&rewritten), without_wrapped(&doc));
    let ctx = Context::new("t", "c").unwrap_or_else(|err| panic!("{err}"));
    let def = IndexDefinition::new("t", "c", "i", 32);
    for e in &entries {
        let id = KeyId::new(e.id).unwrap_or_else(|| unreachable!());
        let material = SecretKey::from_bytes(e.key.unwrap_or([0; 32]));
        if e.kind == 1 {
            let single = Keyring::from_single_key(
                KeyringId([0; 16]),
                id,
                e.suite,
                material,
                SecretKey::from_bytes([0; 32]),
            );
            let sealed = single
                .seal_with_nonce(&ctx, "check", nonce(250))
                .unwrap_or_else(|err| panic!("{err}"));
            let opened = kr.open::<String>(&ctx, &sealed);
            match e.key {
                Some(_) => assert_eq!(opened.ok().as_deref(), Some("check")),
                None => assert!(matches!(opened, Err(Error::RetiredKey(_)))),
            }
        } else {
            let single = Keyring::from_single_key(
                KeyringId([0; 16]),
                id,
                Suite::KcXaes256Gcm,
                SecretKey::from_bytes([0; 32]),
                material,
            );
            let want = single
                .blind_indexer(&def)
                .and_then(|ix| ix.compute("check"))
                .unwrap_or_else(|err| panic!("{err}"));
            let got = kr
                .blind_indexer_under(&def, id)
                .and_then(|ix| ix.compute("check"))
                .unwrap_or_else(|err| panic!("{err}"));
            assert_eq!(got.to_hex(), want.to_hex());
        }
    }

    // Variants, each with one change: refused as the class says, or still accepted ("ok").
    let base = serde_json::to_value(&doc).unwrap_or_else(|err| panic!("{err}"));
    let wrapped_of = |list: &str, i: usize| {
        base[list][i]["wrapped"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let wrapped_bytes = |list: &str, i: usize| {
        URL_SAFE_NO_PAD
            .decode(wrapped_of(list, i))
            .unwrap_or_else(|err| panic!("{err}"))
    };
    let id = keyring_id.to_string();
    let variants: Vec<(&str, J, Option<[u8; 32]>, &str)> = vec![
        ("as written", base.clone(), None, "ok"),
        (
            "unknown members at the top level, in kek and in an entry are ignored",
            remac(&base, &kek, |d| {
                d["comment"] = json!("x");
                d["kek"]["region"] = json!("x");
                d["keys"][1]["note"] = json!("x");
            }),
            None,
            "ok",
        ),
        (
            "created: another fraction (the fraction is not bound)",
            remac(&base, &kek, |d| {
                d["keys"][2]["created"] = json!("2026-01-01T12:30:00.9Z")
            }),
            None,
            "ok",
        ),
        (
            "created: the same second with an offset",
            remac(&base, &kek, |d| {
                d["keys"][1]["created"] = json!("2025-06-01T02:00:00+02:00")
            }),
            None,
            "ok",
        ),
        (
            "created: lower-case t and z",
            remac(&base, &kek, |d| {
                d["keys"][1]["created"] = json!("2025-06-01t00:00:00z")
            }),
            None,
            "ok",
        ),
        ("another KEK", base.clone(), Some(key(95)), "wrong_kek"),
        // The document MAC (section 10.4): changes made without the KEK.
        (
            "MAC not updated: primary moved from data key 3 to data key 2",
            mutated(&base, |d| {
                d["keys"][1]["state"] = json!("primary");
                d["keys"][2]["state"] = json!("active");
            }),
            None,
            "tampered",
        ),
        (
            "MAC not updated: the tombstone of data key 1 removed",
            mutated(&base, |d| {
                if let Some(list) = d["keys"].as_array_mut() {
                    list.remove(0);
                }
            }),
            None,
            "tampered",
        ),
        (
            "MAC not updated: kek.path changed",
            mutated(&base, |d| d["kek"]["path"] = json!("/tmp/master.key")),
            None,
            "tampered",
        ),
        (
            "MAC not updated: an unknown kek member added (kek members are settings)",
            mutated(&base, |d| d["kek"]["region"] = json!("x")),
            None,
            "tampered",
        ),
        (
            "MAC not updated: data keys 2 and 3 in the other order",
            mutated(&base, |d| {
                if let Some(list) = d["keys"].as_array_mut() {
                    list.swap(1, 2);
                }
            }),
            None,
            "tampered",
        ),
        (
            "MAC not updated: created of data key 3 with another fraction",
            mutated(&base, |d| {
                d["keys"][2]["created"] = json!("2026-01-01T12:30:00.9Z")
            }),
            None,
            "tampered",
        ),
        (
            "mac with one bit flipped",
            mutated(&base, |d| {
                let mut m = URL_SAFE_NO_PAD
                    .decode(d["mac"].as_str().unwrap_or_default())
                    .unwrap_or_default();
                m[0] ^= 0x80;
                d["mac"] = json!(URL_SAFE_NO_PAD.encode(m));
            }),
            None,
            "tampered",
        ),
        (
            "unknown top-level member added (not bound by the MAC)",
            mutated(&base, |d| d["comment"] = json!("x")),
            None,
            "ok",
        ),
        (
            "no mac",
            mutated(&base, |d| {
                if let Some(o) = d.as_object_mut() {
                    o.remove("mac");
                }
            }),
            None,
            "invalid_document",
        ),
        (
            "mac of 31 bytes",
            mutated(&base, |d| {
                let m = URL_SAFE_NO_PAD
                    .decode(d["mac"].as_str().unwrap_or_default())
                    .unwrap_or_default();
                d["mac"] = json!(URL_SAFE_NO_PAD.encode(&m[..31]));
            }),
            None,
            "invalid_document",
        ),
        (
            "kek setting that is an array (MAC recomputed over the rest)",
            remac(&base, &kek, |d| d["kek"]["path"] = json!(["/etc"])),
            None,
            "invalid_document",
        ),
        (
            "kek.fingerprint altered",
            remac(&base, &kek, |d| {
                d["kek"]["fingerprint"] = json!("0000000000000000")
            }),
            None,
            "wrong_kek",
        ),
        (
            "format fieldcrypt-keyring/2",
            remac(&base, &kek, |d| d["format"] = json!("fieldcrypt-keyring/2")),
            None,
            "invalid_document",
        ),
        (
            "keyring_id in upper case",
            remac(&base, &kek, |d| d["keyring_id"] = json!(id.to_uppercase())),
            None,
            "invalid_document",
        ),
        (
            "keyring_id of 31 hex digits",
            remac(&base, &kek, |d| d["keyring_id"] = json!(id[..31])),
            None,
            "invalid_document",
        ),
        (
            "keyring_id of another keyring",
            remac(&base, &kek, |d| {
                d["keyring_id"] = json!(format!("{}00", &id[..30]))
            }),
            None,
            "unwrap_failed",
        ),
        (
            "wrapped values of data keys 2 and 3 swapped",
            remac(&base, &kek, |d| {
                d["keys"][1]["wrapped"] = json!(wrapped_of("keys", 2));
                d["keys"][2]["wrapped"] = json!(wrapped_of("keys", 1));
            }),
            None,
            "unwrap_failed",
        ),
        (
            "index root 2 holding the wrapped value of data key 3",
            remac(&base, &kek, |d| {
                d["index_roots"][1]["wrapped"] = json!(wrapped_of("keys", 2))
            }),
            None,
            "unwrap_failed",
        ),
        (
            "data key 2's suite changed to kc-xaes-256-gcm",
            remac(&base, &kek, |d| {
                d["keys"][1]["suite"] = json!("kc-xaes-256-gcm")
            }),
            None,
            "unwrap_failed",
        ),
        (
            "data key 2's id changed to 4",
            remac(&base, &kek, |d| d["keys"][1]["id"] = json!(4)),
            None,
            "unwrap_failed",
        ),
        (
            "data key 3 created one second later",
            remac(&base, &kek, |d| {
                d["keys"][2]["created"] = json!("2026-01-01T12:30:01.123456789Z")
            }),
            None,
            "unwrap_failed",
        ),
        (
            "index root 1 created at 1970-01-01T00:00:00Z (the AAD binds -1)",
            remac(&base, &kek, |d| {
                d["index_roots"][0]["created"] = json!("1970-01-01T00:00:00Z")
            }),
            None,
            "unwrap_failed",
        ),
        (
            "wrapped with '=' padding",
            remac(&base, &kek, |d| {
                d["keys"][1]["wrapped"] = json!(format!("{}=", wrapped_of("keys", 1)))
            }),
            None,
            "invalid_document",
        ),
        (
            "wrapped one byte short",
            remac(&base, &kek, |d| {
                let w = wrapped_bytes("keys", 1);
                d["keys"][1]["wrapped"] = json!(URL_SAFE_NO_PAD.encode(&w[..w.len() - 1]));
            }),
            None,
            "unwrap_failed",
        ),
        (
            "wrapped with one bit flipped in the commitment",
            remac(&base, &kek, |d| {
                let mut w = wrapped_bytes("keys", 1);
                let last = w.len() - 1;
                w[last] ^= 0x01;
                d["keys"][1]["wrapped"] = json!(URL_SAFE_NO_PAD.encode(w));
            }),
            None,
            "unwrap_failed",
        ),
        (
            "primary data key 3 made active (no primary)",
            remac(&base, &kek, |d| d["keys"][2]["state"] = json!("active")),
            None,
            "invalid_document",
        ),
        (
            "data key 2 made primary (two primaries)",
            remac(&base, &kek, |d| d["keys"][1]["state"] = json!("primary")),
            None,
            "invalid_document",
        ),
        (
            "no index roots",
            remac(&base, &kek, |d| d["index_roots"] = json!([])),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 with a wrapped value",
            remac(&base, &kek, |d| {
                d["keys"][0]["wrapped"] = json!(wrapped_of("keys", 1))
            }),
            None,
            "invalid_document",
        ),
        (
            "live data key 2 without wrapped",
            remac(&base, &kek, |d| {
                if let Some(entry) = d["keys"][1].as_object_mut() {
                    entry.remove("wrapped");
                }
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 with id 0",
            remac(&base, &kek, |d| d["keys"][0]["id"] = json!(0)),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 with id 3 (a duplicate)",
            remac(&base, &kek, |d| d["keys"][0]["id"] = json!(3)),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 created without a zone",
            remac(&base, &kek, |d| {
                d["keys"][0]["created"] = json!("2025-01-02T03:04:05")
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 with an unknown suite",
            remac(&base, &kek, |d| {
                d["keys"][0]["suite"] = json!("aes-256-gcm")
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 with an unknown state",
            remac(&base, &kek, |d| d["keys"][0]["state"] = json!("disabled")),
            None,
            "invalid_document",
        ),
        // generation and wrapped_kek are kek members like any other: bound by the MAC.
        (
            "MAC not updated: generation lowered from 7 to 6",
            mutated(&base, |d| d["kek"]["generation"] = json!(6)),
            None,
            "tampered",
        ),
        (
            "MAC not updated: wrapped_kek replaced",
            mutated(&base, |d| {
                d["kek"]["wrapped_kek"] = json!(URL_SAFE_NO_PAD.encode(&wrapped_for_other_keyring))
            }),
            None,
            "tampered",
        ),
        // Compact JSON of kek members (section 10.4).
        (
            "kek setting: a string with every kind of escape (MAC recomputed)",
            remac(&base, &kek, |d| {
                d["kek"]["note"] = json!(
                    "\"\\/\u{8}\u{c}\n\r\t\u{0}\u{1f}\u{7f}\u{80}\u{85}\u{9f}\u{a0}\u{2028}\u{2029}é🔑"
                )
            }),
            None,
            "ok",
        ),
        (
            "kek settings: integers at the limits and booleans (MAC recomputed)",
            remac(&base, &kek, |d| {
                d["kek"]["max"] = json!(u64::MAX);
                d["kek"]["min"] = json!(i64::MIN);
                d["kek"]["on"] = json!(true);
                d["kek"]["off"] = json!(false);
            }),
            None,
            "ok",
        ),
        (
            "kek setting that is a fraction",
            remac(&base, &kek, |d| d["kek"]["cost"] = json!(1.5)),
            None,
            "invalid_document",
        ),
        (
            "kek setting that is null",
            remac(&base, &kek, |d| d["kek"]["cost"] = J::Null),
            None,
            "invalid_document",
        ),
        (
            "kek setting that is an object",
            remac(&base, &kek, |d| d["kek"]["cost"] = json!({ "a": 1 })),
            None,
            "invalid_document",
        ),
        (
            "mac that is a number",
            mutated(&base, |d| d["mac"] = json!(5)),
            None,
            "invalid_document",
        ),
        (
            "mac that is null",
            mutated(&base, |d| d["mac"] = J::Null),
            None,
            "invalid_document",
        ),
        (
            "mac that is null, read with another KEK (the fingerprint is checked first)",
            mutated(&base, |d| d["mac"] = J::Null),
            Some(key(95)),
            "wrong_kek",
        ),
        (
            "kek.fingerprint in upper case",
            remac(&base, &kek, |d| {
                let upper = d["kek"]["fingerprint"]
                    .as_str()
                    .unwrap_or_default()
                    .to_uppercase();
                d["kek"]["fingerprint"] = json!(upper);
            }),
            None,
            "wrong_kek",
        ),
        (
            "kek.provider that is not a string",
            remac(&base, &kek, |d| d["kek"]["provider"] = json!(1)),
            None,
            "invalid_document",
        ),
        (
            "no keys member",
            remac(&base, &kek, |d| {
                if let Some(o) = d.as_object_mut() {
                    o.remove("keys");
                }
            }),
            None,
            "invalid_document",
        ),
        // created (section 10.1): the same instant written otherwise is accepted.
        (
            "created: offset -00:00",
            remac(&base, &kek, |d| {
                d["keys"][1]["created"] = json!("2025-06-01T00:00:00-00:00")
            }),
            None,
            "ok",
        ),
        (
            "created: offset +23:59",
            remac(&base, &kek, |d| {
                d["keys"][1]["created"] = json!("2025-06-01T23:59:00+23:59")
            }),
            None,
            "ok",
        ),
        (
            "created: offset -23:59",
            remac(&base, &kek, |d| {
                d["keys"][1]["created"] = json!("2025-05-31T00:01:00-23:59")
            }),
            None,
            "ok",
        ),
        (
            "created: a space between date and time",
            remac(&base, &kek, |d| {
                d["keys"][1]["created"] = json!("2025-06-01 00:00:00Z")
            }),
            None,
            "ok",
        ),
        (
            "created: offset +24:00",
            remac(&base, &kek, |d| {
                d["keys"][1]["created"] = json!("2025-06-02T00:00:00+24:00")
            }),
            None,
            "invalid_document",
        ),
        (
            "created: offset minutes 60",
            remac(&base, &kek, |d| {
                d["keys"][1]["created"] = json!("2025-05-31T23:00:00+00:60")
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 created at second 60",
            remac(&base, &kek, |d| {
                d["keys"][0]["created"] = json!("2025-01-02T03:04:60Z")
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 created with ten fraction digits",
            remac(&base, &kek, |d| {
                d["keys"][0]["created"] = json!("2025-01-02T03:04:05.5000000000Z")
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 created in a signed five-digit year",
            remac(&base, &kek, |d| {
                d["keys"][0]["created"] = json!("+12025-01-02T03:04:05Z")
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 created on 2025-02-29",
            remac(&base, &kek, |d| {
                d["keys"][0]["created"] = json!("2025-02-29T03:04:05Z")
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 created in year 0000",
            remac(&base, &kek, |d| {
                d["keys"][0]["created"] = json!("0000-01-01T00:00:00Z")
            }),
            None,
            "ok",
        ),
        // Entry members' JSON types.
        (
            "retired data key 1 with id 4294967296",
            remac(&base, &kek, |d| {
                d["keys"][0]["id"] = json!(4_294_967_296u64)
            }),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 with id 1.0",
            remac(&base, &kek, |d| d["keys"][0]["id"] = json!(1.0)),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 with id \"1\"",
            remac(&base, &kek, |d| d["keys"][0]["id"] = json!("1")),
            None,
            "invalid_document",
        ),
        (
            "retired data key 1 with wrapped null (as absent)",
            mutated(&base, |d| d["keys"][0]["wrapped"] = J::Null),
            None,
            "ok",
        ),
        (
            "live data key 2 with wrapped null",
            remac(&base, &kek, |d| d["keys"][1]["wrapped"] = J::Null),
            None,
            "invalid_document",
        ),
    ];
    let documents: Vec<J> = variants
        .into_iter()
        .map(|(name, document, other_kek, expect)| {
            let got = document_class(&document, &other_kek.unwrap_or(kek_bytes));
            assert_eq!(got, expect, "keyring document variant {name:?}");
            let mut v = json!({ "name": name, "document": document, "expect": expect });
            if let Some(k) = other_kek {
                v["kek"] = json!(hex(&k));
            }
            v
        })
        .collect();

    let mut disagreements = Vec::new();
    let texts = document_texts(&base, &kek, kek_bytes, &mut disagreements);

    // Every step of section 10.6, with a configured local provider.
    let config = LocalConfig {
        master: master_bytes,
        min_generation: None,
        keyring_id: None,
    };
    let other_master_wrapped = wrap_kek(&key(97), wrapped_kek_nonce, keyring_id, &kek_bytes);
    let other_kek_wrapped = wrap_kek(&master_bytes, wrapped_kek_nonce, keyring_id, &key(95));
    let b64 = |b: &[u8]| URL_SAFE_NO_PAD.encode(b);
    let remove = |d: &mut J, name: &str| {
        if let Some(k) = d["kek"].as_object_mut() {
            k.remove(name);
        }
    };
    let none = json!({});
    let pv: Vec<(&str, J, J, &str)> = vec![
        ("as written", base.clone(), none.clone(), "ok"),
        (
            "configured with another master key (whose fingerprint is not key_fingerprint)",
            base.clone(),
            json!({ "master_key": hex(&key(97)) }),
            "provider_mismatch",
        ),
        (
            "another provider named (MAC recomputed)",
            remac(&base, &kek, |d| d["kek"]["provider"] = json!("env")),
            none.clone(),
            "provider_mismatch",
        ),
        (
            "key_fingerprint altered (MAC recomputed)",
            remac(&base, &kek, |d| {
                d["kek"]["key_fingerprint"] = json!("0000000000000000")
            }),
            none.clone(),
            "provider_mismatch",
        ),
        (
            "key_fingerprint removed (MAC recomputed)",
            remac(&base, &kek, |d| remove(d, "key_fingerprint")),
            none.clone(),
            "provider_mismatch",
        ),
        (
            "path names another file (MAC recomputed): informational, not compared",
            remac(&base, &kek, |d| {
                d["kek"]["path"] = json!("/tmp/elsewhere.key")
            }),
            none.clone(),
            "ok",
        ),
        (
            "path removed (MAC recomputed)",
            remac(&base, &kek, |d| remove(d, "path")),
            none.clone(),
            "ok",
        ),
        (
            "an unknown kek member added (MAC recomputed): not compared",
            remac(&base, &kek, |d| d["kek"]["region"] = json!("x")),
            none.clone(),
            "ok",
        ),
        (
            "wrapped_kek removed (MAC recomputed)",
            remac(&base, &kek, |d| remove(d, "wrapped_kek")),
            none.clone(),
            "invalid_document",
        ),
        (
            "wrapped_kek with '=' padding (MAC recomputed)",
            remac(&base, &kek, |d| {
                d["kek"]["wrapped_kek"] = json!(format!("{}=", b64(&wrapped_kek[..])))
            }),
            none.clone(),
            "invalid_document",
        ),
        (
            "wrapped_kek that is a number (MAC recomputed)",
            remac(&base, &kek, |d| d["kek"]["wrapped_kek"] = json!(104)),
            none.clone(),
            "invalid_document",
        ),
        (
            "wrapped_kek with one bit flipped (MAC not updated)",
            mutated(&base, |d| {
                let mut w = wrapped_kek.clone();
                w[30] ^= 0x01;
                d["kek"]["wrapped_kek"] = json!(b64(&w[..]));
            }),
            none.clone(),
            "unwrap_failed",
        ),
        (
            "wrapped_kek one byte short (MAC recomputed)",
            remac(&base, &kek, |d| {
                d["kek"]["wrapped_kek"] = json!(b64(&wrapped_kek[..wrapped_kek.len() - 1]))
            }),
            none.clone(),
            "unwrap_failed",
        ),
        (
            "wrapped_kek bound to another keyring (MAC recomputed)",
            remac(&base, &kek, |d| {
                d["kek"]["wrapped_kek"] = json!(b64(&wrapped_for_other_keyring[..]))
            }),
            none.clone(),
            "unwrap_failed",
        ),
        (
            "wrapped_kek under another master key (MAC recomputed)",
            remac(&base, &kek, |d| {
                d["kek"]["wrapped_kek"] = json!(b64(&other_master_wrapped[..]))
            }),
            none.clone(),
            "unwrap_failed",
        ),
        (
            "wrapped_kek holding another KEK, bound to this keyring (MAC not updated)",
            mutated(&base, |d| {
                d["kek"]["wrapped_kek"] = json!(b64(&other_kek_wrapped[..]))
            }),
            none.clone(),
            "wrong_kek",
        ),
        (
            "minimum generation 7 pinned",
            base.clone(),
            json!({ "min_generation": 7 }),
            "ok",
        ),
        (
            "minimum generation 8 pinned",
            base.clone(),
            json!({ "min_generation": 8 }),
            "rolled_back",
        ),
        (
            "generation 6 with the MAC not updated, minimum 6 pinned",
            mutated(&base, |d| d["kek"]["generation"] = json!(6)),
            json!({ "min_generation": 6 }),
            "tampered",
        ),
        (
            "generation absent (MAC recomputed): 0",
            remac(&base, &kek, |d| remove(d, "generation")),
            none.clone(),
            "ok",
        ),
        (
            "generation absent (MAC recomputed), minimum 1 pinned",
            remac(&base, &kek, |d| remove(d, "generation")),
            json!({ "min_generation": 1 }),
            "rolled_back",
        ),
        (
            "generation as a string (MAC recomputed)",
            remac(&base, &kek, |d| d["kek"]["generation"] = json!("7")),
            none.clone(),
            "invalid_document",
        ),
        (
            "generation -1 (MAC recomputed)",
            remac(&base, &kek, |d| d["kek"]["generation"] = json!(-1)),
            none.clone(),
            "invalid_document",
        ),
        (
            "generation 7.0",
            remac(&base, &kek, |d| d["kek"]["generation"] = json!(7.0)),
            none.clone(),
            "invalid_document",
        ),
        (
            "keyring id pinned",
            base.clone(),
            json!({ "keyring_id": keyring_id.to_string() }),
            "ok",
        ),
        (
            "another keyring id pinned",
            base.clone(),
            json!({ "keyring_id": other_keyring.to_string() }),
            "not_pinned",
        ),
        (
            "keyring_id in upper case (MAC recomputed): before the provider",
            remac(&base, &kek, |d| {
                d["keyring_id"] = json!(keyring_id.to_string().to_uppercase())
            }),
            none.clone(),
            "invalid_document",
        ),
        (
            "format fieldcrypt-keyring/2 (MAC recomputed): before the provider",
            remac(&base, &kek, |d| d["format"] = json!("fieldcrypt-keyring/2")),
            none.clone(),
            "invalid_document",
        ),
    ];
    let provider_documents: Vec<J> = pv
        .into_iter()
        .map(|(name, document, overrides, expect)| {
            let got = provider_document_class(&document, &apply_config(&config, &overrides));
            assert_eq!(got, expect, "provider document {name:?}");
            let mut v = json!({ "name": name, "document": document, "expect": expect });
            if overrides.as_object().is_some_and(|o| !o.is_empty()) {
                v["configuration"] = overrides;
            }
            v
        })
        .collect();
    let master_files = master_key_files(&master_bytes);
    let argon = argon2id_parameters();
    let counts = json!({
        "entries": described.len(),
        "documents": counts_by(&documents, "expect"),
        "document_texts": counts_by(&texts, "expect"),
        "provider_documents": counts_by(&provider_documents, "expect"),
        "master_key_files": {
            "accepted": master_files.iter().filter(|f| !f["key"].is_null()).count(),
            "refused": master_files.iter().filter(|f| f["key"].is_null()).count(),
        },
        "argon2id_parameters": counts_by(&argon, "expect"),
    });

    let file = json!({
        "about": "Keyring document vectors (docs/FORMAT.md section 10). kek: the document KEK of document (hex), which wraps its keys and keys its MAC; kek_fingerprint: its fingerprint (10.2); master_key_file: the master-key file format (10.3) applied to kek, a format example only (a local keyring's file holds the master key, local_provider.master_key, not the KEK). local_provider: the provider level (10.5) of document: master_key (hex), master_key_fingerprint (kek.key_fingerprint), master_key_file (the file holding it), wrap_context (\"fieldcrypt-kek/1\" || keyring id), wrapped_kek_nonce and wrapped_kek (hex; document's kek.wrapped_kek is its base64url), kek (what it unwraps to), and configuration: the configured provider for provider_documents (provider, master_key, path; min_generation and keyring_id pins, null when not pinned). document: a keyring document of the local provider with fixed nonces; mac_input: its MAC input (10.4, hex); entries: for each of its entries, the wrap AAD (hex), the created time's bound seconds, the nonce and the unwrapped key (hex; null for retired entries). documents: variants with one change each, read with kek given (or the vector's own kek): step 1 of 10.6, then the steps from the fingerprint on. document_texts: documents as raw texts (member order, escapes, number tokens, duplicate names, layout), read the same way with kek. provider_documents: variants read through every step of 10.6 with local_provider.configuration, overridden by the vector's own configuration members. expect is one of: ok, invalid_document, not_pinned, rolled_back, provider_mismatch, unwrap_failed, wrong_kek, tampered (10.6). Variants that test a check behind the MAC carry a MAC recomputed under kek. master_key_files: file contents (text when UTF-8, and bytes_hex) with the permission bits mode, and the key a reader gets (hex) or null when it must refuse the file. argon2id_parameters: passphrase KDF settings (10.5) and whether a reader accepts them (ok) or refuses them before deriving (invalid_document). count: the number of documents; counts: the number of each list's entries by expected outcome.",
        "mac_input": hex(&doc.mac_input().unwrap_or_else(|err| panic!("{err}"))),
        "kek": hex(&kek_bytes),
        "kek_fingerprint": kek.fingerprint(),
        "master_key_file": format!("fieldcrypt-master-key-v1:{}\n", URL_SAFE_NO_PAD.encode(kek_bytes)),
        "fingerprint_examples": [
            { "kek": hex(&[0; 32]), "fingerprint": LocalKek::new(&SecretKey::from_bytes([0; 32])).fingerprint() },
        ],
        "local_provider": {
            "master_key": hex(&master_bytes),
            "master_key_fingerprint": master.fingerprint(),
            "master_key_file": format!("fieldcrypt-master-key-v1:{}\n", URL_SAFE_NO_PAD.encode(master_bytes)),
            "wrap_context": hex(&kek_wrap_context(keyring_id)),
            "wrapped_kek_nonce": hex(&wrapped_kek_nonce),
            "wrapped_kek": hex(&wrapped_kek),
            "kek": hex(&kek_bytes),
            "configuration": {
                "provider": "local",
                "master_key": hex(&master_bytes),
                "path": "/srv/app/keys/master.key",
                "min_generation": null,
                "keyring_id": null,
            },
        },
        "document": base,
        "entries": described,
        "count": documents.len(),
        "counts": counts,
        "documents": documents,
        "document_texts": texts,
        "provider_documents": provider_documents,
        "master_key_files": master_files,
        "argon2id_parameters": argon,
    });
    (file, disagreements)
}

/// `"fieldcrypt-kek/1" || keyring id`: what a provider binds a wrapped document KEK to.
pub(crate) fn kek_wrap_context(keyring: KeyringId) -> Vec<u8> {
    let mut context = b"fieldcrypt-kek/1".to_vec();
    context.extend_from_slice(&keyring.0);
    context
}

/// The local provider's `wrapped_kek`: `N || KC-XAES-256-GCM(master key, N, context, KEK)`.
fn wrap_kek(master: &[u8; 32], nonce: [u8; 24], keyring: KeyringId, kek: &[u8; 32]) -> Vec<u8> {
    let mut out = nonce.to_vec();
    out.extend_from_slice(&fieldcrypt::aead::KcXaes256Gcm::new(master).seal(
        &nonce,
        &kek_wrap_context(keyring),
        kek,
    ));
    out
}

/// A copy of `base` changed by `f`, its MAC left as it was.
fn mutated(base: &J, f: impl FnOnce(&mut J)) -> J {
    let mut d = base.clone();
    f(&mut d);
    d
}

/// A copy of `base` changed by `f`, with the MAC computed afresh under `kek` (as a writer holding
/// the KEK would), so that the check behind the MAC is the one exercised. Where the change leaves
/// no MAC input (the JSON no longer has the document's shape), the MAC is left as it was.
fn remac(base: &J, kek: &LocalKek, f: impl FnOnce(&mut J)) -> J {
    let mut d = mutated(base, f);
    if let Ok(doc) = serde_json::from_value::<KeyringDocument>(d.clone())
        && let Ok(input) = doc.mac_input()
    {
        d["mac"] = json!(URL_SAFE_NO_PAD.encode(kek.authenticate(&input)));
    }
    d
}

/// How the reference implementation takes a keyring document with the KEK given: `ok` or the
/// class of refusal.
fn document_class(document: &J, kek: &[u8; 32]) -> &'static str {
    match serde_json::from_value::<KeyringDocument>(document.clone()) {
        Ok(doc) => class_of(&doc, kek),
        Err(_) => "invalid_document",
    }
}

/// [`document_class`] of a parsed document.
pub(crate) fn class_of(doc: &KeyringDocument, kek: &[u8; 32]) -> &'static str {
    match Keyring::from_document(doc, &LocalKek::new(&SecretKey::from_bytes(*kek))) {
        Ok(_) => "ok",
        Err(Error::Keyring(KeyringError::WrongKek { .. })) => "wrong_kek",
        Err(Error::Keyring(KeyringError::UnwrapFailed(_))) => "unwrap_failed",
        Err(Error::Keyring(KeyringError::InvalidDocument(_))) => "invalid_document",
        Err(Error::Keyring(KeyringError::MacMismatch)) => "tampered",
        Err(_) => "other error",
    }
}
