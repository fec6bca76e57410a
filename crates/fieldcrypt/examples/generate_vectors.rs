//! Writes the language-neutral vectors in `testdata/vectors/` (deterministic: fixed keys and
//! nonces). `cargo run -p fieldcrypt --example generate_vectors -- testdata/vectors`.
//!
//! The vectors are checked by `tests/format_vectors.rs` and, independently of this crate, by
//! `tools/verify_vectors.py` (Python, using only the `cryptography` package's AES and GCM).
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::path::PathBuf;

use fieldcrypt::{
    Context, Date, Decimal, Envelope, IndexDefinition, Json, KeyId, Keyring, KeyringId, Normalizer,
    SecretKey, Suite, Timestamp, Value,
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
        Value::Json(j) => json!(serde_json::to_string(j).unwrap_or_default()),
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
            Value::Json(json!({"a": [1, 2.5, null, true], "b": "x"})),
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
            let kr = keyring(suite, key_id, n);
            let c = &contexts[i % contexts.len()];
            let ctx = context(c);
            let nonce = nonce(n);
            let binary = kr
                .seal_with_nonce(&ctx, value, nonce)
                .unwrap_or_else(|e| panic!("{e}"));
            let env = Envelope::parse(&binary).unwrap_or_else(|e| panic!("{e}"));
            let mut typed = vec![value.type_tag() as u8];
            fieldcrypt::Encode::encode_payload(value, &mut typed).expect("vector values encode");
            let mut aad = env.header().to_bytes().to_vec();
            aad.extend_from_slice(ctx.encoded());
            kat.push(json!({
                "name": format!("{} {name}", suite.slug()),
                "suite": suite.slug(),
                "key_id": key_id,
                "key": hex(&key(n)),
                "nonce": hex(&nonce),
                "context": c,
                "aad": hex(&aad),
                "type": value.type_tag().name(),
                "value": value_json(value),
                "typed_plaintext": hex(&typed),
                "envelope_binary": hex(&binary),
                "envelope_text": env.to_text(),
            }));
        }
    }
    write(
        &out.join("envelope.json"),
        json!({
            "about": "Known-answer vectors for the fieldcrypt envelope (docs/FORMAT.md). Seal typed_plaintext with the suite under key and nonce, associated data aad (header || context encoding); envelope_binary and envelope_text are the two forms of the result. Values: strings as given, bytes in hex, int in decimal, float as the hex of its IEEE 754 bits, json as its serde_json text.",
            "vectors": kat,
        }),
    );

    write(&out.join("negative.json"), negative_vectors());
    write(&out.join("blind_index.json"), blind_index_vectors());
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
    text(
        "text: trailing character (bad length)",
        format!("{good_text}A"),
        if (body.len() + 1) % 4 == 1 {
            "malformed"
        } else {
            "cannot_open"
        },
    );
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
        format!(
            "{}{}",
            &good_text[..good_text.len() - 1],
            if good_text.ends_with('A') { 'Q' } else { 'A' }
        ),
        "cannot_open",
    );
    // Non-canonical base64: the final character's unused bits set.
    let last = body.chars().last().unwrap_or('A');
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let idx = alphabet.find(last).unwrap_or(0);
    if body.len() % 4 != 0 {
        let unused_mask = if body.len() % 4 == 2 { 0x0F } else { 0x03 };
        let tweaked = alphabet.as_bytes()[(idx | 1) & 63] as char;
        if unused_mask & (idx | 1) != 0 && tweaked != last {
            text(
                "text: non-canonical final base64 character",
                format!("{}{}", &good_text[..good_text.len() - 1], tweaked),
                "malformed",
            );
        }
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

    json!({
        "about": "Inputs that must not open. Unless a vector says otherwise, open under suite kc-xaes-256-gcm, key id 7, the key below, context below, as a string. expect: malformed (a parse error before any cryptography), unknown_key (well-formed, names a key the keyring lacks), cannot_open (authentication fails), type_mismatch (opens, but holds another type than asked for).",
        "key_id": 7,
        "suite": "kc-xaes-256-gcm",
        "key": hex(&key(200)),
        "context": c,
        "valid_envelope_binary": hex(&good),
        "valid_envelope_text": good_text,
        "count": v.len(),
        "vectors": v,
    })
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
    ];
    for (table, column, name, norms, bits, fields) in cases {
        let def = IndexDefinition::new(*table, *column, *name, *bits)
            .normalized(Normalizer::parse_list(norms).unwrap_or_else(|e| panic!("{e}")));
        let ix = kr.blind_indexer(&def).unwrap_or_else(|e| panic!("{e}"));
        let value = ix.compute_compound(fields).expect("fields are small");
        v.push(json!({
            "table": table, "column": column, "name": name, "normalizers": norms, "bits": bits,
            "fields": fields, "index_hex": value.to_hex(), "index_int": value.to_u64().map(|x| x.to_string()),
        }));
    }
    let _ = Json(());
    json!({
        "about": "Blind-index vectors (docs/FORMAT.md): index key = HKDF-SHA-256(salt \"fieldcrypt/blind-index/v1\", ikm root, info lp16(table) lp16(column) lp16(name) lp16(normalizers) u16be(bits)); value = first bits of HMAC-SHA-256(index key, u32be(n) (u32be(len) field)*) over the normalised fields.",
        "root": hex(&root),
        "vectors": v,
    })
}

fn write(path: &std::path::Path, value: J) {
    let text = serde_json::to_string_pretty(&value).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(path, text + "\n").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    println!("wrote {}", path.display());
}
