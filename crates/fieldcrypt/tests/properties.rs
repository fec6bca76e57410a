//! Properties: every type round-trips; any bit flip, truncation, other context or other key fails
//! to open; no input makes the parser or the open path panic.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldcrypt::{
    Context, Date, Decimal, Decode, Encode, Envelope, Json, JsonText, KeyId, Keyring, KeyringId,
    SecretKey, Suite, Timestamp,
};
use proptest::prelude::*;

fn keyring(suite: Suite, key: [u8; 32]) -> Keyring {
    Keyring::from_single_key(
        KeyringId([1; 16]),
        KeyId::new(3).unwrap_or_else(|| unreachable!()),
        suite,
        SecretKey::from_bytes(key),
        SecretKey::from_bytes([9; 32]),
    )
}

fn any_suite() -> impl Strategy<Value = Suite> {
    prop_oneof![Just(Suite::KcXaes256Gcm), Just(Suite::Xaes256Gcm)]
}

fn any_context() -> impl Strategy<Value = Context> {
    (
        "[a-z_]{1,12}",
        "[a-z_]{1,12}",
        proptest::option::of(".{0,12}"),
        proptest::option::of("[a-z0-9-]{0,8}"),
    )
        .prop_map(|(t, c, row, tenant)| {
            let mut ctx = Context::new(t, c).unwrap_or_else(|e| panic!("{e}"));
            if let Some(row) = row {
                ctx = ctx.with_row(row).unwrap_or_else(|e| panic!("{e}"));
            }
            if let Some(tenant) = tenant {
                ctx = ctx.with_tenant(tenant).unwrap_or_else(|e| panic!("{e}"));
            }
            ctx
        })
}

fn round_trip<T: Encode + Decode + PartialEq + core::fmt::Debug>(
    suite: Suite,
    key: [u8; 32],
    ctx: &Context,
    value: &T,
) -> Result<(), TestCaseError> {
    let kr = keyring(suite, key);
    let binary = kr
        .seal(ctx, value)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = kr
        .open(ctx, &binary)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);
    let text = kr
        .seal_text(ctx, value)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = kr
        .open_text(ctx, &text)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(&back, value);
    Ok(())
}

