//! The stream reader on attacker-controlled bytes: a whole input as a stream (header parsing),
//! and the input after a real header (chunk splitting, lengths, the last-chunk rules). Opening
//! must fail cleanly, never panic, never return plaintext it did not authenticate. The I/O
//! readers of `fieldcrypt-files` (in order, with a read size the input picks, and seekable)
//! must agree with the core's `open_all` on every input.
#![no_main]

use std::sync::OnceLock;

use std::io::{Cursor, Read as _};

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

/// What the in-order reader yields: the plaintext, or where it stopped and the prefix it
/// released before the error.
fn read_in_order(kr: &Keyring, stream: &[u8], piece: usize) -> Result<Vec<u8>, Vec<u8>> {
    let Ok(mut reader) = fieldcrypt_files::OpenReader::new(kr, None, stream) else {
        return Err(Vec::new());
    };
    let mut out = Vec::new();
    let mut buf = vec![0u8; piece];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => return Ok(out),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(_) => return Err(out),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let (kr, header) = setup();
    let piece = usize::from(data.first().copied().unwrap_or(1)).max(1) * 37;
    for stream in [data.to_vec(), [header.as_slice(), data].concat()] {
        let whole = open_all(kr, None, &stream);
        let in_order = read_in_order(kr, &stream, piece);
        match (&whole, &in_order) {
            (Ok(plain), Ok(read)) => {
                assert_eq!(&plain[..], &read[..]);
                // Only a forgery of AES-GCM would get here with data after a real header.
                assert!(plain.iter().all(|b| *b == 0x5a));
            }
            (Err(_), Err(prefix)) => {
                // Released before the failure: authenticated chunks of the real stream only.
                assert!(prefix.iter().all(|b| *b == 0x5a));
            }
            _ => panic!("the reader and open_all disagree"),
        }
        if let Ok(mut seekable) = fieldcrypt_files::SeekableOpenReader::new(kr, None, Cursor::new(&stream)) {
            // Opening the last chunk up front succeeded: a whole stream, as open_all says.
            let mut all = Vec::new();
            if seekable.read_to_end(&mut all).is_ok() {
                assert!(whole.as_ref().is_ok_and(|p| p[..] == all[..]));
            }
        }
    }
});
