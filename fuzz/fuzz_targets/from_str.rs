//! Every text parser of the core's types, on arbitrary text: what a CLI argument, a SQLite
//! DATETIME or TEXT cell, or a keyring document hands them. None may panic, and what one takes
//! must print as text that it reads back as the same value.
#![no_main]

use fieldcrypt::{Date, Decimal, KeyringId, Normalizer, Timestamp, TypeTag, Value};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    if let Ok(at) = text.parse::<Timestamp>() {
        assert_eq!(at.to_string().parse::<Timestamp>(), Ok(at), "timestamp round trip");
    }
    if let Ok(at) = Timestamp::parse_rfc3339(text) {
        assert_eq!(text.parse::<Timestamp>(), Ok(at), "RFC 3339 is a subset");
    }
    if let Ok(date) = text.parse::<Date>() {
        assert_eq!(date.to_string().parse::<Date>(), Ok(date), "date round trip");
    }
    if let Ok(decimal) = Decimal::new(text) {
        assert_eq!(decimal.as_str(), text);
    }
    if let Ok(id) = text.parse::<KeyringId>() {
        assert_eq!(id.to_string(), text, "keyring ids are canonical");
    }
    let _ = Normalizer::parse_list(text);
    for tag in TypeTag::ALL {
        let _ = Value::parse(tag, text);
    }
});