/// JSON documents with whitespace, quotes and backslashes inside their strings and keys.
fn any_json() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value as J;
    let leaf = prop_oneof![
        Just(J::Null),
        any::<bool>().prop_map(J::Bool),
        any::<i64>().prop_map(J::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(J::from),
        "[ \\t\\n\"\\\\a-zé]{0,8}".prop_map(J::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(J::Array),
            proptest::collection::btree_map("[ \"\\\\a-z]{0,5}", inner, 0..6)
                .prop_map(|m| J::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn strings_round_trip(suite in any_suite(), key in any::<[u8; 32]>(), ctx in any_context(), v in ".*") {
        round_trip(suite, key, &ctx, &v)?;
    }

    #[test]
    fn bytes_round_trip(suite in any_suite(), key in any::<[u8; 32]>(), ctx in any_context(), v in proptest::collection::vec(any::<u8>(), 0..2048)) {
        round_trip(suite, key, &ctx, &v)?;
    }

    #[test]
    fn scalars_round_trip(suite in any_suite(), key in any::<[u8; 32]>(), ctx in any_context(),
                          i in any::<i64>(), j in any::<i32>(), f in any::<f64>(), b in any::<bool>()) {
        round_trip(suite, key, &ctx, &i)?;
        round_trip(suite, key, &ctx, &j)?;
        round_trip(suite, key, &ctx, &b)?;
        let kr = keyring(suite, key);
        let sealed = kr.seal(&ctx, &f).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back: f64 = kr.open(&ctx, &sealed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert!(back.to_bits() == f.to_bits() || (back.is_nan() && f.is_nan()));
    }

    #[test]
    fn dates_times_decimals_json_round_trip(suite in any_suite(), key in any::<[u8; 32]>(), ctx in any_context(),
            days in any::<i32>(), secs in -62_135_596_800i64..253_402_300_799, nanos in 0u32..1_000_000_000,
            dec in "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,12})?", words in proptest::collection::vec("[a-z]{0,6}", 0..5)) {
        round_trip(suite, key, &ctx, &Date::from_days_since_epoch(days))?;
        let ts = Timestamp::new(secs, nanos).unwrap_or_else(|| unreachable!());
        round_trip(suite, key, &ctx, &ts)?;
        // Timestamps also survive their own text form.
        prop_assert_eq!(ts.to_string().parse::<Timestamp>().ok(), Some(ts));
        if let Ok(d) = Decimal::new(dec) {
            round_trip(suite, key, &ctx, &d)?;
        }
        round_trip(suite, key, &ctx, &Json(words))?;
    }

    #[test]
    fn json_text_compacts_as_serde_json_writes_and_round_trips(suite in any_suite(), key in any::<[u8; 32]>(),
            ctx in any_context(), doc in any_json()) {
        // serde_json's pretty and compact writers are the independent reference: dropping the
        // whitespace between tokens of the one must give the other, strings untouched.
        let pretty = serde_json::to_string_pretty(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let compact = serde_json::to_string(&doc).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let text = JsonText::new(&pretty).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(text.as_str(), compact.as_str());
        round_trip(suite, key, &ctx, &text)?;
    }

    #[test]
    fn any_bit_flip_fails(suite in any_suite(), key in any::<[u8; 32]>(), ctx in any_context(), v in ".{0,64}", bit in any::<proptest::sample::Index>()) {
        let kr = keyring(suite, key);
        let mut sealed = kr.seal(&ctx, v.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let i = bit.index(sealed.len() * 8);
        sealed[i / 8] ^= 1 << (i % 8);
        prop_assert!(kr.open::<String>(&ctx, &sealed).is_err());
    }

    #[test]
    fn any_truncation_fails(suite in any_suite(), key in any::<[u8; 32]>(), ctx in any_context(), v in ".{0,64}", cut in any::<proptest::sample::Index>(), text in any::<bool>()) {
        let kr = keyring(suite, key);
        if text {
            let sealed = kr.seal_text(&ctx, v.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let n = cut.index(sealed.len());
            prop_assert!(kr.open_text::<String>(&ctx, &sealed[..n]).is_err());
        } else {
            let sealed = kr.seal(&ctx, v.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let n = cut.index(sealed.len());
            prop_assert!(kr.open::<String>(&ctx, &sealed[..n]).is_err());
        }
    }

    #[test]
    fn any_other_context_fails(suite in any_suite(), key in any::<[u8; 32]>(), a in any_context(), b in any_context(), v in ".{0,64}") {
        prop_assume!(a != b);
        let kr = keyring(suite, key);
        let sealed = kr.seal(&a, v.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(kr.open::<String>(&b, &sealed), Err(fieldcrypt::Error::CannotOpen));
    }

    #[test]
    fn any_other_key_fails(suite in any_suite(), k1 in any::<[u8; 32]>(), k2 in any::<[u8; 32]>(), ctx in any_context(), v in ".{0,64}") {
        prop_assume!(k1 != k2);
        let sealed = keyring(suite, k1).seal(&ctx, v.as_str()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(keyring(suite, k2).open::<String>(&ctx, &sealed), Err(fieldcrypt::Error::CannotOpen));
    }

    #[test]
    fn parser_and_open_never_panic(input in proptest::collection::vec(any::<u8>(), 0..200), text in "fc1[cx][0-9]{0,11}\\.?[A-Za-z0-9_=+/ -]{0,150}") {
        let kr = keyring(Suite::KcXaes256Gcm, [5; 32]);
        let ctx = Context::new("t", "c").unwrap_or_else(|e| panic!("{e}"));
        let _ = Envelope::parse(&input);
        let _ = kr.open::<String>(&ctx, &input);
        let mut with_magic = vec![0xFC, 0x01];
        with_magic.extend_from_slice(&input);
        let _ = kr.open::<fieldcrypt::Value>(&ctx, &with_magic);
        let _ = Envelope::parse_text(&text);
        let _ = kr.open_text::<fieldcrypt::Value>(&ctx, &text);
    }
}
