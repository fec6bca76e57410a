//! The open path on attacker-controlled bytes: starting from real envelopes (the seed corpus)
//! and mutated from there, opening must fail cleanly or return the sealed value, never panic.
#![no_main]

use std::sync::OnceLock;

use fieldcrypt::{Context, KeyId, Keyring, KeyringId, SecretKey, Suite, Value};
use libfuzzer_sys::fuzz_target;

fn keyring() -> &'static (Keyring, Context) {
    static K: OnceLock<(Keyring, Context)> = OnceLock::new();
    K.get_or_init(|| {
        let kr = Keyring::from_single_key(
            KeyringId([0; 16]),
            KeyId::new(7).unwrap_or_else(|| unreachable!()),
            Suite::KcXaes256Gcm,
            SecretKey::from_bytes([0x11; 32]),
            SecretKey::from_bytes([0x22; 32]),
        );
        let ctx = Context::new("customers", "email").and_then(|c| c.with_row("42")).unwrap_or_else(|_| unreachable!());
        (kr, ctx)
    })
}

fuzz_target!(|data: &[u8]| {
    let (kr, ctx) = keyring();
    let _ = kr.open::<Value>(ctx, data);
    let _ = kr.open::<String>(ctx, data);
    let _ = kr.open::<i64>(ctx, data);
    if let Ok(s) = core::str::from_utf8(data) {
        let _ = kr.open_text::<Value>(ctx, s);
    }
});
