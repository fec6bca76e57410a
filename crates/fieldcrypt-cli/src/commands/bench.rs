//! `fieldcrypt bench`: fieldcrypt against raw AES-256-GCM, measured in the same process and run.
//!
//! Each figure is the best of five rounds (the least disturbed by the rest of the machine). The
//! raw baseline uses a prepared aws-lc-rs AES-256-GCM key and a counter nonce: the cheapest
//! authenticated encryption there is, with no key derivation, no commitment, no context, no type.

use std::hint::black_box;
use std::time::Instant;

use anyhow::Result;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use fieldcrypt::{Context, IndexDefinition, Keyring, Normalizer, Sealer, Suite};

use crate::cli::BenchArgs;

/// Nanoseconds per call of `f`: best of five rounds of about `seconds / 5` each.
fn time_ns(seconds: f64, mut f: impl FnMut()) -> f64 {
    let round = seconds / 5.0;
    // Calibrate a batch size that takes about a millisecond.
    let mut batch = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed().as_secs_f64() > 1e-3 || batch > 1 << 30 {
            break;
        }
        batch *= 2;
    }
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        let mut calls = 0u64;
        while start.elapsed().as_secs_f64() < round {
            for _ in 0..batch {
                f();
            }
            calls += batch;
        }
        best = best.min(start.elapsed().as_secs_f64() * 1e9 / calls as f64);
    }
    best
}

struct Raw {
    key: LessSafeKey,
    counter: u64,
}

impl Raw {
    fn new() -> Result<Self> {
        let key = LessSafeKey::new(
            UnboundKey::new(&AES_256_GCM, &[7u8; 32]).map_err(|_| anyhow::anyhow!("aes key"))?,
        );
        Ok(Self { key, counter: 0 })
    }

    /// Seal a copy of `plaintext` and open it again, as a database round trip would.
    fn seal_open(&mut self, plaintext: &[u8]) -> usize {
        self.counter += 1;
        let mut n = [0u8; 12];
        n[4..].copy_from_slice(&self.counter.to_be_bytes());
        let mut buf = plaintext.to_vec();
        let Ok(tag) = self.key.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(n),
            Aad::empty(),
            &mut buf,
        ) else {
            return 0;
        };
        buf.extend_from_slice(tag.as_ref());
        let mut stored = buf.clone();
        self.key
            .open_in_place(Nonce::assume_unique_for_key(n), Aad::empty(), &mut stored)
            .map(|p| p.len())
            .unwrap_or(0)
    }
}

