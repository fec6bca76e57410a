//! Writes the language-neutral vectors in `testdata/vectors/` (deterministic: fixed keys and
//! nonces): `envelope.json`, `negative.json`, `blind_index.json` and `keyring.json`.
//!
//! ```text
//! cargo run -p fieldcrypt --example generate_vectors -- testdata/vectors
//! ```
//!
//! Every value is produced by the crate and checked here against the spec (intermediate values
//! are recomputed with aws-lc-rs and RustCrypto directly, not through the crate's backend). Where
//! the spec decides something the crate cannot be asked about (the provider steps of
//! docs/FORMAT.md section 10.6, which live in `fieldcrypt-kms`, and the master-key file), this
//! file mirrors `fieldcrypt-kms` and says so. When the crate disagrees with a vector's expected
//! outcome, the files are still written, the disagreements are listed, and the exit status is 1.
//!
//! The vectors are checked by `tests/format_vectors.rs` and, independently of this crate, by
//! `tools/verify_vectors.py` (Python, using only the `cryptography` package's primitives).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use fieldcrypt::document::{FORMAT, KekDescriptor, WrappedKey};
use fieldcrypt::{
    Context, Date, Decimal, Decode, Envelope, Error, Header, IndexDefinition, Json, JsonText,
    KeyId, KeyState, KeyWrapper, Keyring, KeyringDocument, KeyringError, KeyringId, LocalKek,
    Normalizer, SecretKey, Suite, Timestamp, TypeTag, Value,
};
use serde_json::{Value as J, json};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn key(seed: u8) -> [u8; 32] {
    core::array::from_fn(|i| seed.wrapping_mul(31).wrapping_add(i as u8))
}

fn nonce(seed: u8) -> [u8; 24] {
    core::array::from_fn(|i| seed.wrapping_mul(7).wrapping_add(0x40 + i as u8))
}

fn keyring(suite: Suite, key_id: u32, seed: u8) -> Keyring {
    Keyring::from_single_key(
        KeyringId([0; 16]),
        KeyId::new(key_id).unwrap_or_else(|| unreachable!()),
        suite,
        SecretKey::from_bytes(key(seed)),
        SecretKey::from_bytes(key(seed ^ 0xFF)),
    )
}

fn ctx_json(table: &str, column: &str, row: Option<&str>, tenant: Option<&str>) -> J {
    json!({ "table": table, "column": column, "row": row, "tenant": tenant })
}

fn context(c: &J) -> Context {
    let s = |k: &str| c[k].as_str().map(str::to_owned);
    let mut ctx = Context::new(
        s("table").unwrap_or_default(),
        s("column").unwrap_or_default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    if let Some(row) = s("row") {
        ctx = ctx.with_row(row).unwrap_or_else(|e| panic!("{e}"));
    }
    if let Some(t) = s("tenant") {
        ctx = ctx.with_tenant(t).unwrap_or_else(|e| panic!("{e}"));
    }
    ctx
}

/// The value as JSON for the vector file: how a checker in another language rebuilds it.
fn value_json(v: &Value) -> J {
    match v {
        Value::String(s) => json!(s),
        Value::Bytes(b) => json!(hex(b)),
        Value::Int(i) => json!(i.to_string()),
        Value::Float(f) => json!(format!(
            "{:016x}",
            if f.is_nan() {
                0x7ff8_0000_0000_0000
            } else {
                f.to_bits()
            }
        )),
        Value::Bool(b) => json!(b),
        Value::Date(d) => json!(d.to_string()),
        Value::Timestamp(t) => json!(t.to_string()),
        Value::Decimal(d) => json!(d.as_str()),
        Value::Json(j) => json!(j.as_str()),
        _ => unreachable!(),
    }
}

fn main() {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "testdata/vectors".into()),
    );
    std::fs::create_dir_all(&out).unwrap_or_else(|e| panic!("{e}"));

    let values: Vec<(&str, Value)> = vec![
        ("string", Value::String("ann@example.org".into())),
        ("empty string", Value::String(String::new())),
        (
            "unicode string",
            Value::String("Zoë 🔐 Ελληνικά 中文".into()),
        ),
        ("bytes", Value::Bytes(vec![0, 1, 2, 0xFF, 0xFE])),
        ("empty bytes", Value::Bytes(vec![])),
        ("int", Value::Int(42)),
        ("negative int", Value::Int(-1)),
        ("int min", Value::Int(i64::MIN)),
        ("int max", Value::Int(i64::MAX)),
        ("float", Value::Float(3.5)),
        ("negative zero", Value::Float(-0.0)),
        ("nan", Value::Float(f64::NAN)),
        ("true", Value::Bool(true)),
        ("false", Value::Bool(false)),
        (
            "date",
            Value::Date(Date::from_ymd(1985, 10, 26).unwrap_or_else(|| unreachable!())),
        ),
        (
            "date before epoch",
            Value::Date(Date::from_ymd(1969, 7, 20).unwrap_or_else(|| unreachable!())),
        ),
        (
            "timestamp",
            Value::Timestamp(
                Timestamp::new(499_162_800, 123_456_789).unwrap_or_else(|| unreachable!()),
            ),
        ),
        (
            "timestamp before epoch",
            Value::Timestamp(Timestamp::new(-1, 0).unwrap_or_else(|| unreachable!())),
        ),
        (
            "decimal",
            Value::Decimal(Decimal::new("-1234.50").unwrap_or_else(|e| panic!("{e}"))),
        ),
        (
            "json",
            Value::Json(JsonText::from_value(
                &json!({"a": [1, 2.5, null, true], "b": "x"}),
            )),
        ),
        ("long string", Value::String("0123456789abcdef".repeat(64))),
    ];
    let contexts = [
        ctx_json("customers", "email", None, None),
        ctx_json("customers", "email", Some("42"), None),
        ctx_json(
            "customers",
            "notes",
            Some("0190c1f2-7d3a-7cc4-9a2b-1f0e6a1b2c3d"),
            Some("acme"),
        ),
    ];

    let mut kat = Vec::new();
    let mut n = 0u8;
    for suite in Suite::ALL {
        for (i, (name, value)) in values.iter().enumerate() {
            n = n.wrapping_add(1);
            let key_id = [1u32, 7, 4_294_967_295][i % 3];
            let c = &contexts[i % contexts.len()];
            kat.push(known_answer(
                &format!("{} {name}", suite.slug()),
                suite,
                key_id,
                n,
                c,
                value,
            ));
        }
    }
    // Appended after the vectors above, which keep their bytes: years outside 0..=9999 (how
    // `value` writes them), JSON texts that a generic reader keeps as they are, and contexts
    // with empty or absent parts (section 6).
    let json_value =
        |text: &str| Value::Json(JsonText::new(text).unwrap_or_else(|e| panic!("{e}")));
    let more_values: Vec<(&str, Value)> = vec![
        (
            "date year 10000",
            Value::Date(Date::from_ymd(10_000, 1, 1).unwrap_or_else(|| unreachable!())),
        ),
        (
            "date year -1",
            Value::Date(Date::from_ymd(-1, 12, 31).unwrap_or_else(|| unreachable!())),
        ),
        (
            "date i32 min",
            Value::Date(Date::from_days_since_epoch(i32::MIN)),
        ),
        (
            "date i32 max",
            Value::Date(Date::from_days_since_epoch(i32::MAX)),
        ),
        ("json number beyond binary64", json_value("[1e400,-1e400]")),
        (
            "json numbers kept digit for digit",
            json_value("[123456789012345678901234567890,1.10,-0,1E+2]"),
        ),
        ("json escaped unpaired surrogate", json_value("\"\\ud800\"")),
        (
            "json duplicate member names",
            json_value("{\"a\":1,\"a\":2}"),
        ),
        (
            "json nested 127 deep",
            json_value(&format!("{}{}", "[".repeat(127), "]".repeat(127))),
        ),
    ];
    let edge_contexts = [
        (
            "empty row key",
            ctx_json("customers", "email", Some(""), None),
        ),
        (
            "tenant without a row key",
            ctx_json("customers", "email", None, Some("acme")),
        ),
        (
            "empty tenant",
            ctx_json("customers", "email", None, Some("")),
        ),
        (
            "empty row key and empty tenant",
            ctx_json("customers", "email", Some(""), Some("")),
        ),
        (
            "non-ASCII names",
            ctx_json("Kunden", "E-Mail-Adresse", Some("Zoë"), Some("Ελλάδα")),
        ),
    ];
    let mut n = 100u8;
    for suite in Suite::ALL {
        for (i, (name, value)) in more_values.iter().enumerate() {
            n = n.wrapping_add(1);
            kat.push(known_answer(
                &format!("{} {name}", suite.slug()),
                suite,
                [1u32, 7, 4_294_967_295][i % 3],
                n,
                &contexts[i % contexts.len()],
                value,
            ));
        }
        for (name, c) in &edge_contexts {
            n = n.wrapping_add(1);
            kat.push(known_answer(
                &format!("{} context: {name}", suite.slug()),
                suite,
                7,
                n,
                c,
                &Value::String("ann@example.org".into()),
            ));
        }
    }
    let payloads = json_payloads();
    let limits = context_limits();
    write(
        &out.join("envelope.json"),
        json!({
            "about": "Known-answer vectors for the fieldcrypt envelope (docs/FORMAT.md). Seal typed_plaintext with the suite under key and nonce, associated data aad (header || context encoding); envelope_binary and envelope_text are the two forms of the result. intermediate: the values of section 2 for the vector's key and nonce (l = AES_K(0^16), k1, kx, gcm_nonce = N[12:], and for KC-XAES x1 and commitment; null for XAES). Values: strings as given, bytes in hex, int in decimal, float as the hex of its IEEE 754 bits, bool as a JSON boolean, date as YYYY-MM-DD (years outside 0..=9999 with a sign and at least four digits), timestamp as RFC 3339 in UTC, decimal and json as their text. json_payloads: json payloads (the bytes after the tag) with what a generic reader and a typed reader (section 7) must do: ok, invalid_value or may_refuse. context_limits: contexts made of char repeated table_chars, column_chars, row_chars and tenant_chars times (null: absent), and whether building them succeeds (ok) or fails with invalid_context (section 6). count: the number of vectors; counts: the number of entries of each list.",
            "count": kat.len(),
            "counts": {
                "vectors": kat.len(),
                "json_payloads": payloads.len(),
                "context_limits": limits.len(),
            },
            "vectors": kat,
            "json_payloads": payloads,
            "context_limits": limits,
        }),
    );

    write(&out.join("negative.json"), negative_vectors());
    write(&out.join("blind_index.json"), blind_index_vectors());
    let (keyring_file, disagreements) = keyring_vectors();
    write(&out.join("keyring.json"), keyring_file);
    if !disagreements.is_empty() {
        eprintln!(
            "The files are written, but the reference implementation disagrees with the spec on {} vector(s):",
            disagreements.len()
        );
        for d in &disagreements {
            eprintln!("  {d}");
        }
        std::process::exit(1);
    }
}

