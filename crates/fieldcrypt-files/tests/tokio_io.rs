//! The tokio adapters: round trips through small writes and reads, and a cut stream failing.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use fieldcrypt::stream::{STREAM_CHUNK_OVERHEAD, STREAM_HEADER_LEN, open_all, seal_all};
use fieldcrypt::{Keyring, Suite};
use fieldcrypt_files::{AsyncOpenReader, AsyncSealWriter, Error, file_context};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const CHUNK: u32 = 1024;

#[tokio::test]
async fn async_round_trips_and_cuts() {
    let keyring = Keyring::generate(Suite::KcXaes256Gcm).unwrap();
    let ctx = file_context("uploads", "x").unwrap();
    for len in [0usize, 1, 1023, 1024, 1025, 10_000] {
        let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
        let mut w = AsyncSealWriter::new(&keyring, Some(&ctx), CHUNK, Vec::new()).unwrap();
        for part in plain.chunks(333) {
            w.write_all(part).await.unwrap();
        }
        w.shutdown().await.unwrap();
        let sealed = w.into_inner();
        assert_eq!(
            &open_all(&keyring, Some(&ctx), &sealed).unwrap()[..],
            &plain[..]
        );

        let core = seal_all(&keyring, Some(&ctx), CHUNK, &plain).unwrap();
        let mut r = AsyncOpenReader::new(&keyring, Some(&ctx), &core[..])
            .await
            .unwrap();
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, plain, "len {len}");
    }
    let plain = vec![7u8; 3000];
    let sealed = seal_all(&keyring, Some(&ctx), CHUNK, &plain).unwrap();
    let cut = STREAM_HEADER_LEN + 2 * (CHUNK as usize + STREAM_CHUNK_OVERHEAD);
    let mut r = AsyncOpenReader::new(&keyring, Some(&ctx), &sealed[..cut])
        .await
        .unwrap();
    let err = r.read_to_end(&mut Vec::new()).await.unwrap_err();
    assert!(matches!(
        Error::from(err),
        Error::Stream(fieldcrypt::Error::CannotOpen)
    ));
}
