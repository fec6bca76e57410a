//! Any bytes as a django-cryptography pickle, and any text as a Django value of every kind:
//! a typed error or a value, never a panic, a hang or a runaway allocation.
#![no_main]

use fieldcrypt_compat::pickle::unpickle;
use fieldcrypt_compat::value::{parse_text, python_decimal, FieldKind, NaiveZone};
use fieldcrypt_compat::searchable::SearchableKeys;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = unpickle(data);
    if let Ok(keys) = SearchableKeys::from_hex(&["00".repeat(32).as_str()]) {
        let _ = keys.decrypt(data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = python_decimal(text);
        for kind in ["text", "integer", "boolean", "date", "datetime", "decimal", "float", "json"] {
            if let Some(kind) = FieldKind::parse(kind) {
                let _ = parse_text(kind, text, &NaiveZone::Utc);
            }
        }
    }
});
