//! The typed-plaintext decoders on arbitrary payloads (what an envelope holds once it opens, so
//! reachable only with the key: a writer with the key but a bug, or another implementation), and
//! `JsonText` checked against serde_json: a text it takes must be one serde_json takes, its
//! compaction must keep the value and be idempotent.
#![no_main]

use fieldcrypt::{Decode, JsonText, TypeTag, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&tag, payload)) = data.split_first() {
        if let Some(tag) = TypeTag::from_byte(tag) {
            let _ = Value::decode_payload(tag, &mut payload.to_vec());
        }
    }
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let theirs = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
    match JsonText::new(text) {
        Ok(json) => {
            assert!(theirs, "JsonText took what serde_json refuses");
            assert_eq!(JsonText::new(json.as_str()).as_ref(), Ok(&json), "not idempotent");
            // Where serde_json can hold the value, compaction did not change it.
            if let Ok(before) = serde_json::from_str::<serde_json::Value>(text) {
                assert_eq!(json.parse::<serde_json::Value>().ok(), Some(before), "value changed");
            }
        }
        Err(_) => assert!(!theirs, "JsonText refused what serde_json takes"),
    }
});