pub(crate) fn run(args: &BenchArgs) -> Result<()> {
    let s = args.seconds;
    let ctx = Context::new("customers", "email")?.with_row(42i64)?;
    let kc = Keyring::generate(Suite::KcXaes256Gcm)?;
    let x = Keyring::generate(Suite::Xaes256Gcm)?;
    let field = "x".repeat(64);
    let big = vec![0x5Au8; 1 << 20];
    let mut raw = Raw::new()?;

    let raw_64 = time_ns(s, || {
        black_box(raw.seal_open(black_box(field.as_bytes())));
    });
    // What one nonce costs here: every envelope draws a fresh 24 bytes from the kernel.
    let rng_24 = time_ns(s, || {
        let _ = black_box(fieldcrypt::random_array::<24>());
    });
    let seal_open = |kr: &Keyring, text: bool| {
        time_ns(s, || {
            let opened: String = if text {
                let t = kr
                    .seal_text(&ctx, black_box(field.as_str()))
                    .unwrap_or_default();
                kr.open_text(&ctx, &t).unwrap_or_default()
            } else {
                let b = kr.seal(&ctx, black_box(field.as_str())).unwrap_or_default();
                kr.open(&ctx, &b).unwrap_or_default()
            };
            black_box(opened);
        })
    };
    // The same with nonces drawn 256 at a time (fieldcrypt::Sealer, fieldcrypt_sqlx::bulk).
    let mut sealer = Sealer::new(256);
    let kc_64_bulk = time_ns(s, || {
        let b = sealer
            .seal(&kc, &ctx, black_box(field.as_str()))
            .unwrap_or_default();
        let opened: String = kc.open(&ctx, &b).unwrap_or_default();
        black_box(opened);
    });
    let kc_64 = seal_open(&kc, false);
    let kc_64_text = seal_open(&kc, true);
    let x_64 = seal_open(&x, false);

    let raw_1m = time_ns(s, || {
        black_box(raw.seal_open(black_box(&big)));
    });
    let kc_1m = time_ns(s, || {
        let b = kc.seal(&ctx, black_box(&big)).unwrap_or_default();
        let opened: Vec<u8> = kc.open(&ctx, &b).unwrap_or_default();
        black_box(opened);
    });

    let plain_def = IndexDefinition::new("customers", "email", "email_exact", 16);
    let ci_def = IndexDefinition::new("customers", "email", "email_ci", 16)
        .normalized(Normalizer::parse_list("nfkc,trim,casefold")?);
    let plain_ix = kc.blind_indexer(&plain_def)?;
    let ci_ix = kc.blind_indexer(&ci_def)?;
    let ix_plain = time_ns(s, || {
        let _ = black_box(plain_ix.compute(black_box(field.as_str())));
    });
    let ix_ci = time_ns(s, || {
        let _ = black_box(ci_ix.compute(black_box(field.as_str())));
    });

    // Seal + open by value size: raw, value by value (a fresh nonce each), and a batch (one
    // Sealer, read back in order).
    let mut per_size = Vec::new();
    for &size in &args.sizes {
        let value = vec![0x5Au8; size];
        let raw_ns = time_ns(s, || {
            black_box(raw.seal_open(black_box(&value)));
        });
        let value_ns = time_ns(s, || {
            let b = kc.seal(&ctx, black_box(&value)).unwrap_or_default();
            let opened: Vec<u8> = kc.open(&ctx, &b).unwrap_or_default();
            black_box(opened);
        });
        let mut sealer = Sealer::new(256);
        let batch_ns = time_ns(s, || {
            let b = sealer
                .seal(&kc, &ctx, black_box(&value))
                .unwrap_or_default();
            let opened: Vec<u8> = kc.open(&ctx, &b).unwrap_or_default();
            black_box(opened);
        });
        per_size.push((size, raw_ns, value_ns, batch_ns));
    }

    let mbps = |ns: f64| (1u64 << 20) as f64 / ns * 1e3; // MB/s (10^6) for one MiB seal+open
    let tput = mbps(kc_1m) / mbps(raw_1m);
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "raw_aes256gcm_64b_seal_open_ns": raw_64,
                "kc_xaes_64b_seal_open_ns": kc_64,
                "kc_xaes_64b_text_seal_open_ns": kc_64_text,
                "kc_xaes_64b_bulk_seal_open_ns": kc_64_bulk,
                "xaes_64b_seal_open_ns": x_64,
                "ratio_kc_xaes_64b": kc_64 / raw_64,
                "csprng_24b_ns": rng_24,
                "nonce_source": fieldcrypt::os_random::source(),
                "ratio_kc_xaes_64b_vs_raw_plus_random_nonce": kc_64 / (raw_64 + rng_24),
                "raw_aes256gcm_1mib_mb_per_s": mbps(raw_1m),
                "kc_xaes_1mib_mb_per_s": mbps(kc_1m),
                "throughput_fraction_1mib": tput,
                "blind_index_64b_ns": ix_plain,
                "blind_index_64b_normalised_ns": ix_ci,
                "per_size": per_size.iter().map(|&(bytes, raw, value, batch)| serde_json::json!({
                    "bytes": bytes,
                    "raw_aes256gcm_ns": raw,
                    "kc_xaes_ns": value,
                    "kc_xaes_batch_ns": batch,
                })).collect::<Vec<_>>(),
            })
        );
        return Ok(());
    }
    let ok = |b: bool| if b { "ok" } else { "MISSED" };
    println!("fieldcrypt bench (best of 5 rounds, {s:.1} s per figure, one thread)\n");
    println!(
        "{:<44} {:>12} {:>10}  target",
        "64-byte field, seal + open", "ns", "x raw"
    );
    println!(
        "{:<44} {:>12.0} {:>10}  baseline",
        "raw AES-256-GCM, prepared key", raw_64, "1.00"
    );
    println!(
        "{:<44} {:>12.0} {:>10.2}  <= 3.5x  {}",
        "KC-XAES-256-GCM envelope (binary, typed, ctx)",
        kc_64,
        kc_64 / raw_64,
        ok(kc_64 / raw_64 <= 3.5)
    );
    println!(
        "{:<44} {:>12.0} {:>10.2}  <= 2.5x  {}",
        "  same, batch sealer (Sealer, bulk)",
        kc_64_bulk,
        kc_64_bulk / raw_64,
        ok(kc_64_bulk / raw_64 <= 2.5)
    );
    println!(
        "{:<44} {:>12.0} {:>10.2}",
        "KC-XAES-256-GCM envelope (text form)",
        kc_64_text,
        kc_64_text / raw_64
    );
    println!(
        "{:<44} {:>12.0} {:>10.2}",
        "XAES-256-GCM envelope (binary)",
        x_64,
        x_64 / raw_64
    );
    println!(
        "{:<44} {:>12.0} {:>10.2}  ({})",
        "  of which: a fresh 24-byte nonce",
        rng_24,
        rng_24 / raw_64,
        fieldcrypt::os_random::source()
    );
    println!(
        "{:<44} {:>12.0} {:>10.2}  (envelope vs this: {:.2}x)",
        "raw AES-256-GCM + random nonce, same source",
        raw_64 + rng_24,
        (raw_64 + rng_24) / raw_64,
        kc_64 / (raw_64 + rng_24)
    );
    println!();
    println!(
        "{:<44} {:>12} {:>10}  target",
        "1 MiB value, seal + open", "MB/s", "of raw"
    );
    println!(
        "{:<44} {:>12.0} {:>10}  baseline",
        "raw AES-256-GCM, prepared key",
        mbps(raw_1m),
        "100%"
    );
    println!(
        "{:<44} {:>12.0} {:>9.0}%  >= 90%  {}",
        "KC-XAES-256-GCM envelope (binary)",
        mbps(kc_1m),
        tput * 100.0,
        ok(tput >= 0.9)
    );
    if !per_size.is_empty() {
        println!();
        println!(
            "{:<10} {:>12} {:>14} {:>8} {:>14} {:>8}",
            "seal+open", "raw ns", "per value ns", "x raw", "batch ns", "x raw"
        );
        for (bytes, raw, value, batch) in &per_size {
            println!(
                "{:<10} {raw:>12.0} {value:>14.0} {:>8.2} {batch:>14.0} {:>8.2}",
                format!("{bytes} B"),
                value / raw,
                batch / raw
            );
        }
    }
    println!();
    println!(
        "{:<44} {:>12}  target",
        "blind index of a 64-byte value", "ns"
    );
    println!(
        "{:<44} {:>12.0}  < 1000  {}",
        "HMAC-SHA-256, 16 bits, no normalisers",
        ix_plain,
        ok(ix_plain < 1000.0)
    );
    println!(
        "{:<44} {:>12.0}  < 1000  {}",
        "same, nfkc,trim,casefold",
        ix_ci,
        ok(ix_ci < 1000.0)
    );
    Ok(())
}
