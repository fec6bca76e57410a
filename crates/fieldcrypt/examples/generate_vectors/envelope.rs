//! `envelope.json`: known answers with section 2's intermediate values, JSON payloads, limits.

use fieldcrypt::{Context, Decode, Envelope, Error, Json, JsonText, Suite, TypeTag, Value};
use serde_json::{Value as J, json};

use crate::common::{context, hex, key, keyring, nonce};

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

/// One envelope known answer: `value` sealed under `key(seed)`, `nonce(seed)` and the context
/// `c`, with the intermediate values of section 2.
pub(crate) fn known_answer(
    name: &str,
    suite: Suite,
    key_id: u32,
    seed: u8,
    c: &J,
    value: &Value,
) -> J {
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
pub(crate) fn json_payloads() -> Vec<J> {
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
pub(crate) fn context_limits() -> Vec<J> {
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
