//! `negative.json`: inputs that must not open, each with the class of its refusal.

use fieldcrypt::{Context, Envelope, Header, KeyId, Suite};
use serde_json::{Value as J, json};

use crate::common::{B64URL, context, counts_by, ctx_json, hex, key, keyring, nonce};

pub(crate) fn negative_vectors() -> J {
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
