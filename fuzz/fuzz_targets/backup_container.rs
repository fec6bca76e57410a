//! The backup reader on attacker-controlled bytes, at both of its layers: the input as a whole
//! backup stream (the stream's header and chunks), and the input sealed as the plaintext of a
//! genuine stream under the backup context, so that the container parser (magic, version,
//! manifest and trailer lengths and JSON, frame lengths, what follows the trailer) meets every
//! shape. Never a panic; a container that verifies has a trailer matching the dump it framed.
#![no_main]

use std::sync::OnceLock;

use fieldcrypt::{KeyId, Keyring, KeyringId, SecretKey, Suite};
use libfuzzer_sys::fuzz_target;

fn keyring() -> &'static Keyring {
    static K: OnceLock<Keyring> = OnceLock::new();
    K.get_or_init(|| {
        Keyring::from_single_key(
            KeyringId([0; 16]),
            KeyId::new(7).unwrap_or_else(|| unreachable!()),
            Suite::KcXaes256Gcm,
            SecretKey::from_bytes([0x11; 32]),
            SecretKey::from_bytes([0x22; 32]),
        )
    })
}

fuzz_target!(|data: &[u8]| {
    let kr = keyring();
    let _ = fieldcrypt_backup::verify_reader(kr, data);
    let context = fieldcrypt_backup::backup_context().unwrap_or_else(|_| unreachable!());
    if let Ok(sealed) = fieldcrypt::stream::seal_all(kr, Some(&context), 1024, data)
        && let Ok((_, trailer)) = fieldcrypt_backup::verify_reader(kr, &sealed[..])
    {
        // Verified: the dump the frames carried is at most the input, and the trailer says so.
        assert!(trailer.dump_bytes <= data.len() as u64);
    }
});