/// One envelope known answer: `value` sealed under `key(seed)`, `nonce(seed)` and the context
/// `c`, with the intermediate values of section 2.
fn known_answer(name: &str, suite: Suite, key_id: u32, seed: u8, c: &J, value: &Value) -> J {
    let kr = keyring(suite, key_id, seed);
    let ctx = context(c);
    let nonce = nonce(seed);
    let binary = kr
        .seal_with_nonce(&ctx, value, nonce)
        .unwrap_or_else(|e| panic!("{e}"));
    let env = Envelope::parse(&binary).unwrap_or_else(|e| panic!("{e}"));
    let mut typed = vec![value.type_tag() as u8];
    fieldcrypt::Encode::encode_payload(value, &mut typed).expect("vector values encode");
    let mut aad = env.header().to_bytes().to_vec();
    aad.extend_from_slice(ctx.encoded());
    let intermediate = xaes_intermediate(
        &key(seed),
        &nonce,
        suite.commits(),
        &aad,
        &typed,
        &binary[7 + 24..],
    );
    json!({
        "name": name,
        "suite": suite.slug(),
        "key_id": key_id,
        "key": hex(&key(seed)),
        "nonce": hex(&nonce),
        "context": c,
        "aad": hex(&aad),
        "type": value.type_tag().name(),
        "value": value_json(value),
        "typed_plaintext": hex(&typed),
        "envelope_binary": hex(&binary),
        "envelope_text": env.to_text(),
        "intermediate": intermediate,
    })
}

/// AES-256 of one block, with aws-lc-rs directly (not through the crate's backend).
fn aes_block(key: &[u8; 32], block: [u8; 16]) -> [u8; 16] {
    use aws_lc_rs::cipher::{AES_256, EncryptingKey, UnboundCipherKey};
    let cipher = UnboundCipherKey::new(&AES_256, key)
        .and_then(EncryptingKey::ecb)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut out = block;
    cipher.encrypt(&mut out).unwrap_or_else(|e| panic!("{e:?}"));
    out
}

/// Doubling in GF(2^128) with CMAC's polynomial (NIST SP 800-38B).
fn dbl(block: [u8; 16]) -> [u8; 16] {
    let n = u128::from_be_bytes(block);
    let mut out = n << 1;
    if n >> 127 == 1 {
        out ^= 0x87;
    }
    out.to_be_bytes()
}

fn xor16(a: [u8; 16], b: [u8; 16]) -> [u8; 16] {
    core::array::from_fn(|i| a[i] ^ b[i])
}

/// AES-256-CMAC (RustCrypto) of the concatenation of `parts`.
fn cmac(key: &[u8; 32], parts: &[&[u8]]) -> Vec<u8> {
    use cmac::{Cmac, KeyInit, Mac};
    let mut mac = <Cmac<aes::Aes256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| panic!("32-byte CMAC key"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// Section 2's intermediate values for `key` and `nonce`, computed from the formulas, and
/// checked: Kx against CMAC, `C || T` against AES-256-GCM under Kx, the commitment against CMAC
/// and against the envelope. `sealed` is the envelope's `C || T [|| Cm]`.
fn xaes_intermediate(
    key: &[u8; 32],
    nonce: &[u8; 24],
    commits: bool,
    aad: &[u8],
    typed: &[u8],
    sealed: &[u8],
) -> J {
    let l = aes_block(key, [0; 16]);
    let k1 = dbl(l);
    let mut m1 = [0u8; 16];
    m1[..4].copy_from_slice(&[0x00, 0x01, b'X', 0x00]);
    m1[4..].copy_from_slice(&nonce[..12]);
    let mut m2 = m1;
    m2[1] = 0x02;
    let kx = [aes_block(key, xor16(m1, k1)), aes_block(key, xor16(m2, k1))].concat();
    assert_eq!(
        kx,
        [cmac(key, &[&m1[..]]), cmac(key, &[&m2[..]])].concat(),
        "Kx is the CMAC KDF"
    );
    let gcm_nonce: [u8; 12] = nonce[12..].try_into().unwrap_or([0; 12]);
    {
        use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
        let gcm = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &kx).unwrap_or_else(|e| panic!("{e:?}")),
        );
        let mut in_out = typed.to_vec();
        gcm.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(gcm_nonce),
            Aad::from(aad),
            &mut in_out,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            &in_out[..],
            &sealed[..typed.len() + 16],
            "C || T is AES-256-GCM under Kx"
        );
    }
    let (x1, commitment) = if commits {
        let mut xm = [0u8; 16];
        xm[..4].copy_from_slice(b"XCMT");
        xm[4..].copy_from_slice(&nonce[..12]);
        let x1 = aes_block(key, xm);
        let block = |i: u8| {
            let mut m = [0u8; 16];
            m[..12].copy_from_slice(&nonce[12..]);
            m[12..].copy_from_slice(&[0x00, 0x01, 0x00, i]);
            aes_block(key, xor16(xor16(x1, m), k1))
        };
        let cm = [block(1), block(2)].concat();
        let general = [
            cmac(
                key,
                &[&b"XCMT"[..], &nonce[..], &[0x00u8, 0x01, 0x00, 0x01][..]],
            ),
            cmac(
                key,
                &[&b"XCMT"[..], &nonce[..], &[0x00u8, 0x01, 0x00, 0x02][..]],
            ),
        ]
        .concat();
        assert_eq!(cm, general, "the two-block shortcut is CMAC");
        assert_eq!(
            &cm[..],
            &sealed[sealed.len() - 32..],
            "the envelope's commitment"
        );
        (Some(hex(&x1)), Some(hex(&cm)))
    } else {
        (None, None)
    };
    json!({
        "l": hex(&l),
        "k1": hex(&k1),
        "kx": hex(&kx),
        "gcm_nonce": hex(&gcm_nonce),
        "x1": x1,
        "commitment": commitment,
    })
}

