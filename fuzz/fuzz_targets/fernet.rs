//! Any bytes as a Fernet token: a typed error or a plaintext, never a panic.
#![no_main]

use fieldcrypt_compat::{Fernet, FernetKey, MultiFernet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The spec vectors' key, so that seeds made from them reach the MAC and padding checks.
    let Ok(key) = FernetKey::from_base64("cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4=") else {
        return;
    };
    let _ = Fernet::new(key.clone()).decrypt_at(data, Some(60), 499_162_801);
    let _ = Fernet::unverified_timestamp(data);
    if let Some(multi) = MultiFernet::new(vec![FernetKey::from_bytes(&[1; 32]), key]) {
        let _ = multi.decrypt(data);
    }
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = FernetKey::from_base64(text);
    }
});
