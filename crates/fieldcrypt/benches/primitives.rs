//! The per-value primitives, each beside the others in one run: where a short field's time goes.
//!
//! `cargo bench -p fieldcrypt --bench primitives` (criterion) measures, per call: the nonce
//! sources that keep fork and VM-snapshot safety (aws-lc's DRBG, the kernel's `getrandom` as a
//! system call and through the vDSO), AES-256-GCM and AES-256 key setups, the XAES derivation's
//! blocks, and seal + open at 16 B, 64 B and 1 KiB through each backend (aws-lc-rs, RustCrypto)
//! with a prepared key and with a key set up per value, beside the envelope itself.
//! docs/PERFORMANCE.md records the figures and the decisions taken from them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

use aes_gcm::aead::{AeadInOut, KeyInit};

/// AES-256-GCM over the encrypt-only AES key schedule (GCM never decrypts a block).
type GcmEnc = aes_gcm::AesGcm<aes::Aes256Enc, aes_gcm::aead::consts::U12>;

/// One measurement: `f` as criterion benchmark `name`.
fn row(c: &mut Criterion, name: &str, mut f: impl FnMut()) {
    c.bench_function(name, |b| b.iter(&mut f));
}

fn primitives(c: &mut Criterion) {
    let mut nonce = [0u8; 24];
    row(c, "nonce 24 B: aws-lc DRBG (aws_lc_rs::rand::fill)", || {
        aws_lc_rs::rand::fill(black_box(&mut nonce)).unwrap()
    });
    row(
        c,
        "nonce 24 B: kernel getrandom, system call (getrandom crate)",
        || getrandom::fill(black_box(&mut nonce)).unwrap(),
    );
    match vdso_rng::Pool::new() {
        Ok(pool) => {
            let mut local = vdso_rng::LocalState::new(&pool).unwrap();
            row(c, "nonce 24 B: kernel getrandom, vDSO (vdso-rng)", || {
                local.fill(black_box(&mut nonce), 0).unwrap()
            });
        }
        Err(e) => println!("nonce 24 B: kernel getrandom, vDSO: not available here ({e})"),
    }

    let key = [7u8; 32];
    row(
        c,
        "AES-256-GCM key setup: aws-lc-rs (UnboundKey + LessSafeKey)",
        || {
            let k =
                aws_lc_rs::aead::UnboundKey::new(&aws_lc_rs::aead::AES_256_GCM, black_box(&key))
                    .unwrap();
            black_box(aws_lc_rs::aead::LessSafeKey::new(k));
        },
    );
    row(
        c,
        "AES-256-GCM key setup: RustCrypto aes-gcm (Aes256Gcm::new)",
        || {
            black_box(aes_gcm::Aes256Gcm::new(black_box(&key.into())));
        },
    );
    row(
        c,
        "AES-256-GCM key setup: RustCrypto, encrypt-only AES (AesGcm<Aes256Enc>)",
        || {
            black_box(GcmEnc::new(black_box(&key.into())));
        },
    );
    row(
        c,
        "AES-256 block key setup: aws-lc-rs (EncryptingKey::ecb)",
        || {
            let k = aws_lc_rs::cipher::UnboundCipherKey::new(
                &aws_lc_rs::cipher::AES_256,
                black_box(&key),
            )
            .unwrap();
            black_box(aws_lc_rs::cipher::EncryptingKey::ecb(k).unwrap());
        },
    );
    row(
        c,
        "AES-256 block key setup: RustCrypto aes (Aes256::new)",
        || {
            black_box(aes::Aes256::new(black_box(&key.into())));
        },
    );
    row(
        c,
        "AES-256 block key setup: RustCrypto aes, encrypt only (Aes256Enc::new)",
        || {
            black_box(aes::Aes256Enc::new(black_box(&key.into())));
        },
    );
    {
        use aes::cipher::BlockCipherEncrypt;
        let ecb = aws_lc_rs::cipher::EncryptingKey::ecb(
            aws_lc_rs::cipher::UnboundCipherKey::new(&aws_lc_rs::cipher::AES_256, &key).unwrap(),
        )
        .unwrap();
        let mut blocks = [0u8; 48];
        row(
            c,
            "AES-256 3 blocks (XAES derivation): aws-lc-rs ECB",
            || {
                ecb.encrypt(black_box(&mut blocks)).unwrap();
            },
        );
        let rc = aes::Aes256::new(&key.into());
        let mut b3 = [aes::Block::default(); 3];
        row(
            c,
            "AES-256 3 blocks (XAES derivation): RustCrypto aes",
            || {
                rc.encrypt_blocks(black_box(&mut b3));
            },
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
            c,
            &format!("{size} B envelope seal+open (KC-XAES, typed, context)"),
            || {
                let sealed = kr.seal(&ctx, black_box(value.as_str())).unwrap();
                let opened: String = kr.open(&ctx, &sealed).unwrap();
                black_box(opened);
            },
        );
        let mut sealer = fieldcrypt::Sealer::new(256);
        row(
            c,
            &format!("{size} B envelope seal+open, batch (Sealer, read back in order)"),
            || {
                let sealed = sealer.seal(&kr, &ctx, black_box(value.as_str())).unwrap();
                let opened: String = kr.open(&ctx, &sealed).unwrap();
                black_box(opened);
            },
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
            c,
            &format!("{size} B seal+open, prepared key: aws-lc-rs"),
            || {
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
            },
        );
        let rc = aes_gcm::Aes256Gcm::new(&key.into());
        row(
            c,
            &format!("{size} B seal+open, prepared key: RustCrypto aes-gcm"),
            || {
                buf.clear();
                buf.extend_from_slice(black_box(&plain));
                let tag = rc
                    .encrypt_inout_detached(&[1; 12].into(), &aad, buf.as_mut_slice().into())
                    .unwrap();
                rc.decrypt_inout_detached(&[1; 12].into(), &aad, buf.as_mut_slice().into(), &tag)
                    .unwrap();
                black_box(buf.len());
            },
        );
        row(
            c,
            &format!("{size} B seal+open, key set up per value: aws-lc-rs"),
            || {
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
            },
        );
        row(
            c,
            &format!("{size} B seal+open, key set up per value: RustCrypto, encrypt-only AES"),
            || {
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
            },
        );
        row(
            c,
            &format!("{size} B seal+open, key set up per value: RustCrypto aes-gcm"),
            || {
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
            },
        );
    }
}

criterion_group! {
    name = all;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = primitives
}
criterion_main!(all);