/// JSON payloads (section 7) and what a generic and a typed reader must do with them: `ok`,
/// `invalid_value`, or `may_refuse` (beyond what every reader must accept). Checked against the
/// crate's generic reader (`JsonText`) and typed reader (`Json<serde_json::Value>`).
fn json_payloads() -> Vec<J> {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n)).into_bytes();
    let t = |s: &str| s.as_bytes().to_vec();
    let cases: Vec<(&str, Vec<u8>, &str, &str)> = vec![
        (
            "compact object",
            t(r#"{"a":[1,2.5,null,true],"b":"x"}"#),
            "ok",
            "ok",
        ),
        (
            "whitespace around and between tokens",
            t(" [ 1 ,\t2 ]\r\n"),
            "ok",
            "ok",
        ),
        ("number beyond binary64", t("1e400"), "ok", "may_refuse"),
        (
            "negative number beyond binary64",
            t("-1e400"),
            "ok",
            "may_refuse",
        ),
        (
            "number below binary64's smallest (rounds to 0)",
            t("1e-400"),
            "ok",
            "ok",
        ),
        (
            "integer beyond 64 bits",
            t("123456789012345678901234567890"),
            "ok",
            "ok",
        ),
        ("negative zero", t("-0"), "ok", "ok"),
        ("exponent forms", t("[1E+2,1e-2,0.5E1]"), "ok", "ok"),
        ("escaped surrogate pair", t(r#""\ud83d\udd11""#), "ok", "ok"),
        (
            "escaped unpaired high surrogate",
            t(r#""\ud800""#),
            "ok",
            "may_refuse",
        ),
        (
            "escaped unpaired low surrogate",
            t(r#""\udc00""#),
            "ok",
            "may_refuse",
        ),
        ("escaped NUL", t(r#""\u0000""#), "ok", "ok"),
        (
            "U+007F, U+0085 and U+2028 unescaped in a string",
            t("\"a\u{7f}b\u{85}c\u{2028}\""),
            "ok",
            "ok",
        ),
        (
            "duplicate member names",
            t(r#"{"a":1,"a":2}"#),
            "ok",
            "may_refuse",
        ),
        ("nested 127 deep", deep(127), "ok", "ok"),
        ("nested 128 deep", deep(128), "may_refuse", "may_refuse"),
        (
            "byte order mark",
            t("\u{feff}1"),
            "invalid_value",
            "invalid_value",
        ),
        ("NaN", t("NaN"), "invalid_value", "invalid_value"),
        ("Infinity", t("Infinity"), "invalid_value", "invalid_value"),
        (
            "trailing comma in an object",
            t(r#"{"a":1,}"#),
            "invalid_value",
            "invalid_value",
        ),
        (
            "single-quoted string",
            t("'a'"),
            "invalid_value",
            "invalid_value",
        ),
        ("two values", t("1 2"), "invalid_value", "invalid_value"),
        ("whitespace only", t(" "), "invalid_value", "invalid_value"),
        ("leading zero", t("01"), "invalid_value", "invalid_value"),
        (
            "fraction without digits",
            t("1."),
            "invalid_value",
            "invalid_value",
        ),
        ("leading plus", t("+1"), "invalid_value", "invalid_value"),
        ("leading point", t(".5"), "invalid_value", "invalid_value"),
        (
            "unescaped tab in a string",
            t("\"a\tb\""),
            "invalid_value",
            "invalid_value",
        ),
        (
            "unknown escape",
            t(r#""\x""#),
            "invalid_value",
            "invalid_value",
        ),
        (
            "short unicode escape",
            t(r#""\u12""#),
            "invalid_value",
            "invalid_value",
        ),
        (
            "unterminated string",
            t("\"abc"),
            "invalid_value",
            "invalid_value",
        ),
        (
            "form feed as whitespace",
            t("\u{c}1"),
            "invalid_value",
            "invalid_value",
        ),
        (
            "no-break space as whitespace",
            t("\u{a0}1"),
            "invalid_value",
            "invalid_value",
        ),
        ("comment", t("/*c*/1"), "invalid_value", "invalid_value"),
        (
            "unbalanced brackets",
            t("[1}"),
            "invalid_value",
            "invalid_value",
        ),
        (
            "member name not a string",
            t("{1:2}"),
            "invalid_value",
            "invalid_value",
        ),
        (
            "truncated literal",
            t("tru"),
            "invalid_value",
            "invalid_value",
        ),
        (
            "invalid UTF-8 in a string",
            vec![0x22, 0xff, 0x22],
            "invalid_value",
            "invalid_value",
        ),
        (
            "UTF-8-encoded surrogate in a string",
            vec![0x22, 0xed, 0xa0, 0x80, 0x22],
            "invalid_value",
            "invalid_value",
        ),
    ];
    cases
        .into_iter()
        .map(|(name, payload, generic, typed)| {
            let mut buf = payload.clone();
            let got_generic = match <JsonText as Decode>::decode_payload(TypeTag::Json, &mut buf) {
                Ok(text) => {
                    assert_eq!(
                        text.as_str().as_bytes(),
                        &payload[..],
                        "{name}: kept as it is"
                    );
                    "ok"
                }
                Err(Error::InvalidValue(_)) => "invalid_value",
                Err(e) => panic!("json payload {name}: {e}"),
            };
            let mut buf = payload.clone();
            let got_typed = match <Json<J> as Decode>::decode_payload(TypeTag::Json, &mut buf) {
                Ok(_) => "ok",
                Err(Error::InvalidValue(_)) => "invalid_value",
                Err(e) => panic!("json payload {name}: {e}"),
            };
            for (reader, want, got) in [
                ("generic", generic, got_generic),
                ("typed", typed, got_typed),
            ] {
                assert!(
                    want == got || want == "may_refuse",
                    "json payload {name}: the {reader} reader gives {got}, the spec says {want}"
                );
            }
            let text = String::from_utf8(payload.clone()).ok();
            json!({
                "name": name,
                "payload_hex": hex(&payload),
                "payload": text,
                "generic": generic,
                "typed": typed,
            })
        })
        .collect()
}

/// Contexts at and beyond section 6's limits, built from `char` repeated; `expect` is `ok` or
/// `invalid_context`, checked against `Context`.
fn context_limits() -> Vec<J> {
    type Case<'a> = (
        &'a str,
        &'a str,
        usize,
        usize,
        Option<usize>,
        Option<usize>,
        &'a str,
    );
    let cases: [Case<'_>; 15] = [
        ("table of 0 bytes", "a", 0, 1, None, None, "invalid_context"),
        ("table of 1 byte", "a", 1, 1, None, None, "ok"),
        ("table of 1024 bytes", "a", 1024, 1, None, None, "ok"),
        (
            "table of 1025 bytes",
            "a",
            1025,
            1,
            None,
            None,
            "invalid_context",
        ),
        (
            "column of 0 bytes",
            "a",
            1,
            0,
            None,
            None,
            "invalid_context",
        ),
        ("column of 1024 bytes", "a", 1, 1024, None, None, "ok"),
        (
            "table and column of 1024 bytes in two-byte characters",
            "é",
            512,
            512,
            None,
            None,
            "ok",
        ),
        (
            "column of 1026 bytes in two-byte characters",
            "é",
            1,
            513,
            None,
            None,
            "invalid_context",
        ),
        ("empty row key", "a", 1, 1, Some(0), None, "ok"),
        (
            "row key of 65536 bytes",
            "a",
            1,
            1,
            Some(65_536),
            None,
            "ok",
        ),
        (
            "row key of 65537 bytes",
            "a",
            1,
            1,
            Some(65_537),
            None,
            "invalid_context",
        ),
        ("empty tenant", "a", 1, 1, None, Some(0), "ok"),
        ("tenant of 65536 bytes", "a", 1, 1, None, Some(65_536), "ok"),
        (
            "tenant of 65537 bytes",
            "a",
            1,
            1,
            None,
            Some(65_537),
            "invalid_context",
        ),
        (
            "row key of 65536 bytes and tenant of 131074 bytes, in two-byte characters",
            "é",
            1,
            1,
            Some(32_768),
            Some(65_537),
            "invalid_context",
        ),
    ];
    cases
        .iter()
        .map(|&(name, ch, table, column, row, tenant, expect)| {
            let s = |n: usize| ch.repeat(n);
            let built = Context::new(s(table), s(column))
                .and_then(|c| match row {
                    Some(n) => c.with_row(s(n)),
                    None => Ok(c),
                })
                .and_then(|c| match tenant {
                    Some(n) => c.with_tenant(s(n)),
                    None => Ok(c),
                });
            let got = match built {
                Ok(_) => "ok",
                Err(Error::InvalidContext(_)) => "invalid_context",
                Err(e) => panic!("context {name}: {e}"),
            };
            assert_eq!(got, expect, "context {name}");
            json!({
                "name": name,
                "char": ch,
                "table_chars": table,
                "column_chars": column,
                "row_chars": row,
                "tenant_chars": tenant,
                "expect": expect,
            })
        })
        .collect()
}

/// `{ value of member: how many }` over `list`.
fn counts_by(list: &[J], member: &str) -> J {
    let mut counts = BTreeMap::<String, usize>::new();
    for v in list {
        *counts
            .entry(v[member].as_str().unwrap_or("null").to_owned())
            .or_default() += 1;
    }
    json!(counts)
}

fn negative_vectors() -> J {
    let kr = keyring(Suite::KcXaes256Gcm, 7, 200);
    let c = ctx_json("customers", "email", Some("42"), None);
    let ctx = context(&c);
    let good = kr
        .seal_with_nonce(&ctx, "ann@example.org", nonce(200))
        .unwrap_or_else(|e| panic!("{e}"));
    let good_text = Envelope::parse(&good)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_text();
    let xkr = keyring(Suite::Xaes256Gcm, 7, 200);
    let xgood = xkr
        .seal_with_nonce(&ctx, "ann@example.org", nonce(200))
        .unwrap_or_else(|e| panic!("{e}"));
    let xgood_text = Envelope::parse(&xgood)
        .unwrap_or_else(|e| panic!("{e}"))
        .to_text();
    // `seal_raw` (for the invalid payloads below) seals exactly as the keyring does.
    for (suite, sealed) in [(Suite::KcXaes256Gcm, &good), (Suite::Xaes256Gcm, &xgood)] {
        assert_eq!(
            &seal_raw(
                suite,
                7,
                &key(200),
                &ctx,
                b"\x01ann@example.org",
                &nonce(200)
            ),
            sealed,
            "seal_raw differs from Keyring::seal_with_nonce"
        );
    }
    let mut v: Vec<J> = Vec::new();
    let mut bin = |name: String, bytes: Vec<u8>, expect: &str| {
        v.push(json!({"name": name, "form": "binary", "input": hex(&bytes), "expect": expect}));
    };

    // Truncations at every region boundary and a few inside.
    let len = good.len();
    for cut in [
        0usize,
        1,
        2,
        3,
        6,
        7,
        8,
        20,
        30,
        31,
        32,
        len - 49,
        len - 48,
        len - 33,
        len - 32,
        len - 1,
    ] {
        let expect = if cut < 31 + 1 + 48 {
            "malformed"
        } else {
            "cannot_open"
        };
        bin(
            format!("binary truncated to {cut} bytes"),
            good[..cut].to_vec(),
            expect,
        );
    }
    // Header fields.
    for (byte, name, expect) in [
        (0x00u8, "magic 0x00", "malformed"),
        (0x66, "magic 'f' with binary body", "malformed"),
    ] {
        let mut b = good.clone();
        b[0] = byte;
        bin(format!("bad {name}"), b, expect);
    }
    for version in [0x00u8, 0x02, 0xFF] {
        let mut b = good.clone();
        b[1] = version;
        bin(
            format!("unsupported version {version:#04x}"),
            b,
            "malformed",
        );
    }
    for suite in [0x00u8, 0x03, 0x7F, 0xFF] {
        let mut b = good.clone();
        b[2] = suite;
        bin(format!("unknown algorithm {suite:#04x}"), b, "malformed");
    }
    {
        let mut b = good.clone();
        b[2] = 0x02;
        bin(
            "algorithm relabelled KC to non-committing".into(),
            b,
            "cannot_open",
        );
        let mut b = xgood.clone();
        b[2] = 0x01;
        bin(
            "algorithm relabelled non-committing to KC (too short for KC)".into(),
            b,
            "malformed",
        );
    }
    {
        let mut b = good.clone();
        b[3..7].copy_from_slice(&[0, 0, 0, 0]);
        bin("key id 0".into(), b, "malformed");
        let mut b = good.clone();
        b[3..7].copy_from_slice(&8u32.to_be_bytes());
        bin("unknown key id 8".into(), b, "unknown_key");
    }
    // A flipped bit in every byte after the header: nonce, ciphertext, tag, commitment.
    for (region, start, end) in [
        ("nonce", 7, 31),
        ("ciphertext", 31, len - 48),
        ("tag", len - 48, len - 32),
        ("commitment", len - 32, len),
    ] {
        for i in (start..end).step_by(if end - start > 8 { 3 } else { 1 }) {
            let mut b = good.clone();
            b[i] ^= 1 << (i % 8);
            bin(
                format!("bit {} flipped in {region} byte {}", i % 8, i - start),
                b,
                "cannot_open",
            );
        }
    }
    for (name, tail) in [("one zero byte", vec![0u8]), ("32 bytes", vec![0xAB; 32])] {
        let mut b = good.clone();
        b.extend_from_slice(&tail);
        bin(format!("trailing {name}"), b, "cannot_open");
    }

    let mut text = |name: &str, s: String, expect: &str| {
        v.push(json!({"name": name, "form": "text", "input": s, "expect": expect}));
    };
    let (prefix, body) = good_text.split_at(good_text.find('.').unwrap_or(0) + 1);
    text(
        "text: upper-case prefix",
        format!("FC{}", &good_text[2..]),
        "malformed",
    );
    text(
        "text: version 2",
        good_text.replacen("fc1", "fc2", 1),
        "malformed",
    );
    text(
        "text: version not a digit",
        good_text.replacen("fc1", "fcx", 1),
        "malformed",
    );
    text(
        "text: unknown algorithm letter",
        good_text.replacen("fc1c", "fc1z", 1),
        "malformed",
    );
    text(
        "text: relabelled non-committing",
        good_text.replacen("fc1c", "fc1x", 1),
        "cannot_open",
    );
    text(
        "text: key id with leading zero",
        good_text.replacen("c7.", "c07.", 1),
        "malformed",
    );
    text(
        "text: key id 0",
        good_text.replacen("c7.", "c0.", 1),
        "malformed",
    );
    text(
        "text: key id above u32",
        good_text.replacen("c7.", "c4294967296.", 1),
        "malformed",
    );
    text(
        "text: key id not a number",
        good_text.replacen("c7.", "c7a.", 1),
        "malformed",
    );
    text(
        "text: unknown key id",
        good_text.replacen("c7.", "c9.", 1),
        "unknown_key",
    );
    text(
        "text: no separator",
        good_text.replacen("c7.", "c7", 1),
        "malformed",
    );
    text("text: prefix only", prefix.to_owned(), "malformed");
    text("text: empty", String::new(), "malformed");
    // Inputs that end inside the prefix (section 8.3 step 1.3): malformed, never a panic.
    for short in ["fc", "fc1", "fc1c", "fc1c7"] {
        text(
            format!("text: {short:?} alone").as_str(),
            short.to_owned(),
            "malformed",
        );
    }
    text("text: padding", format!("{good_text}="), "malformed");
    text(
        "text: trailing newline",
        format!("{good_text}\n"),
        "malformed",
    );
    text("text: inner space", format!("{prefix} {body}"), "malformed");
    text(
        "text: standard base64 alphabet",
        format!("{prefix}{}", body.replace('-', "+").replace('_', "/"))
            .replace(&good_text, "fc1c7.+"),
        "malformed",
    );
    text(
        "text: illegal character",
        format!("{prefix}!{}", &body[1..]),
        "malformed",
    );
    // One more character: canonical (and so one more body byte, which fails authentication)
    // unless it makes the length 1 modulo 4.
    if (body.len() + 1) % 4 == 1 {
        text(
            "text: trailing character (length 1 mod 4)",
            format!("{good_text}A"),
            "malformed",
        );
    } else {
        text(
            "text: trailing character (decodes to one extra byte)",
            format!("{good_text}A"),
            "cannot_open",
        );
    }
    text(
        "text: trailing characters (extra bytes)",
        format!("{good_text}AAAA"),
        "cannot_open",
    );
    text(
        "text: truncated body",
        format!("{prefix}{}", &body[..40]),
        "malformed",
    );
    text(
        "text: last character changed",
        last_char_changed(&good_text),
        "cannot_open",
    );
    // Non-canonical base64: the final character's unused bits set.
    if let Some(s) = non_canonical_last(&good_text, body.len()) {
        text("text: non-canonical final base64 character", s, "malformed");
    }

    // Context and key mismatches: well-formed, correct envelope, wrong surroundings.
    let mut others = Vec::new();
    for (name, other) in [
        ("wrong table", ctx_json("staff", "email", Some("42"), None)),
        (
            "wrong column",
            ctx_json("customers", "phone", Some("42"), None),
        ),
        (
            "wrong row",
            ctx_json("customers", "email", Some("43"), None),
        ),
        ("row missing", ctx_json("customers", "email", None, None)),
        (
            "tenant added",
            ctx_json("customers", "email", Some("42"), Some("acme")),
        ),
        (
            "row key as empty string",
            ctx_json("customers", "email", Some(""), None),
        ),
    ] {
        others.push(json!({"name": format!("context: {name}"), "form": "binary", "input": hex(&good), "context": other, "expect": "cannot_open"}));
    }
    others.push(json!({"name": "wrong key (same id)", "form": "binary", "input": hex(&good), "key": hex(&key(201)), "expect": "cannot_open"}));
    others.push(json!({"name": "opened as int", "form": "binary", "input": hex(&good), "open_as": "int", "expect": "type_mismatch"}));
    others.push(json!({"name": "opened as bytes", "form": "text", "input": good_text, "open_as": "bytes", "expect": "type_mismatch"}));
    v.extend(others);

    // The text form, more: base64 length and alphabet, padding, case, key ids.
    let text_cases = [
        (
            "text: body length 1 mod 4 (characters appended)",
            format!("{good_text}{}", "A".repeat((5 - body.len() % 4) % 4)),
            "malformed",
        ),
        (
            "text: body length 1 mod 4 (characters removed)",
            good_text[..good_text.len() - (body.len() % 4 + 3) % 4].to_owned(),
            "malformed",
        ),
        (
            "text: standard '=' padding to a multiple of 4",
            format!("{good_text}{}", "=".repeat((4 - body.len() % 4) % 4)),
            "malformed",
        ),
        (
            "text: '+' (standard alphabet) as the first body character",
            format!("{prefix}+{}", &body[1..]),
            "malformed",
        ),
        (
            "text: '/' (standard alphabet) as the first body character",
            format!("{prefix}/{}", &body[1..]),
            "malformed",
        ),
        (
            "text: whole prefix upper case (FC1C7.)",
            good_text.replacen("fc1c7.", "FC1C7.", 1),
            "malformed",
        ),
        (
            "text: upper-case algorithm letter (fc1C7.)",
            good_text.replacen("fc1c7.", "fc1C7.", 1),
            "malformed",
        ),
        (
            "text: key id 00",
            good_text.replacen("c7.", "c00.", 1),
            "malformed",
        ),
        (
            "text: key id empty",
            good_text.replacen("c7.", "c.", 1),
            "malformed",
        ),
        (
            "text: key id with a sign (+7)",
            good_text.replacen("c7.", "c+7.", 1),
            "malformed",
        ),
        (
            "text: key id of 11 digits",
            good_text.replacen("c7.", "c42949672950.", 1),
            "malformed",
        ),
        (
            "text: key id 4294967295 (the largest; not in the keyring)",
            good_text.replacen("c7.", "c4294967295.", 1),
            "unknown_key",
        ),
    ];
    for (name, input, expect) in text_cases {
        v.push(vector(name, "text", input, expect, json!({})));
    }

    // XAES-256-GCM (not committing): every region, truncations, context, key, type.
    let xs = Suite::Xaes256Gcm.slug();
    let xlen = xgood.len();
    let xmin = 31 + 1 + 16;
    for i in 0..7usize {
        let mut b = xgood.clone();
        b[i] ^= 1 << i;
        // Magic, version, algorithm: no longer parses. Key id: another id (never 0, from 7),
        // looked up before any cryptography.
        let expect = if i < 3 { "malformed" } else { "unknown_key" };
        v.push(vector(
            format!("xaes: bit {i} flipped in header byte {i}"),
            "binary",
            hex(&b),
            expect,
            json!({ "suite": xs }),
        ));
    }
    for cut in [
        0usize,
        1,
        6,
        7,
        8,
        30,
        31,
        32,
        xmin - 2,
        xmin - 1,
        xmin,
        xlen - 1,
    ] {
        let expect = if cut < xmin {
            "malformed"
        } else {
            "cannot_open"
        };
        v.push(vector(
            format!("xaes: binary truncated to {cut} bytes"),
            "binary",
            hex(&xgood[..cut]),
            expect,
            json!({ "suite": xs }),
        ));
    }
    for (region, start, end) in [
        ("nonce", 7, 31),
        ("ciphertext", 31, xlen - 16),
        ("tag", xlen - 16, xlen),
    ] {
        for i in (start..end).step_by(if end - start > 8 { 3 } else { 1 }) {
            let mut b = xgood.clone();
            b[i] ^= 1 << (i % 8);
            v.push(vector(
                format!("xaes: bit {} flipped in {region} byte {}", i % 8, i - start),
                "binary",
                hex(&b),
                "cannot_open",
                json!({ "suite": xs }),
            ));
        }
    }
    {
        let mut b = xgood.clone();
        b.push(0);
        v.push(vector(
            "xaes: trailing one zero byte",
            "binary",
            hex(&b),
            "cannot_open",
            json!({ "suite": xs }),
        ));
    }
    v.push(vector(
        "xaes: opened with a kc-xaes-256-gcm key of the same id and material",
        "binary",
        hex(&xgood),
        "cannot_open",
        json!({}),
    ));
    for (name, other) in [
        ("wrong table", ctx_json("staff", "email", Some("42"), None)),
        (
            "wrong row",
            ctx_json("customers", "email", Some("43"), None),
        ),
        ("row missing", ctx_json("customers", "email", None, None)),
        (
            "tenant added",
            ctx_json("customers", "email", Some("42"), Some("acme")),
        ),
    ] {
        v.push(vector(
            format!("xaes: context: {name}"),
            "binary",
            hex(&xgood),
            "cannot_open",
            json!({ "suite": xs, "context": other }),
        ));
    }
    v.push(vector(
        "xaes: wrong key (same id)",
        "binary",
        hex(&xgood),
        "cannot_open",
        json!({ "suite": xs, "key": hex(&key(201)) }),
    ));
    v.push(vector(
        "xaes: opened as int",
        "binary",
        hex(&xgood),
        "type_mismatch",
        json!({ "suite": xs, "open_as": "int" }),
    ));
    let (xprefix, xbody) = xgood_text.split_at(xgood_text.find('.').unwrap_or(0) + 1);
    let mut xtext_cases = vec![
        (
            "xaes text: relabelled KC (too short for KC)",
            xgood_text.replacen("fc1x", "fc1c", 1),
            "malformed",
        ),
        (
            "xaes text: upper-case prefix (FC1X7.)",
            xgood_text.replacen("fc1x7.", "FC1X7.", 1),
            "malformed",
        ),
        (
            "xaes text: unknown key id",
            xgood_text.replacen("x7.", "x9.", 1),
            "unknown_key",
        ),
        (
            "xaes text: truncated body",
            format!("{xprefix}{}", &xbody[..40]),
            "malformed",
        ),
        (
            "xaes text: body length 1 mod 4 (characters appended)",
            format!("{xgood_text}{}", "A".repeat((5 - xbody.len() % 4) % 4)),
            "malformed",
        ),
        (
            "xaes text: last character changed",
            last_char_changed(&xgood_text),
            "cannot_open",
        ),
    ];
    if let Some(s) = non_canonical_last(&xgood_text, xbody.len()) {
        xtext_cases.push((
            "xaes text: non-canonical final base64 character",
            s,
            "malformed",
        ));
    }
    for (name, input, expect) in xtext_cases {
        v.push(vector(name, "text", input, expect, json!({ "suite": xs })));
    }

    // Retired keys: the id stays in the keyring as a tombstone, its material is gone. Looked up
    // by id before any cryptography, like an unknown key.
    v.push(vector(
        "retired key: the valid envelope after key 7 was retired",
        "binary",
        hex(&good),
        "retired_key",
        json!({ "retired_key_ids": [7] }),
    ));
    v.push(vector(
        "retired key: the valid text envelope after key 7 was retired",
        "text",
        good_text.clone(),
        "retired_key",
        json!({ "retired_key_ids": [7] }),
    ));
    v.push(vector(
        "retired key: xaes envelope after key 7 was retired",
        "binary",
        hex(&xgood),
        "retired_key",
        json!({ "suite": xs, "retired_key_ids": [7] }),
    ));
    {
        let mut b = good.clone();
        b[3..7].copy_from_slice(&5u32.to_be_bytes());
        v.push(vector(
            "retired key: header relabelled to retired key 5",
            "binary",
            hex(&b),
            "retired_key",
            json!({ "retired_key_ids": [5] }),
        ));
        b[3..7].copy_from_slice(&9u32.to_be_bytes());
        v.push(vector(
            "retired key 5 in the keyring: key 9 is still unknown",
            "binary",
            hex(&b),
            "unknown_key",
            json!({ "retired_key_ids": [5] }),
        ));
    }
    v.push(vector(
        "retired key: text prefix relabelled to retired key 5",
        "text",
        good_text.replacen("c7.", "c5.", 1),
        "retired_key",
        json!({ "retired_key_ids": [5] }),
    ));

    // Authentic envelopes around invalid typed plaintext (section 7): sealed under the right key
    // and context, so authentication succeeds, and then the payload must be refused.
    let nan = |bits: u64| tagged(0x04, &bits.to_be_bytes());
    let bad = |name, open_as, typed| (name, typed, open_as, "invalid_value");
    let payloads = [
        bad("unassigned type tag 0x00", "string", tagged(0x00, b"ann")),
        bad("unassigned type tag 0x0a", "string", tagged(0x0A, b"ann")),
        bad("unassigned type tag 0xff", "string", tagged(0xFF, b"ann")),
        bad("unassigned type tag 0x0a, no payload", "value", vec![0x0A]),
        (
            "empty plaintext, no type tag (body below the minimum length)",
            vec![],
            "string",
            "malformed",
        ),
        bad(
            "int of 7 bytes",
            "int",
            tagged(0x03, &[0, 0, 0, 0, 0, 0, 42]),
        ),
        bad(
            "int of 9 bytes",
            "int",
            tagged(0x03, &[0, 0, 0, 0, 0, 0, 0, 0, 42]),
        ),
        bad("int with no payload", "int", vec![0x03]),
        (
            "int of 7 bytes opened as string (the tag is checked first)",
            tagged(0x03, &[0, 0, 0, 0, 0, 0, 42]),
            "string",
            "type_mismatch",
        ),
        bad(
            "float NaN 7ff8000000000001",
            "float",
            nan(0x7ff8_0000_0000_0001),
        ),
        bad(
            "float NaN fff8000000000000 (sign bit set)",
            "float",
            nan(0xfff8_0000_0000_0000),
        ),
        bad(
            "float signalling NaN 7ff0000000000001",
            "float",
            nan(0x7ff0_0000_0000_0001),
        ),
        bad(
            "float NaN 7fffffffffffffff",
            "float",
            nan(0x7fff_ffff_ffff_ffff),
        ),
        bad(
            "float of 4 bytes",
            "float",
            tagged(0x04, &1.5f32.to_bits().to_be_bytes()),
        ),
        bad("bool 0x02", "bool", tagged(0x05, &[0x02])),
        bad("bool 0xff", "bool", tagged(0x05, &[0xFF])),
        bad("bool of 2 bytes", "bool", tagged(0x05, &[0x01, 0x00])),
        bad("bool with no payload", "bool", vec![0x05]),
        bad(
            "string: lone continuation byte",
            "string",
            tagged(0x01, &[b'a', 0x80]),
        ),
        bad(
            "string: truncated two-byte sequence",
            "string",
            tagged(0x01, &[b'a', 0xC3]),
        ),
        bad(
            "string: overlong encoding of '/'",
            "string",
            tagged(0x01, &[0xC0, 0xAF]),
        ),
        bad(
            "string: encoded surrogate U+D800",
            "string",
            tagged(0x01, &[0xED, 0xA0, 0x80]),
        ),
        bad(
            "string: code point above U+10FFFF",
            "string",
            tagged(0x01, &[0xF4, 0x90, 0x80, 0x80]),
        ),
        bad("string: byte 0xff", "string", tagged(0x01, &[0xFF])),
        bad(
            "decimal \"01.5\" (leading zero)",
            "decimal",
            tagged(0x08, b"01.5"),
        ),
        bad(
            "decimal \"1.\" (no digit after the point)",
            "decimal",
            tagged(0x08, b"1."),
        ),
        bad("decimal \"+1\" (sign)", "decimal", tagged(0x08, b"+1")),
        bad(
            "decimal \".5\" (no integer part)",
            "decimal",
            tagged(0x08, b".5"),
        ),
        bad(
            "decimal \"-0\" (negative zero)",
            "decimal",
            tagged(0x08, b"-0"),
        ),
        bad(
            "decimal \"-0.00\" (negative zero)",
            "decimal",
            tagged(0x08, b"-0.00"),
        ),
        bad(
            "decimal \"1e5\" (exponent)",
            "decimal",
            tagged(0x08, b"1e5"),
        ),
        bad("decimal \" 1\" (space)", "decimal", tagged(0x08, b" 1")),
        bad("decimal \"1,5\" (comma)", "decimal", tagged(0x08, b"1,5")),
        bad(
            "decimal, fullwidth digit (not ASCII)",
            "decimal",
            tagged(0x08, "\u{FF11}".as_bytes()),
        ),
        bad("decimal with no payload", "decimal", vec![0x08]),
        bad(
            "timestamp nanos 1000000000",
            "timestamp",
            timestamp_payload(0, 1_000_000_000),
        ),
        bad(
            "timestamp nanos 4294967295",
            "timestamp",
            timestamp_payload(-1, u32::MAX),
        ),
        bad(
            "timestamp of 11 bytes",
            "timestamp",
            timestamp_payload(0, 0)[..12].to_vec(),
        ),
        bad("timestamp of 13 bytes", "timestamp", tagged(0x07, &[0; 13])),
        bad("date of 3 bytes", "date", tagged(0x06, &[0, 0, 1])),
        bad("date of 5 bytes", "date", tagged(0x06, &[0, 0, 0, 0, 1])),
        bad("date with no payload", "date", vec![0x06]),
        bad("json: unterminated object", "json", tagged(0x09, b"{")),
        bad("json: no payload", "json", vec![0x09]),
        bad(
            "json: single-quoted member name",
            "json",
            tagged(0x09, b"{'a':1}"),
        ),
        bad("json: trailing comma", "json", tagged(0x09, b"[1,]")),
        bad("json: NaN literal", "json", tagged(0x09, b"NaN")),
        bad(
            "json: number with a leading zero",
            "json",
            tagged(0x09, b"01"),
        ),
        bad("json: two values", "json", tagged(0x09, b"1 2")),
        bad(
            "json: invalid UTF-8 in a string",
            "json",
            tagged(0x09, b"\"\xFF\""),
        ),
    ];
    for (i, (name, typed, open_as, expect)) in payloads.iter().enumerate() {
        let b = seal_raw(
            Suite::KcXaes256Gcm,
            7,
            &key(200),
            &ctx,
            typed,
            &nonce(100 + i as u8),
        );
        v.push(vector(
            format!("payload: {name}"),
            "binary",
            hex(&b),
            expect,
            json!({ "open_as": open_as, "typed_plaintext": hex(typed) }),
        ));
    }
    // A few in the text form and under XAES-256-GCM.
    let more: [(&str, Suite, &str, Vec<u8>, &str); 4] = [
        (
            "payload (text form): unassigned type tag 0xff",
            Suite::KcXaes256Gcm,
            "text",
            tagged(0xFF, b"ann"),
            "string",
        ),
        (
            "payload (text form): bool 0x02",
            Suite::KcXaes256Gcm,
            "text",
            tagged(0x05, &[0x02]),
            "bool",
        ),
        (
            "xaes payload: unassigned type tag 0x00",
            Suite::Xaes256Gcm,
            "binary",
            tagged(0x00, b"ann"),
            "string",
        ),
        (
            "xaes payload: int of 7 bytes",
            Suite::Xaes256Gcm,
            "binary",
            tagged(0x03, &[0, 0, 0, 0, 0, 0, 42]),
            "int",
        ),
    ];
    for (i, (name, suite, form, typed, open_as)) in more.iter().enumerate() {
        let b = seal_raw(*suite, 7, &key(200), &ctx, typed, &nonce(160 + i as u8));
        let input = if *form == "text" {
            Envelope::parse(&b)
                .unwrap_or_else(|e| panic!("{e}"))
                .to_text()
        } else {
            hex(&b)
        };
        v.push(vector(
            *name,
            form,
            input,
            "invalid_value",
            json!({ "suite": suite.slug(), "open_as": open_as, "typed_plaintext": hex(typed) }),
        ));
    }

    json!({
        "about": "Inputs that must not open. Unless a vector says otherwise, open under suite kc-xaes-256-gcm, key id 7, the key below, context below, as a string. A vector may say otherwise with: suite (the algorithm of key 7), key, context, open_as (a section 7 type name, or value: whichever type it holds), retired_key_ids (ids the keyring holds as retired tombstones, without material; 7 among them means key 7 is retired). count: the number of vectors; counts: how many expect each class. typed_plaintext, where present, is what the envelope decrypts to (hex). expect: malformed (a parse error before any cryptography), unknown_key (well-formed, names a key the keyring lacks), retired_key (well-formed, names a retired key; a reader that does not tell retired from unknown reports unknown_key), cannot_open (authentication fails), type_mismatch (opens, but holds another type than asked for), invalid_value (authenticates, but the typed plaintext breaks section 7 or its tag is unassigned; also when opened as whichever type it holds).",
        "key_id": 7,
        "suite": "kc-xaes-256-gcm",
        "key": hex(&key(200)),
        "context": c,
        "valid_envelope_binary": hex(&good),
        "valid_envelope_text": good_text,
        "valid_envelopes": [
            { "suite": Suite::KcXaes256Gcm.slug(), "binary": hex(&good), "text": good_text },
            { "suite": xs, "binary": hex(&xgood), "text": xgood_text },
        ],
        "count": v.len(),
        "counts": counts_by(&v, "expect"),
        "vectors": v,
    })
}

/// A negative vector: `name`, `form`, `input`, `expect`, and the members of `extra` (`suite`,
/// `key`, `context`, `open_as`, `retired_key_ids`, `typed_plaintext`).
fn vector(name: impl Into<String>, form: &str, input: String, expect: &str, extra: J) -> J {
    let mut v = json!({ "name": name.into(), "form": form, "input": input, "expect": expect });
    if let (Some(map), J::Object(extra)) = (v.as_object_mut(), extra) {
        map.extend(extra);
    }
    v
}

/// Seals raw typed plaintext (`tag || payload`, valid or not) as `Keyring::seal_with_nonce`
/// seals a value, through the public AEAD API: for payloads the crate's encoders never write.
fn seal_raw(
    suite: Suite,
    key_id: u32,
    key: &[u8; 32],
    ctx: &Context,
    typed: &[u8],
    nonce: &[u8; 24],
) -> Vec<u8> {
    let header = Header {
        suite,
        key_id: KeyId::new(key_id).unwrap_or_else(|| unreachable!()),
    };
    let mut aad = header.to_bytes().to_vec();
    aad.extend_from_slice(ctx.encoded());
    let sealed = match suite {
        Suite::KcXaes256Gcm => fieldcrypt::aead::KcXaes256Gcm::new(key).seal(nonce, &aad, typed),
        Suite::Xaes256Gcm => fieldcrypt::aead::Xaes256Gcm::new(key).seal(nonce, &aad, typed),
        _ => unreachable!(),
    };
    let mut out = header.to_bytes().to_vec();
    out.extend_from_slice(nonce);
    out.extend_from_slice(&sealed);
    out
}

/// A type tag byte followed by a payload.
fn tagged(tag: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    out.extend_from_slice(payload);
    out
}

/// A timestamp's typed plaintext with any `nanos`, in range or not.
fn timestamp_payload(seconds: i64, nanos: u32) -> Vec<u8> {
    let mut out = vec![0x07];
    out.extend_from_slice(&seconds.to_be_bytes());
    out.extend_from_slice(&nanos.to_be_bytes());
    out
}

const B64URL: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A text envelope with its final character replaced by another canonical one (`A` or `Q`: the
/// unused low bits stay zero), so the last body byte changes.
fn last_char_changed(text: &str) -> String {
    format!(
        "{}{}",
        &text[..text.len() - 1],
        if text.ends_with('A') { 'Q' } else { 'A' }
    )
}

/// A text envelope whose final base64url character has an unused low bit set: the same bytes,
/// non-canonically encoded. `None` when the body (`body_len` characters) leaves no unused bits.
fn non_canonical_last(text: &str, body_len: usize) -> Option<String> {
    if body_len.is_multiple_of(4) {
        return None;
    }
    let last = text.chars().next_back()?;
    let idx = B64URL.find(last)?;
    let tweaked = B64URL.as_bytes()[idx | 1] as char;
    (tweaked != last).then(|| format!("{}{tweaked}", &text[..text.len() - 1]))
}

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
fn keyring_vectors() -> (J, Vec<String>) {
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
fn kek_wrap_context(keyring: KeyringId) -> Vec<u8> {
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

/// A configured local provider and the pins (section 10.6).
struct LocalConfig {
    master: [u8; 32],
    min_generation: Option<u64>,
    keyring_id: Option<String>,
}

/// `base` with the members `overrides` gives (`master_key`, `min_generation`, `keyring_id`).
fn apply_config(base: &LocalConfig, overrides: &J) -> LocalConfig {
    let key32 = |v: &J| -> [u8; 32] {
        let text = v.as_str().unwrap_or_default();
        let bytes: Vec<u8> = (0..text.len() / 2)
            .map(|i| {
                u8::from_str_radix(&text[2 * i..2 * i + 2], 16).unwrap_or_else(|e| panic!("{e}"))
            })
            .collect();
        bytes
            .try_into()
            .unwrap_or_else(|_| panic!("a 32-byte key in hex"))
    };
    LocalConfig {
        master: overrides.get("master_key").map_or(base.master, key32),
        min_generation: overrides
            .get("min_generation")
            .map_or(base.min_generation, J::as_u64),
        keyring_id: overrides
            .get("keyring_id")
            .map_or(base.keyring_id.clone(), |v| v.as_str().map(str::to_owned)),
    }
}

/// How a reader configured with `config` takes `document`: every step of section 10.6. The
/// provider steps mirror `fieldcrypt_kms::UnlockedKeyring::open_pinned` with a `MasterKeyFile`
/// (this crate cannot call it; `fieldcrypt-kms`'s tests should read `provider_documents` through
/// it), then `Keyring::from_document` with the unwrapped KEK.
fn provider_document_class(document: &J, config: &LocalConfig) -> &'static str {
    let Ok(doc) = serde_json::from_value::<KeyringDocument>(document.clone()) else {
        return "invalid_document";
    };
    let Ok(id) = doc.keyring_id.parse::<KeyringId>() else {
        return "invalid_document";
    };
    if config
        .keyring_id
        .as_ref()
        .is_some_and(|pinned| *pinned != doc.keyring_id)
    {
        return "not_pinned";
    }
    let generation = match doc.kek.settings.get("generation") {
        None => Some(0),
        Some(v) => v.as_u64(),
    };
    let Some(generation) = generation else {
        return "invalid_document";
    };
    if config.min_generation.is_some_and(|min| generation < min) {
        return "rolled_back";
    }
    if doc.kek.provider != "local" {
        return "provider_mismatch";
    }
    // The configured provider records `path` (informational, not compared) and
    // `key_fingerprint`, the fingerprint of the configured master key.
    let master = LocalKek::new(&SecretKey::from_bytes(config.master));
    if doc.kek.settings.get("key_fingerprint") != Some(&json!(master.fingerprint())) {
        return "provider_mismatch";
    }
    let Some(wrapped) = doc
        .kek
        .settings
        .get("wrapped_kek")
        .and_then(J::as_str)
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
    else {
        return "invalid_document";
    };
    let Ok(kek) = KeyWrapper::unwrap(&master, &kek_wrap_context(id), &wrapped) else {
        return "unwrap_failed";
    };
    class_of(&doc, kek.expose())
}

/// Keyring documents as raw texts (sections 10.1 and 10.4): member order, escapes, number
/// tokens, duplicate names and layout, which a JSON value cannot carry. `@MAC@` in a template is
/// replaced by the MAC of the document as the reference reads the text, or, where it cannot read
/// it, by the base document's MAC. A text the reference takes otherwise than the spec says is
/// recorded in `disagreements`.
fn document_texts(
    base: &J,
    kek: &LocalKek,
    kek_bytes: [u8; 32],
    disagreements: &mut Vec<String>,
) -> Vec<J> {
    let s = |v: &J| serde_json::to_string(v).unwrap_or_else(|e| panic!("{e}"));
    let base_mac = base["mac"].as_str().unwrap_or_default().to_owned();
    let kek_members: Vec<(String, String)> = [
        "provider",
        "fingerprint",
        "path",
        "key_fingerprint",
        "wrapped_kek",
        "generation",
    ]
    .iter()
    .map(|k| (format!("\"{k}\""), s(&base["kek"][*k])))
    .collect();
    let members = |list: &[(String, String)]| {
        list.iter()
            .map(|(n, v)| format!("{n}:{v}"))
            .collect::<Vec<_>>()
            .join(",")
    };
    let with = |extra: &[(&str, &str)]| {
        let mut list = kek_members.clone();
        list.extend(
            extra
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
        );
        members(&list)
    };
    let doc = |kek_text: &str, keys: &str, extra: &str| -> String {
        format!(
            "{{\"format\":{},\"keyring_id\":{},\"kek\":{{{kek_text}}},\"keys\":{keys},\"index_roots\":{}{extra},\"mac\":\"@MAC@\"}}",
            s(&base["format"]),
            s(&base["keyring_id"]),
            s(&base["index_roots"]),
        )
    };
    let keys = s(&base["keys"]);
    let plain = members(&kek_members);
    let pretty = serde_json::to_string_pretty(base).unwrap_or_else(|e| panic!("{e}"));
    let compact = s(base);
    let mut reversed = kek_members.clone();
    reversed.reverse();
    // Names whose UTF-8 byte order differs from their order in the text and from UTF-16 order
    // (U+1F511 sorts after U+FF21 by bytes, before it by UTF-16 code units); one written with
    // escapes, sorted by what it unescapes to.
    let mut names = reversed.clone();
    names.insert(0, ("\"🔑\"".to_owned(), "\"key\"".to_owned()));
    names.insert(1, ("\"Ａ\"".to_owned(), "\"fullwidth\"".to_owned()));
    names.push(("\"\\u00e9t\\u00e9\"".to_owned(), "\"été\"".to_owned()));
    names.push(("\"Z\"".to_owned(), "\"upper\"".to_owned()));
    names.push(("\"a\"".to_owned(), "1".to_owned()));
    let mut path_twice = kek_members.clone();
    path_twice.insert(
        2,
        ("\"path\"".to_owned(), "\"/tmp/elsewhere.key\"".to_owned()),
    );
    let setting = |value: &str| doc(&with(&[("\"cost\"", value)]), &keys, "");
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "pretty-printed with a final newline, as written",
            format!("{pretty}\n"),
            "ok",
        ),
        ("compact, one line, no final newline", compact.clone(), "ok"),
        (
            "CRLF line endings",
            format!("{pretty}\n").replace('\n', "\r\n"),
            "ok",
        ),
        (
            "kek members in reverse order",
            doc(&members(&reversed), &keys, ""),
            "ok",
        ),
        (
            "kek member names bound in UTF-8 byte order, not text or UTF-16 order",
            doc(&members(&names), &keys, ""),
            "ok",
        ),
        (
            "kek setting written with escapes (bound as unescaped, then re-escaped)",
            doc(
                &with(&[("\"note\"", r#""\u0041\/\u00e9\ud83d\udd11\t\u001f\u007f""#)]),
                &keys,
                "",
            ),
            "ok",
        ),
        (
            "kek settings: integer tokens at the limits, zero and a boolean",
            doc(
                &with(&[
                    ("\"max\"", "18446744073709551615"),
                    ("\"min\"", "-9223372036854775808"),
                    ("\"zero\"", "0"),
                    ("\"yes\"", "true"),
                ]),
                &keys,
                "",
            ),
            "ok",
        ),
        ("kek setting -0", setting("-0"), "invalid_document"),
        ("kek setting 1.0", setting("1.0"), "invalid_document"),
        ("kek setting 1e2", setting("1e2"), "invalid_document"),
        (
            "kek setting 2^64",
            setting("18446744073709551616"),
            "invalid_document",
        ),
        (
            "kek setting -2^63 - 1",
            setting("-9223372036854775809"),
            "invalid_document",
        ),
        (
            "kek setting with an escaped unpaired surrogate",
            setting(r#""\ud800""#),
            "invalid_document",
        ),
        (
            "kek setting with an unescaped control character",
            setting("\"a\u{1}b\""),
            "invalid_document",
        ),
        (
            "duplicate top-level member format",
            doc(&plain, &keys, ",\"format\":\"fieldcrypt-keyring/1\""),
            "invalid_document",
        ),
        (
            "duplicate top-level member format, written with an escape",
            doc(&plain, &keys, ",\"form\\u0061t\":\"fieldcrypt-keyring/1\""),
            "invalid_document",
        ),
        (
            "duplicate kek member provider",
            doc(&with(&[("\"provider\"", "\"local\"")]), &keys, ""),
            "invalid_document",
        ),
        (
            "duplicate kek setting path (the MAC covers the last)",
            doc(&members(&path_twice), &keys, ""),
            "invalid_document",
        ),
        (
            "duplicate entry member state",
            doc(
                &plain,
                &keys.replacen(
                    "\"state\":\"retired\"",
                    "\"state\":\"retired\",\"state\":\"retired\"",
                    1,
                ),
                "",
            ),
            "invalid_document",
        ),
        (
            "duplicate unknown top-level member",
            doc(&plain, &keys, ",\"comment\":\"a\",\"comment\":\"b\""),
            "invalid_document",
        ),
        (
            "byte order mark",
            format!("\u{feff}{compact}"),
            "invalid_document",
        ),
        (
            "text after the document",
            format!("{compact}\nx"),
            "invalid_document",
        ),
        (
            "two documents",
            format!("{compact}{compact}"),
            "invalid_document",
        ),
        (
            "the document in an array",
            format!("[{compact}]"),
            "invalid_document",
        ),
        (
            "NaN in an unknown member",
            doc(&plain, &keys, ",\"comment\":NaN"),
            "invalid_document",
        ),
    ];
    cases
        .into_iter()
        .map(|(name, template, expect)| {
            let probe = template.replace("@MAC@", &base_mac);
            let mac = serde_json::from_str::<KeyringDocument>(&probe)
                .ok()
                .and_then(|d| d.mac_input().ok())
                .map(|m| URL_SAFE_NO_PAD.encode(kek.authenticate(&m)));
            let text = template.replace("@MAC@", mac.as_deref().unwrap_or(&base_mac));
            let got = match KeyringDocument::from_json(&text) {
                Ok(d) => class_of(&d, &kek_bytes),
                Err(_) => "invalid_document",
            };
            if got != expect {
                disagreements.push(format!(
                    "keyring.json document_texts {name:?}: the reference gives {got}, the spec {expect}"
                ));
            }
            json!({ "name": name, "text": text, "expect": expect })
        })
        .collect()
}

/// How `fieldcrypt-kms`'s `MasterKeyFile::open` takes a file of `bytes` with permission bits
/// `mode` owned by the reader (section 10.3), mirrored: this crate cannot call it.
fn master_key_file_key(bytes: &[u8], mode: u32) -> Option<[u8; 32]> {
    if mode & 0o077 != 0 {
        return None;
    }
    let read = &bytes[..bytes.len().min(256)];
    let text = std::str::from_utf8(read).ok()?;
    let b64 = text
        .trim_end_matches(['\n', '\r'])
        .strip_prefix("fieldcrypt-master-key-v1:")?;
    URL_SAFE_NO_PAD.decode(b64).ok()?.try_into().ok()
}

/// Master-key files (section 10.3): contents, permission bits, and the key read (or none).
fn master_key_files(master: &[u8; 32]) -> Vec<J> {
    const PREFIX: &str = "fieldcrypt-master-key-v1:";
    let line = format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(master));
    let b = |s: &str| s.as_bytes().to_vec();
    let last = line.chars().next_back().unwrap_or('A');
    let index = B64URL.find(last).unwrap_or(0);
    let non_canonical = format!(
        "{}{}\n",
        &line[..line.len() - 1],
        B64URL.as_bytes()[index | 1] as char
    );
    let plus_first = format!("{PREFIX}+{}\n", &line[PREFIX.len() + 1..]);
    let mut not_utf8 = line.as_bytes().to_vec();
    not_utf8.extend_from_slice(&[0xff, b'\n']);
    let longer: Vec<u8> = master.iter().copied().chain([0]).collect();
    let cases: Vec<(&str, Vec<u8>, u32, bool)> = vec![
        (
            "as written: one line and LF",
            b(&format!("{line}\n")),
            0o600,
            true,
        ),
        ("no line ending", b(&line), 0o600, true),
        ("CRLF", b(&format!("{line}\r\n")), 0o600, true),
        ("CR", b(&format!("{line}\r")), 0o600, true),
        ("two LFs", b(&format!("{line}\n\n")), 0o600, true),
        ("LF CR LF CR", b(&format!("{line}\n\r\n\r")), 0o600, true),
        ("mode 0400", b(&format!("{line}\n")), 0o400, true),
        ("mode 0700", b(&format!("{line}\n")), 0o700, true),
        (
            "mode 0640: group may read",
            b(&format!("{line}\n")),
            0o640,
            false,
        ),
        (
            "mode 0620: group may write",
            b(&format!("{line}\n")),
            0o620,
            false,
        ),
        (
            "mode 0610: group may execute",
            b(&format!("{line}\n")),
            0o610,
            false,
        ),
        (
            "mode 0604: others may read",
            b(&format!("{line}\n")),
            0o604,
            false,
        ),
        (
            "mode 0602: others may write",
            b(&format!("{line}\n")),
            0o602,
            false,
        ),
        (
            "a space before the line ending",
            b(&format!("{line} \n")),
            0o600,
            false,
        ),
        (
            "a tab before the line ending",
            b(&format!("{line}\t\n")),
            0o600,
            false,
        ),
        (
            "a space before the prefix",
            b(&format!(" {line}\n")),
            0o600,
            false,
        ),
        (
            "a byte order mark",
            b(&format!("\u{feff}{line}\n")),
            0o600,
            false,
        ),
        (
            "an empty line first",
            b(&format!("\n{line}\n")),
            0o600,
            false,
        ),
        ("a second line", b(&format!("{line}\nx\n")), 0o600, false),
        (
            "a key of 31 bytes",
            b(&format!(
                "{PREFIX}{}\n",
                URL_SAFE_NO_PAD.encode(&master[..31])
            )),
            0o600,
            false,
        ),
        (
            "a key of 33 bytes",
            b(&format!("{PREFIX}{}\n", URL_SAFE_NO_PAD.encode(&longer))),
            0o600,
            false,
        ),
        ("'=' padding", b(&format!("{line}=\n")), 0o600, false),
        (
            "non-canonical final character",
            b(&non_canonical),
            0o600,
            false,
        ),
        (
            "'+' from the standard alphabet",
            b(&plus_first),
            0o600,
            false,
        ),
        (
            "upper-case prefix",
            b(&format!(
                "{}\n",
                line.replacen(PREFIX, &PREFIX.to_uppercase(), 1)
            )),
            0o600,
            false,
        ),
        (
            "version 2 prefix",
            b(&format!("{}\n", line.replacen("-v1:", "-v2:", 1))),
            0o600,
            false,
        ),
        (
            "no colon after the prefix",
            b(&format!("{}\n", line.replacen("-v1:", "-v1", 1))),
            0o600,
            false,
        ),
        ("a byte that is not UTF-8", not_utf8, 0o600, false),
        ("empty", Vec::new(), 0o600, false),
    ];
    cases
        .into_iter()
        .map(|(name, bytes, mode, accepted)| {
            let got = master_key_file_key(&bytes, mode);
            assert_eq!(got.is_some(), accepted, "master-key file {name:?}");
            if let Some(k) = &got {
                assert_eq!(k, master, "master-key file {name:?}");
            }
            let text = String::from_utf8(bytes.clone()).ok();
            json!({
                "name": name,
                "text": text,
                "bytes_hex": hex(&bytes),
                "mode": format!("{mode:04o}"),
                "key": got.map(|k| hex(&k)),
            })
        })
        .collect()
}

/// How `fieldcrypt-kms`'s `KdfParams::from_settings` takes a document's passphrase settings
/// (section 10.5), mirrored: this crate cannot call it.
fn argon2id_class(p: &J) -> &'static str {
    let int = |name: &str| p[name].as_u64().and_then(|v| u32::try_from(v).ok());
    let salt = p["salt"]
        .as_str()
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok());
    match (
        p["kdf"].as_str(),
        int("memory_kib"),
        int("iterations"),
        int("parallelism"),
        salt,
    ) {
        (Some("argon2id"), Some(m), Some(t), Some(lanes), Some(salt))
            if salt.len() == 16
                && (19_456..=4_194_304).contains(&m)
                && (1..=64).contains(&t)
                && (1..=16).contains(&lanes) =>
        {
            "ok"
        }
        _ => "invalid_document",
    }
}

/// Passphrase KDF settings at and beyond the bounds of section 10.5.
fn argon2id_parameters() -> Vec<J> {
    let base = json!({
        "kdf": "argon2id",
        "memory_kib": 65_536,
        "iterations": 3,
        "parallelism": 1,
        "salt": URL_SAFE_NO_PAD.encode([0x5a; 16]),
    });
    let with = |name: &str, v: J| {
        let mut p = base.clone();
        p[name] = v;
        p
    };
    let without = |name: &str| {
        let mut p = base.clone();
        if let Some(o) = p.as_object_mut() {
            o.remove(name);
        }
        p
    };
    let cases: Vec<(&str, J, &str)> = vec![
        ("64 MiB, 3 passes, 1 lane", base.clone(), "ok"),
        (
            "memory at the floor, 19456 KiB",
            with("memory_kib", json!(19_456)),
            "ok",
        ),
        (
            "memory below the floor",
            with("memory_kib", json!(19_455)),
            "invalid_document",
        ),
        (
            "memory at the ceiling, 4 GiB",
            with("memory_kib", json!(4_194_304)),
            "ok",
        ),
        (
            "memory above the ceiling",
            with("memory_kib", json!(4_194_305)),
            "invalid_document",
        ),
        ("1 pass", with("iterations", json!(1)), "ok"),
        ("0 passes", with("iterations", json!(0)), "invalid_document"),
        ("64 passes", with("iterations", json!(64)), "ok"),
        (
            "65 passes",
            with("iterations", json!(65)),
            "invalid_document",
        ),
        ("16 lanes", with("parallelism", json!(16)), "ok"),
        (
            "17 lanes",
            with("parallelism", json!(17)),
            "invalid_document",
        ),
        ("0 lanes", with("parallelism", json!(0)), "invalid_document"),
        (
            "memory as a string",
            with("memory_kib", json!("65536")),
            "invalid_document",
        ),
        (
            "memory as a fraction",
            with("memory_kib", json!(65_536.5)),
            "invalid_document",
        ),
        (
            "memory of 2^32 KiB",
            with("memory_kib", json!(4_294_967_296u64)),
            "invalid_document",
        ),
        (
            "kdf argon2i",
            with("kdf", json!("argon2i")),
            "invalid_document",
        ),
        ("no kdf", without("kdf"), "invalid_document"),
        (
            "salt of 15 bytes",
            with("salt", json!(URL_SAFE_NO_PAD.encode([0x5a; 15]))),
            "invalid_document",
        ),
        ("no salt", without("salt"), "invalid_document"),
    ];
    cases
        .into_iter()
        .map(|(name, params, expect)| {
            assert_eq!(
                argon2id_class(&params),
                expect,
                "argon2id parameters {name:?}"
            );
            json!({ "name": name, "params": params, "expect": expect })
        })
        .collect()
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
fn class_of(doc: &KeyringDocument, kek: &[u8; 32]) -> &'static str {
    match Keyring::from_document(doc, &LocalKek::new(&SecretKey::from_bytes(*kek))) {
        Ok(_) => "ok",
        Err(Error::Keyring(KeyringError::WrongKek { .. })) => "wrong_kek",
        Err(Error::Keyring(KeyringError::UnwrapFailed(_))) => "unwrap_failed",
        Err(Error::Keyring(KeyringError::InvalidDocument(_))) => "invalid_document",
        Err(Error::Keyring(KeyringError::MacMismatch)) => "tampered",
        Err(_) => "other error",
    }
}

fn blind_index_vectors() -> J {
    let root = key(77);
    let kr = Keyring::from_single_key(
        KeyringId([0; 16]),
        KeyId::new(1).unwrap_or_else(|| unreachable!()),
        Suite::KcXaes256Gcm,
        SecretKey::from_bytes(key(78)),
        SecretKey::from_bytes(root),
    );
    let mut v = Vec::new();
    type Case<'a> = (&'a str, &'a str, &'a str, &'a str, u16, &'a [&'a str]);
    let cases: &[Case<'_>] = &[
        (
            "customers",
            "email",
            "email_ci",
            "nfkc,trim,casefold",
            16,
            &["  Ann@Example.ORG "],
        ),
        (
            "customers",
            "email",
            "email_ci",
            "nfkc,trim,casefold",
            16,
            &["ann@example.org"],
        ),
        (
            "customers",
            "email",
            "email_ci",
            "nfkc,trim,casefold",
            32,
            &["ann@example.org"],
        ),
        (
            "customers",
            "email",
            "email_exact",
            "",
            13,
            &["Ann@Example.ORG"],
        ),
        (
            "customers",
            "national_id",
            "nid",
            "nfkc,digits",
            20,
            &["123-45-6789"],
        ),
        (
            "customers",
            "national_id",
            "nid",
            "nfkc,digits",
            20,
            &["１２３４５６７８９"],
        ),
        (
            "customers",
            "name",
            "name_ci",
            "nfkc,trim,casefold",
            8,
            &["STRASSE"],
        ),
        (
            "customers",
            "name",
            "name_ci",
            "nfkc,trim,casefold",
            8,
            &["Straße"],
        ),
        (
            "customers",
            "name+dob",
            "name_dob",
            "trim,casefold",
            24,
            &["Ann Lee", "1985-10-26"],
        ),
        ("", "", "free", "", 256, &["x"]),
        ("customers", "email", "email_exact", "", 1, &[""]),
        (
            "customers",
            "email",
            "email_exact",
            "",
            63,
            &["ann@example.org"],
        ),
        // Aliases (section 11.3): the same index as the canonical names, which go into info.
        (
            "customers",
            "email",
            "email_lc",
            "casefold",
            16,
            &["Ann@Example.ORG"],
        ),
        (
            "customers",
            "email",
            "email_lc",
            "lower",
            16,
            &["Ann@Example.ORG"],
        ),
        (
            "customers",
            "national_id",
            "nid",
            " nfkc , digits-only ,, ",
            20,
            &["123-45-6789"],
        ),
        // `trim`'s set is White_Space: not U+001C..U+001F, U+200B or U+FEFF.
        ("t", "c", "trim", "trim", 32, &["x"]),
        ("t", "c", "trim", "trim", 32, &["\u{1c}\u{1d}x\u{1e}\u{1f}"]),
        (
            "t",
            "c",
            "trim",
            "trim",
            32,
            &["\u{85}\u{a0}\u{1680}x\u{3000}\u{2029}\u{202f}"],
        ),
        ("t", "c", "trim", "trim", 32, &["\u{200b}x\u{feff}"]),
        (
            "t",
            "c",
            "trim",
            "trim",
            32,
            &["\t\n\u{b}\u{c}\r x \u{2028}\u{205f}\u{2000}\u{200a}"],
        ),
        // Full case folding: U+0130 to "i" U+0307, KELVIN SIGN to "k", U+1E9E to "ss".
        (
            "t",
            "c",
            "fold",
            "casefold",
            32,
            &["\u{130}", "\u{212a}", "\u{1e9e}"],
        ),
    ];
    for (table, column, name, norms, bits, fields) in cases {
        let def = IndexDefinition::new(*table, *column, *name, *bits)
            .normalized(Normalizer::parse_list(norms).unwrap_or_else(|e| panic!("{e}")));
        let ix = kr.blind_indexer(&def).unwrap_or_else(|e| panic!("{e}"));
        let value = ix.compute_compound(fields).expect("fields are small");
        let intermediate = index_intermediate(&root, &def, fields, &value.to_hex());
        v.push(json!({
            "table": table, "column": column, "name": name, "normalizers": norms, "bits": bits,
            "fields": fields, "index_hex": value.to_hex(), "index_int": value.to_u64().map(|x| x.to_string()),
            "intermediate": intermediate,
        }));
    }
    // How textual lists parse (section 11.3): the canonical list, or null when refused.
    let lists: Vec<J> = [
        "",
        " , ",
        "trim",
        "nfkc,trim,casefold",
        " nfkc , trim ,, casefold ,",
        "lower",
        "digits-only",
        "casefold,lower",
        "trim,trim",
        "trim,\u{a0}casefold\u{3000}",
        "Trim",
        "LOWER",
        "soundex",
        "trim;casefold",
        "\u{200b}trim",
        "trim,\u{1c}casefold",
    ]
    .iter()
    .map(|list| {
        let canonical = Normalizer::parse_list(list)
            .ok()
            .map(|steps| steps.iter().map(|n| n.name()).collect::<Vec<_>>().join(","));
        json!({ "list": list, "canonical": canonical })
    })
    .collect();
    let _ = Json(());
    json!({
        "about": "Blind-index vectors (docs/FORMAT.md section 11): index key = HKDF-SHA-256(salt \"fieldcrypt/blind-index/v1\", ikm root, info lp16(table) lp16(column) lp16(name) lp16(norms) u16be(bits)), norms the canonical normaliser names joined with ','; value = first bits of HMAC-SHA-256(index key, u32be(n) (u32be(len) field)*) over the normalised fields. intermediate: norms, the normalised fields, info, index_key, message (M) and hmac (H), in hex. normalizer_lists: textual lists and the canonical list each parses to (null: refused). count: the number of vectors; counts: the number of entries of each list.",
        "root": hex(&root),
        "count": v.len(),
        "counts": { "vectors": v.len(), "normalizer_lists": lists.len() },
        "vectors": v,
        "normalizer_lists": lists,
    })
}

/// Length 32 for aws-lc-rs's HKDF.
struct HkdfLen32;

impl aws_lc_rs::hkdf::KeyType for HkdfLen32 {
    fn len(&self) -> usize {
        32
    }
}

/// Section 11's intermediate values, computed with aws-lc-rs directly and checked against the
/// crate's index value `index_hex`.
fn index_intermediate(
    root: &[u8; 32],
    def: &IndexDefinition,
    fields: &[&str],
    index_hex: &str,
) -> J {
    use aws_lc_rs::{hkdf, hmac};
    let norms = def
        .normalizers
        .iter()
        .map(|n| n.name())
        .collect::<Vec<_>>()
        .join(",");
    let mut info = Vec::new();
    for part in [
        def.table.as_bytes(),
        def.column.as_bytes(),
        def.name.as_bytes(),
        norms.as_bytes(),
    ] {
        info.extend_from_slice(&(part.len() as u16).to_be_bytes());
        info.extend_from_slice(part);
    }
    info.extend_from_slice(&def.bits.to_be_bytes());
    let mut index_key = [0u8; 32];
    let info_parts: [&[u8]; 1] = [&info];
    hkdf::Salt::new(hkdf::HKDF_SHA256, b"fieldcrypt/blind-index/v1")
        .extract(root)
        .expand(&info_parts, HkdfLen32)
        .and_then(|okm| okm.fill(&mut index_key))
        .unwrap_or_else(|e| panic!("{e:?}"));
    let normalized: Vec<String> = fields
        .iter()
        .map(|f| def.normalize(f).into_owned())
        .collect();
    let mut message = (normalized.len() as u32).to_be_bytes().to_vec();
    for f in &normalized {
        message.extend_from_slice(&(f.len() as u32).to_be_bytes());
        message.extend_from_slice(f.as_bytes());
    }
    let tag = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, &index_key), &message);
    let h = tag.as_ref().to_vec();
    let bits = usize::from(def.bits);
    let mut truncated = h[..bits.div_ceil(8)].to_vec();
    if bits % 8 != 0
        && let Some(last) = truncated.last_mut()
    {
        *last &= 0xFFu8 << (8 - bits % 8);
    }
    assert_eq!(
        hex(&truncated),
        index_hex,
        "index value from the intermediate values"
    );
    json!({
        "norms": norms,
        "normalized_fields": normalized,
        "info": hex(&info),
        "index_key": hex(&index_key),
        "message": hex(&message),
        "hmac": hex(&h),
    })
}

fn write(path: &std::path::Path, value: J) {
    let text = serde_json::to_string_pretty(&value).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(path, text + "\n").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("wrote {}", path.display());
}
