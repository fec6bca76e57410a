//! The stream reader on attacker-controlled bytes: a whole input as a stream (header parsing),
//! and the input after a real header (chunk splitting, lengths, the last-chunk rules). Opening
//! must fail cleanly, never panic, never return plaintext it did not authenticate.
#![no_main]

use std::sync::OnceLock;

use fieldcrypt::stream::{open_all, seal_all};
use fieldcrypt::{KeyId, Keyring, KeyringId, SecretKey, Suite};
use libfuzzer_sys::fuzz_target;

fn setup() -> &'static (Keyring, Vec<u8>) {
    static K: OnceLock<(Keyring, Vec<u8>)> = OnceLock::new();
    K.get_or_init(|| {
        let kr = Keyring::from_single_key(
            KeyringId([0; 16]),
            KeyId::new(7).unwrap_or_else(|| unreachable!()),
            Suite::KcXaes256Gcm,
            SecretKey::from_bytes([0x11; 32]),
            SecretKey::from_bytes([0x22; 32]),
        );
        let sealed = seal_all(&kr, None, 1024, &[0x5a; 3000]).unwrap_or_else(|_| unreachable!());
        let header = sealed[..fieldcrypt::stream::STREAM_HEADER_LEN].to_vec();
        (kr, header)
    })
}

fuzz_target!(|data: &[u8]| {
    let (kr, header) = setup();
    let _ = open_all(kr, None, data);
    let mut stream = header.clone();
    stream.extend_from_slice(data);
    if let Ok(plain) = open_all(kr, None, &stream) {
        // Only a forgery of AES-GCM would get here.
        assert!(plain.is_empty() || plain.iter().all(|b| *b == 0x5a));
    }
});
