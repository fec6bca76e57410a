//! Any bytes: parsing either form must return a value or a typed error, never panic, and a parsed
//! envelope must re-encode to a form that parses to the same envelope.
#![no_main]

use fieldcrypt::Envelope;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(env) = Envelope::parse(data) {
        let binary = env.to_binary();
        let text = env.to_text();
        assert_eq!(Envelope::parse(&binary).ok(), Some(env.clone()));
        assert_eq!(Envelope::parse_text(&text).ok().map(|e| e.to_binary()), Some(binary));
        let _ = (env.nonce(), env.sealed(), env.commitment(), env.ciphertext_len());
    }
    if let Ok(s) = core::str::from_utf8(data) {
        let _ = Envelope::parse_text(s);
    }
});
