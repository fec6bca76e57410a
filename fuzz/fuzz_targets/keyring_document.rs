//! The keyring-document reader on arbitrary text: the strict JSON parse (duplicate member
//! names refused), the MAC input, and the full read with a fixed KEK. Whoever can write a
//! keyring file controls this input; no text may panic, and a text that parses must give the
//! same document when written back and read again.
#![no_main]

use fieldcrypt::{Keyring, KeyringDocument, LocalKek, SecretKey};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = core::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = KeyringDocument::from_json(text) else {
        return;
    };
    let _ = doc.mac_input();
    let kek = LocalKek::new(&SecretKey::from_bytes([7; 32]));
    let _ = Keyring::from_document(&doc, &kek);
    let again = serde_json::to_string(&doc).unwrap_or_default();
    assert_eq!(
        KeyringDocument::from_json(&again).ok().as_ref(),
        Some(&doc),
        "a document reads back as itself"
    );
});
