//! XAES-256-GCM and KC-XAES-256-GCM against published vectors and an independent implementation.
#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use fieldcrypt::aead::{KcXaes256Gcm, Xaes256Gcm};
use serde_json::Value;
use sha3::Shake128;
use sha3::digest::{ExtendableOutput, Update, XofReader};

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_else(|e| panic!("bad hex in vectors: {e}"))
}

fn vectors() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/xaes/vectors.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn fields(v: &Value) -> ([u8; 32], [u8; 24], Vec<u8>, Vec<u8>) {
    let key: [u8; 32] = unhex(v["key"].as_str().unwrap_or_default())
        .try_into()
        .unwrap_or([0; 32]);
    let nonce: [u8; 24] = v["nonce_ascii"]
        .as_str()
        .unwrap_or_default()
        .as_bytes()
        .try_into()
        .unwrap_or([0; 24]);
    let pt = v["plaintext_ascii"]
        .as_str()
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let aad = v["aad_ascii"]
        .as_str()
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    (key, nonce, pt, aad)
}

#[test]
fn c2sp_known_answers() {
    let all = vectors();
    let list = all["xaes_256_gcm"].as_array().cloned().unwrap_or_default();
    assert!(!list.is_empty());
    for v in &list {
        let (key, nonce, pt, aad) = fields(v);
        let expected = unhex(v["ciphertext_and_tag"].as_str().unwrap_or_default());
        let aead = Xaes256Gcm::new(&key);
        assert_eq!(aead.seal(&nonce, &aad, &pt), expected);
        assert_eq!(aead.open(&nonce, &aad, &expected).ok(), Some(pt));
    }
    eprintln!(
        "vectors: c2sp xaes-256-gcm known answers: {} passed",
        list.len()
    );
}

