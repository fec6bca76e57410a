//! Seals with a canary key and a canary plaintext, drives every error path, and scans every
//! Debug and Display string the public types produce for the canaries' bytes in any encoding.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use base64::Engine as _;
use fieldcrypt::{
    BlindIndexValue, Context, Envelope, IndexDefinition, KeyId, KeyWrapper, Keyring, KeyringId,
    LocalKek, Normalizer, SecretKey, Suite, Value,
};

const KEY: [u8; 32] = *b"CANARY-KEY-0123456789abcdefghij!";
const ROOT: [u8; 32] = *b"CANARY-ROOT-0123456789abcdefghi!";
const PLAINTEXT: &str = "canary-plaintext-4111111111111111";

/// Every way the canaries could appear: raw, hex (both cases), base64 (both alphabets), decimal
/// byte lists as `{:?}` prints them, and a distinctive substring.
fn forbidden() -> Vec<String> {
    let mut out = vec![PLAINTEXT.to_owned(), "4111111111111111".to_owned()];
    for secret in [&KEY[..], &ROOT[..]] {
        out.push(String::from_utf8_lossy(secret).into_owned());
        out.push(String::from_utf8_lossy(&secret[..12]).into_owned());
        out.push(hex::encode(secret));
        out.push(hex::encode_upper(secret));
        out.push(base64::engine::general_purpose::STANDARD.encode(secret));
        out.push(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret));
        out.push(
            format!("{:?}", &secret[..8])
                .trim_end_matches(']')
                .to_owned(),
        );
    }
    out
}

fn check(what: &str, s: &str, bad: &[String]) {
    for needle in bad {
        assert!(!s.contains(needle.as_str()), "{what} leaks a canary: {s}");
    }
}

#[test]
fn no_secret_or_plaintext_in_any_debug_or_display() {
    let bad = forbidden();
    let kr = Keyring::from_single_key(
        KeyringId([7; 16]),
        KeyId::new(1).unwrap_or_else(|| unreachable!()),
        Suite::KcXaes256Gcm,
        SecretKey::from_bytes(KEY),
        SecretKey::from_bytes(ROOT),
    );
    let ctx = Context::new("customers", "card")
        .and_then(|c| c.with_row(1i64))
        .unwrap_or_else(|e| panic!("{e}"));
    let sealed = kr.seal(&ctx, PLAINTEXT).unwrap_or_else(|e| panic!("{e}"));
    let text = kr
        .seal_text(&ctx, PLAINTEXT)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut strings: Vec<(String, String)> = Vec::new();
    let mut push = |what: &str, s: String| strings.push((what.to_owned(), s));

    push("keyring", format!("{kr:?}"));
    push("secret key", format!("{:?}", SecretKey::from_bytes(KEY)));
    push(
        "envelope",
        format!(
            "{:?}",
            Envelope::parse(&sealed).unwrap_or_else(|e| panic!("{e}"))
        ),
    );
    push("context", format!("{ctx:?} {ctx}"));
    push("value", format!("{:?}", Value::String(PLAINTEXT.into())));
    push(
        "decimal",
        format!(
            "{:?}",
            fieldcrypt::Decimal::new("4111111111111111").unwrap_or_else(|e| panic!("{e}"))
        ),
    );
    push("json", format!("{:?}", fieldcrypt::Json(PLAINTEXT)));
    let kek = LocalKek::new(&SecretKey::from_bytes(KEY));
    push("kek", format!("{kek:?} {}", kek.fingerprint()));
    let doc = kr
        .to_document(&kek, "local", Default::default())
        .unwrap_or_else(|e| panic!("{e}"));
    push("document", format!("{doc:?}"));
    push(
        "document json",
        serde_json::to_string(&doc).unwrap_or_default(),
    );

    let def = IndexDefinition::new("customers", "card", "card_idx", 32)
        .normalized([Normalizer::DigitsOnly]);
    let ix = kr.blind_indexer(&def).unwrap_or_else(|e| panic!("{e}"));
    let value: BlindIndexValue = ix.compute(PLAINTEXT).unwrap();
    push("indexer", format!("{ix:?}"));
    push("index value", format!("{value:?}"));
    assert!(
        !format!("{value:?}").contains(&value.to_hex()),
        "index value in Debug"
    );

    // Every error path of opening.
    let other_ctx = Context::new("customers", "card")
        .and_then(|c| c.with_row(2i64))
        .unwrap_or_else(|e| panic!("{e}"));
    let mut flipped = sealed.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    let wrong_key = Keyring::from_single_key(
        KeyringId([7; 16]),
        KeyId::new(1).unwrap_or_else(|| unreachable!()),
        Suite::KcXaes256Gcm,
        SecretKey::from_bytes([0; 32]),
        SecretKey::from_bytes([0; 32]),
    );
    let errors = [
        kr.open::<String>(&other_ctx, &sealed).err(),
        kr.open::<String>(&ctx, &flipped).err(),
        kr.open::<i64>(&ctx, &sealed).err(),
        kr.open::<String>(&ctx, &sealed[..40]).err(),
        kr.open::<String>(&ctx, PLAINTEXT.as_bytes()).err(),
        kr.open_text::<String>(&ctx, &format!("{text}!")).err(),
        wrong_key.open::<String>(&ctx, &sealed).err(),
        Keyring::from_document(&doc, &LocalKek::new(&SecretKey::from_bytes(ROOT))).err(),
    ];
    for e in errors {
        let e = e.unwrap_or_else(|| panic!("an error path opened"));
        push("error", format!("{e} {e:?}"));
    }
    for (what, s) in &strings {
        check(what, s, &bad);
    }
    assert!(strings.len() > 15);
}
