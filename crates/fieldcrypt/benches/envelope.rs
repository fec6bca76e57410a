//! Criterion benches: the envelope and blind indexes beside raw AES-256-GCM in the same run.
//! `cargo bench -p fieldcrypt`.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fieldcrypt::{Context, IndexDefinition, Keyring, Normalizer, Suite};

fn raw_seal_open(key: &LessSafeKey, counter: &mut u64, plaintext: &[u8]) -> usize {
    *counter += 1;
    let mut n = [0u8; 12];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    let mut buf = plaintext.to_vec();
    let Ok(tag) =
        key.seal_in_place_separate_tag(Nonce::assume_unique_for_key(n), Aad::empty(), &mut buf)
    else {
        return 0;
    };
    buf.extend_from_slice(tag.as_ref());
    let mut stored = buf.clone();
    key.open_in_place(Nonce::assume_unique_for_key(n), Aad::empty(), &mut stored)
        .map(|p| p.len())
        .unwrap_or(0)
}

fn benches(c: &mut Criterion) {
    let ctx = Context::new("customers", "email")
        .and_then(|c| c.with_row(42i64))
        .unwrap_or_else(|e| panic!("{e}"));
    let raw =
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[7; 32]).unwrap_or_else(|_| panic!("key")));
    let mut counter = 0u64;

    for size in [64usize, 1 << 20] {
        let mut group = c.benchmark_group(format!("seal+open {size} B"));
        group.throughput(Throughput::Bytes(size as u64));
        if size > 4096 {
            group.sample_size(20);
        }
        let data = vec![b'x'; size];
        group.bench_function("raw AES-256-GCM (baseline)", |b| {
            b.iter(|| raw_seal_open(&raw, &mut counter, black_box(&data)))
        });
        for suite in Suite::ALL {
            let kr = Keyring::generate(suite).unwrap_or_else(|e| panic!("{e}"));
            group.bench_function(format!("{} envelope", suite.name()), |b| {
                b.iter(|| {
                    let sealed = kr.seal(&ctx, black_box(&data)).unwrap_or_default();
                    let opened: Vec<u8> = kr.open(&ctx, &sealed).unwrap_or_default();
                    opened.len()
                })
            });
        }
        group.finish();
    }

    let kr = Keyring::generate(Suite::KcXaes256Gcm).unwrap_or_else(|e| panic!("{e}"));
    let value = "x".repeat(64);
    let mut group = c.benchmark_group("blind index 64 B");
    for (name, norms) in [
        ("no normalisers", ""),
        ("nfkc,trim,casefold", "nfkc,trim,casefold"),
    ] {
        let def = IndexDefinition::new("customers", "email", "email_idx", 16)
            .normalized(Normalizer::parse_list(norms).unwrap_or_default());
        let ix = kr.blind_indexer(&def).unwrap_or_else(|e| panic!("{e}"));
        group.bench_function(name, |b| b.iter(|| ix.compute(black_box(&value))));
    }
    group.finish();
}

criterion_group!(all, benches);
criterion_main!(all);
