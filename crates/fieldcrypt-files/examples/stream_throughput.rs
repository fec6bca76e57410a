//! Sealing and opening a stream in memory through the I/O adapters, beside raw AES-256-GCM over
//! the same bytes in the same chunks, measured in the same run. Not a test; `bench/files.sh`
//! runs it (release build).
//!
//!   cargo run --release -p fieldcrypt-files --example stream_throughput -- [MIB]

use std::io::{Read as _, Write as _};
use std::time::Instant;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use fieldcrypt::{Keyring, Suite};
use fieldcrypt_files::{DEFAULT_CHUNK_SIZE, OpenReader, SealWriter};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mib: usize = std::env::args().nth(1).map_or(Ok(1024), |a| a.parse())?;
    let len = mib << 20;
    let chunk = DEFAULT_CHUNK_SIZE as usize;
    let mut data = vec![0u8; len];
    aws_lc_rs::rand::fill(&mut data).map_err(|_| "no random source")?;
    let keyring = Keyring::generate(Suite::KcXaes256Gcm)?;
    let gb = len as f64 / 1e9;
    type Step<'a> = Box<dyn FnMut() -> Result<(), Box<dyn std::error::Error>> + 'a>;

    // Raw AES-256-GCM, in place, the same 64 KiB chunks, counter nonces: the ceiling.
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7u8; 32]).map_err(|_| "key")?);
    let mut raw_buf = data.clone();
    let raw_step: Step<'_> = Box::new(|| {
        for (i, c) in raw_buf.chunks_mut(chunk).enumerate() {
            let mut n = [0u8; 12];
            n[4..].copy_from_slice(&(i as u64).to_be_bytes());
            let tag = key
                .seal_in_place_separate_tag(Nonce::assume_unique_for_key(n), Aad::empty(), c)
                .map_err(|_| "seal")?;
            let _ = std::hint::black_box(tag);
        }
        Ok(())
    });

    // Raw AES-256-GCM as the least a streaming encryptor does: each 64 KiB chunk copied from the
    // source into a buffer, sealed there, handed to the sink.
    let mut chunk_buf = vec![0u8; chunk + 16];
    let streamed_step: Step<'_> = Box::new(|| {
        for (i, c) in data.chunks(chunk).enumerate() {
            chunk_buf[..c.len()].copy_from_slice(c);
            let mut n = [0u8; 12];
            n[4..].copy_from_slice(&(i as u64).to_be_bytes());
            let tag = key
                .seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(n),
                    Aad::empty(),
                    &mut chunk_buf[..c.len()],
                )
                .map_err(|_| "seal")?;
            chunk_buf[c.len()..c.len() + 16].copy_from_slice(tag.as_ref());
            std::io::sink().write_all(&chunk_buf[..c.len() + 16])?;
        }
        Ok(())
    });

    // SealWriter fed 1 MiB writes; the sealed bytes go where the raw baseline's go: nowhere
    // (io::sink), so both measure the encryption and what the adapter adds, not a destination.
    let seal_step: Step<'_> = Box::new(|| {
        let mut w = SealWriter::new(&keyring, None, std::io::sink())?;
        for piece in data.chunks(1 << 20) {
            w.write_all(piece)?;
        }
        w.finish()?;
        Ok(())
    });
    let mut sealed = Vec::with_capacity(len + len / chunk * 16 + 4096);
    let mut w = SealWriter::new(&keyring, None, &mut sealed)?;
    w.write_all(&data)?;
    w.finish()?;

    // OpenReader read in 1 MiB pieces.
    let mut out = vec![0u8; 1 << 20];
    let open_step: Step<'_> = Box::new(|| {
        let mut r = OpenReader::new(&keyring, None, &sealed[..])?;
        let mut total = 0;
        loop {
            let n = r.read(&mut out)?;
            if n == 0 {
                break;
            }
            total += n;
        }
        assert_eq!(total, len);
        Ok(())
    });

    // Rounds interleave the three, best of five each: a noisy neighbour slows all alike.
    let mut steps = [raw_step, streamed_step, seal_step, open_step];
    let mut best = [f64::MAX; 4];
    for _ in 0..5 {
        for (step, best) in steps.iter_mut().zip(best.iter_mut()) {
            let t = Instant::now();
            step()?;
            *best = best.min(t.elapsed().as_secs_f64());
        }
    }
    let [raw, streamed, seal, open] = best;

    println!("stream throughput, {mib} MiB in memory, 64 KiB chunks, best of 5 interleaved rounds");
    println!(
        "  raw AES-256-GCM (aws-lc-rs, in place)  {:>7.2} GB/s",
        gb / raw
    );
    println!(
        "  raw AES-256-GCM, streamed (copy, seal)  {:>7.2} GB/s  ({:.0}% of in place)",
        gb / streamed,
        100.0 * raw / streamed
    );
    println!(
        "  SealWriter                             {:>7.2} GB/s  ({:.0}% of raw in place, {:.0}% of raw streamed)",
        gb / seal,
        100.0 * raw / seal,
        100.0 * streamed / seal
    );
    println!(
        "  OpenReader                             {:>7.2} GB/s  ({:.0}% of raw in place, {:.0}% of raw streamed)",
        gb / open,
        100.0 * raw / open,
        100.0 * streamed / open
    );
    Ok(())
}
