//! The per-value primitives, each beside the others in one run: where a short field's time goes.
//!
//! `cargo bench -p fieldcrypt --bench primitives` prints, in nanoseconds per call (best of five
//! rounds): the nonce sources that keep fork and VM-snapshot safety (aws-lc's DRBG, the kernel's
//! `getrandom` as a system call and through the vDSO), an AES-256-GCM key setup and a 64-byte
//! seal and open through each backend (aws-lc-rs, RustCrypto `aes-gcm`), and the raw baseline.
//! docs/PERFORMANCE.md records the figures and the decisions taken from them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Instant;

use aes_gcm::aead::{AeadInOut, KeyInit};

/// AES-256-GCM over the encrypt-only AES key schedule (GCM never decrypts a block).
type GcmEnc = aes_gcm::AesGcm<aes::Aes256Enc, aes_gcm::aead::consts::U12>;

/// Nanoseconds per call of `f`: best of five rounds of about 0.2 s each.
fn time_ns(mut f: impl FnMut()) -> f64 {
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let round = seconds / 5.0;
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

fn row(name: &str, ns: f64) {
    println!("{name:<60} {ns:>9.1}");
}

fn main() {
    // cargo bench passes --bench; a filter argument is ignored.
    println!("{:<60} {:>9}", "per call (best of 5 rounds)", "ns");

    let mut nonce = [0u8; 24];
    row(
        "nonce 24 B: aws-lc DRBG (aws_lc_rs::rand::fill)",
        time_ns(|| aws_lc_rs::rand::fill(black_box(&mut nonce)).unwrap()),
    );
    row(
        "nonce 24 B: kernel getrandom, system call (getrandom crate)",
        time_ns(|| getrandom::fill(black_box(&mut nonce)).unwrap()),
    );
    match vdso_rng::Pool::new() {
        Ok(pool) => {
            let mut local = vdso_rng::LocalState::new(&pool).unwrap();
            row(
                "nonce 24 B: kernel getrandom, vDSO (vdso-rng)",
                time_ns(|| local.fill(black_box(&mut nonce), 0).unwrap()),
            );
        }
        Err(e) => println!("nonce 24 B: kernel getrandom, vDSO: not available here ({e})"),
    }

    let key = [7u8; 32];
    row(
        "AES-256-GCM key setup: aws-lc-rs (UnboundKey + LessSafeKey)",
        time_ns(|| {
            let k =
                aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, black_box(&key))
                    .unwrap();
            black_box(aws_lc_rs::aead::LessSafeKey::new(k));
        }),
    );
    row(
        "AES-256-GCM key setup: RustCrypto aes-gcm (Aes256Gcm::new)",
        time_ns(|| {
            black_box(aes_gcm::Aes256Gcm::new(black_box(&key.into())));
        }),
    );
    row(
        "AES-256-GCM key setup: RustCrypto, encrypt-only AES (AesGcm<Aes256Enc>)",
        time_ns(|| {
            black_box(GcmEnc::new(black_box(&key.into())));
        }),
    );
    row(
        "AES-256 block key setup: aws-lc-rs (EncryptingKey::ecb)",
        time_ns(|| {
            let k = aws_lc_rs::cipher::UnboundCipherKey::new(
                &aws_lc_rs::cipher::AES_256,
                black_box(&key),
            )
            .unwrap();
            black_box(aws_lc_rs::cipher::EncryptingKey::ecb(k).unwrap());
        }),
    );
    row(
        "AES-256 block key setup: RustCrypto aes (Aes256::new)",
        time_ns(|| {
            black_box(aes::Aes256::new(black_box(&key.into())));
        }),
    );
    row(
        "AES-256 block key setup: RustCrypto aes, encrypt only (Aes256Enc::new)",
        time_ns(|| {
            black_box(aes::Aes256Enc::new(black_box(&key.into())));
        }),
    );
    {
        use aes::cipher::BlockCipherEncrypt;
        let ecb = aws_lc_rs::cipher::EncryptingKey::ecb(
            aws_lc_rs::cipher::UnboundCipherKey::new(&aws_lc_rs::cipher::AES_256, &key).unwrap(),
        )
        .unwrap();
        let mut blocks = [0u8; 48];
        row(
            "AES-256 3 blocks (XAES derivation): aws-lc-rs ECB",
            time_ns(|| {
                ecb.encrypt(black_box(&mut blocks)).unwrap();
            }),
        );
        let rc = aes::Aes256::new(&key.into());
        let mut b3 = [aes::Block::default(); 3];
        row(
            "AES-256 3 blocks (XAES derivation): RustCrypto aes",
            time_ns(|| {
                rc.encrypt_blocks(black_box(&mut b3));
            }),
        );
    }

    let ctx = fieldcrypt::Context::new("customers", "email")
        .and_then(|c| c.with_row(42i64))
        .unwrap();
    let kr = fieldcrypt::Keyring::generate(fieldcrypt::Suite::KcXaes256Gcm).unwrap();
    println!(
        "(the envelope's nonces: {})",
        fieldcrypt::os_random::source()
    );
    for size in [16usize, 64, 1024] {
        let value = "x".repeat(size);
        row(
            &format!("{size} B envelope seal+open (KC-XAES, typed, context)"),
            time_ns(|| {
                let sealed = kr.seal(&ctx, black_box(value.as_str())).unwrap();
                let opened: String = kr.open(&ctx, &sealed).unwrap();
                black_box(opened);
            }),
        );
        let mut sealer = fieldcrypt::Sealer::new(256);
        row(
            &format!("{size} B envelope seal+open, batch (Sealer, read back in order)"),
            time_ns(|| {
                let sealed = sealer.seal(&kr, &ctx, black_box(value.as_str())).unwrap();
                let opened: String = kr.open(&ctx, &sealed).unwrap();
                black_box(opened);
            }),
        );
    }

    let aad = [0u8; 40];
    for size in [16usize, 64, 1024] {
        let plain = vec![b'x'; size];
        let lc = aws_lc_rs::aead::LessSafeKey::new(
            aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &key).unwrap(),
        );
        let mut buf = Vec::with_capacity(size + 16);
        row(
            &format!("{size} B seal+open, prepared key: aws-lc-rs"),
            time_ns(|| {
                buf.clear();
                buf.extend_from_slice(black_box(&plain));
                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key([1; 12]);
                let tag = lc
                    .seal_in_place_separate_tag(n, aws_lc_rs::aead::Aad::from(&aad), &mut buf)
                    .unwrap();
                buf.extend_from_slice(tag.as_ref());
                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key([1; 12]);
                black_box(
                    lc.open_in_place(n, aws_lc_rs::aead::Aad::from(&aad), &mut buf)
                        .unwrap()
                        .len(),
                );
            }),
        );
        let rc = aes_gcm::Aes256Gcm::new(&key.into());
        row(
            &format!("{size} B seal+open, prepared key: RustCrypto aes-gcm"),
            time_ns(|| {
                buf.clear();
                buf.extend_from_slice(black_box(&plain));
                let tag = rc
                    .encrypt_inout_detached(&[1; 12].into(), &aad, buf.as_mut_slice().into())
                    .unwrap();
                rc.decrypt_inout_detached(&[1; 12].into(), &aad, buf.as_mut_slice().into(), &tag)
                    .unwrap();
                black_box(buf.len());
            }),
        );
        row(
            &format!("{size} B seal+open, key set up per value: aws-lc-rs"),
            time_ns(|| {
                buf.clear();
                buf.extend_from_slice(black_box(&plain));
                let lc = aws_lc_rs::aead::LessSafeKey::new(
                    aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &key).unwrap(),
                );
                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key([1; 12]);
                let tag = lc
                    .seal_in_place_separate_tag(n, aws_lc_rs::aead::Aad::from(&aad), &mut buf)
                    .unwrap();
                buf.extend_from_slice(tag.as_ref());
                let lc = aws_lc_rs::aead::LessSafeKey::new(
                    aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, &key).unwrap(),
                );
                let n = aws_lc_rs::aead::Nonce::assume_unique_for_key([1; 12]);
                black_box(
                    lc.open_in_place(n, aws_lc_rs::aead::Aad::from(&aad), &mut buf)
                        .unwrap()
                        .len(),
                );
            }),
        );
        row(
            &format!("{size} B seal+open, key set up per value: RustCrypto, encrypt-only AES"),
            time_ns(|| {
                buf.clear();
                buf.extend_from_slice(black_box(&plain));
                let rc = GcmEnc::new(black_box(&key.into()));
                let tag = rc
                    .encrypt_inout_detached(&[1; 12].into(), &aad, buf.as_mut_slice().into())
                    .unwrap();
                let rc = GcmEnc::new(black_box(&key.into()));
                rc.decrypt_inout_detached(&[1; 12].into(), &aad, buf.as_mut_slice().into(), &tag)
                    .unwrap();
                black_box(buf.len());
            }),
        );
        row(
            &format!("{size} B seal+open, key set up per value: RustCrypto aes-gcm"),
            time_ns(|| {
                buf.clear();
                buf.extend_from_slice(black_box(&plain));
                let rc = aes_gcm::Aes256Gcm::new(black_box(&key.into()));
                let tag = rc
                    .encrypt_inout_detached(&[1; 12].into(), &aad, buf.as_mut_slice().into())
                    .unwrap();
                let rc = aes_gcm::Aes256Gcm::new(black_box(&key.into()));
                rc.decrypt_inout_detached(&[1; 12].into(), &aad, buf.as_mut_slice().into(), &tag)
                    .unwrap();
                black_box(buf.len());
            }),
        );
    }
}