#[test]
fn kc_xaes_known_answers() {
    let all = vectors();
    let mut list = all["kc_xaes_256_gcm"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    // The third published vector (aws-lc, escodb/cryptography, py-xaes-256-gcm): a 0x42 nonce.
    list.push(serde_json::json!({
        "key": "01".repeat(32), "nonce_ascii": "B".repeat(24),
        "plaintext_ascii": "Hello, XAES-256-GCM!", "aad_ascii": "",
        "ciphertext_tag_commitment": "01e5f78bc99de880bd2eeff2870d361f0eab5b2fc55268f34b14045878fe3668db980319bf37571be1b43aeca64a95d99a2f162e24f8bfd79bbb71fa7d943e6fc060a8ae"
    }));
    for v in &list {
        let (key, nonce, pt, aad) = fields(v);
        let expected = unhex(v["ciphertext_tag_commitment"].as_str().unwrap_or_default());
        let aead = KcXaes256Gcm::new(&key);
        assert_eq!(aead.seal(&nonce, &aad, &pt), expected);
        assert_eq!(aead.open(&nonce, &aad, &expected).ok(), Some(pt.clone()));
        // Any change to the commitment alone is refused.
        let mut bad = expected.clone();
        let last = bad.len() - 1;
        bad[last] ^= 0x80;
        assert!(aead.open(&nonce, &aad, &bad).is_err());
    }
    eprintln!(
        "vectors: kc-xaes-256-gcm known answers: {} passed",
        list.len()
    );
}

/// The C2SP accumulated randomized test: inputs from one SHAKE-128 stream, outputs into another.
fn accumulated(iterations: usize) -> String {
    let mut source = Shake128::default().finalize_xof();
    let mut sink = Shake128::default();
    let mut read = |n: usize| {
        let mut buf = vec![0u8; n];
        source.read(&mut buf);
        buf
    };
    for _ in 0..iterations {
        let key: [u8; 32] = read(32).try_into().unwrap_or([0; 32]);
        let nonce: [u8; 24] = read(24).try_into().unwrap_or([0; 24]);
        let pt_len = read(1)[0] as usize;
        let pt = read(pt_len);
        let aad_len = read(1)[0] as usize;
        let aad = read(aad_len);
        let aead = Xaes256Gcm::new(&key);
        let sealed = aead.seal(&nonce, &aad, &pt);
        assert_eq!(
            aead.open(&nonce, &aad, &sealed).ok().as_deref(),
            Some(&pt[..])
        );
        sink.update(&sealed);
    }
    let mut out = [0u8; 32];
    sink.finalize_xof().read(&mut out);
    hex::encode(out)
}

#[test]
fn c2sp_accumulated_10_000() {
    assert_eq!(
        accumulated(10_000),
        "e6b9edf2df6cec60c8cbd864e2211b597fb69a529160cd040d56c0c210081939"
    );
    eprintln!("vectors: c2sp xaes-256-gcm accumulated: 10000 iterations passed");
}

#[test]
#[ignore = "about a minute in release; run with --ignored"]
fn c2sp_accumulated_1_000_000() {
    assert_eq!(
        accumulated(1_000_000),
        "2163ae1445985a30b60585ee67daa55674df06901b890593e824b8a7c885ab15"
    );
}

/// Differential: our XAES against RustCrypto's `xaes-256-gcm`, and our commitment against
/// RustCrypto's CMAC over `"XCMT" || N || 00 01 00 i`, on pseudo-random inputs of many lengths.
#[test]
fn differential_against_rustcrypto() {
    use cmac::{Cmac, KeyInit, Mac};
    use xaes_256_gcm::aead::{Aead, Payload};

    let mut stream = Shake128::default()
        .chain(b"fieldcrypt differential")
        .finalize_xof();
    let mut read = |n: usize| {
        let mut buf = vec![0u8; n];
        stream.read(&mut buf);
        buf
    };
    let cases = 2_000;
    for i in 0..cases {
        let key: [u8; 32] = read(32).try_into().unwrap_or([0; 32]);
        let nonce: [u8; 24] = read(24).try_into().unwrap_or([0; 24]);
        let pt = read(i % 300);
        let aad = read((i * 7) % 70);

        let theirs = xaes_256_gcm::Xaes256Gcm::new((&key).into())
            .encrypt(
                (&nonce).into(),
                Payload {
                    msg: &pt,
                    aad: &aad,
                },
            )
            .unwrap_or_else(|_| panic!("RustCrypto seal failed"));
        assert_eq!(
            Xaes256Gcm::new(&key).seal(&nonce, &aad, &pt),
            theirs,
            "case {i}"
        );

        let mut expected = theirs.clone();
        for block in 1u8..=2 {
            let mut mac = <Cmac<aes::Aes256> as KeyInit>::new_from_slice(&key)
                .unwrap_or_else(|_| panic!("32-byte CMAC key"));
            mac.update(b"XCMT");
            mac.update(&nonce);
            mac.update(&[0x00, 0x01, 0x00, block]);
            expected.extend_from_slice(&mac.finalize().into_bytes());
        }
        let ours = KcXaes256Gcm::new(&key).seal(&nonce, &aad, &pt);
        assert_eq!(ours, expected, "case {i}");
        assert_eq!(
            KcXaes256Gcm::new(&key).open(&nonce, &aad, &ours).ok(),
            Some(pt)
        );
    }
    eprintln!("vectors: differential vs RustCrypto xaes-256-gcm + cmac: {cases} passed");
}

/// Differential for the batch path: envelopes a `Sealer` makes (many values per nonce prefix and
/// derived key), opened by RustCrypto's `xaes-256-gcm` and checked against RustCrypto's CMAC for
/// the commitment, with the envelope's own header and context as associated data.
#[test]
fn batch_sealed_envelopes_against_rustcrypto() {
    use cmac::{Cmac, KeyInit, Mac};
    use fieldcrypt::{Context, KeyId, Keyring, KeyringId, Sealer, SecretKey, Suite};
    use xaes_256_gcm::aead::{Aead, Payload};

    let key = [0x42u8; 32];
    let keyring = Keyring::from_single_key(
        KeyringId([7; 16]),
        KeyId::new(1).unwrap(),
        Suite::KcXaes256Gcm,
        SecretKey::from_bytes(key),
        SecretKey::from_bytes([9; 32]),
    );
    let context = Context::new("customers", "email")
        .unwrap()
        .with_row(42_i64)
        .unwrap();
    let theirs = xaes_256_gcm::Xaes256Gcm::new((&key).into());
    let mut sealer = Sealer::new(256);
    let cases = 1_000;
    for i in 0..cases {
        let value = vec![i as u8; i % 100];
        let envelope = sealer.seal(&keyring, &context, &value).unwrap();
        let (header, rest) = envelope.split_at(7);
        let (nonce, rest) = rest.split_at(24);
        let nonce: &[u8; 24] = nonce.try_into().unwrap();
        let (sealed, commitment) = rest.split_at(rest.len() - 32);
        let mut aad = header.to_vec();
        aad.extend_from_slice(context.encoded());
        let typed = theirs
            .decrypt(
                nonce.into(),
                Payload {
                    msg: sealed,
                    aad: &aad,
                },
            )
            .unwrap_or_else(|_| panic!("case {i}: RustCrypto does not open it"));
        assert_eq!(&typed[1..], &value[..], "case {i}");
        let mut expected = Vec::new();
        for block in 1u8..=2 {
            let mut mac = <Cmac<aes::Aes256> as KeyInit>::new_from_slice(&key).unwrap();
            mac.update(b"XCMT");
            mac.update(nonce);
            mac.update(&[0x00, 0x01, 0x00, block]);
            expected.extend_from_slice(&mac.finalize().into_bytes());
        }
        assert_eq!(commitment, &expected[..], "case {i}: commitment");
    }
    eprintln!("vectors: batch-sealed envelopes vs RustCrypto xaes-256-gcm + cmac: {cases} passed");
}
