//! Streams: round trips at the sizes that matter, and every attack the format must detect:
//! truncation at any chunk boundary, reordered, repeated and dropped chunks, chunks spliced from
//! another stream, bytes after the last chunk, any header byte changed, another key, keyring or
//! context. A property test cuts and splices at random.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use fieldcrypt::stream::{
    MIN_CHUNK_SIZE, STREAM_CHUNK_OVERHEAD, STREAM_HEADER_LEN, StreamHeader, open_all, seal_all,
};
use fieldcrypt::{Context, Error, Keyring, Suite};
use proptest::prelude::*;

const CHUNK: u32 = MIN_CHUNK_SIZE;

fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

fn ctx() -> Context {
    Context::new("uploads", "passport.pdf").unwrap()
}

/// The sealed chunks of a stream, header apart.
fn chunks(sealed: &[u8]) -> (Vec<u8>, Vec<Vec<u8>>) {
    let header = sealed[..STREAM_HEADER_LEN].to_vec();
    let full = CHUNK as usize + STREAM_CHUNK_OVERHEAD;
    (
        header,
        sealed[STREAM_HEADER_LEN..]
            .chunks(full)
            .map(<[u8]>::to_vec)
            .collect(),
    )
}

fn join(header: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut out = header.to_vec();
    for c in chunks {
        out.extend_from_slice(c);
    }
    out
}

#[test]
fn round_trips_at_every_size_that_matters() {
    let keyring = Keyring::generate(Suite::default()).unwrap();
    let c = CHUNK as usize;
    for n in [0, 1, c - 1, c, c + 1, 2 * c, 3 * c + 7, 3 * 1024 * 1024 + 5] {
        for context in [None, Some(ctx())] {
            let plain = data(n);
            let chunk = if n > 1024 * 1024 { 64 * 1024 } else { CHUNK };
            let sealed = seal_all(&keyring, context.as_ref(), chunk, &plain).unwrap();
            let header = StreamHeader::parse(&sealed).unwrap();
            assert_eq!(
                sealed.len() as u64,
                header.sealed_len(n as u64),
                "length of {n}"
            );
            assert_eq!(
                &*open_all(&keyring, context.as_ref(), &sealed).unwrap(),
                &plain,
                "{n} bytes"
            );
        }
    }
}

#[test]
fn every_attack_is_detected() {
    let keyring = Keyring::generate(Suite::default()).unwrap();
    let plain = data(4 * CHUNK as usize + 100); // 5 chunks, the last short
    let sealed = seal_all(&keyring, Some(&ctx()), CHUNK, &plain).unwrap();
    let (header, parts) = chunks(&sealed);
    assert_eq!(parts.len(), 5);
    let refused = |bytes: &[u8]| {
        let result = open_all(&keyring, Some(&ctx()), bytes);
        assert!(result.is_err(), "accepted a damaged stream");
        result.err()
    };

    // Truncation at every chunk boundary, the header alone included.
    for keep in 0..parts.len() {
        assert_eq!(
            refused(&join(&header, &parts[..keep])),
            Some(Error::CannotOpen),
            "keep {keep}"
        );
    }
    // Truncation inside the last chunk, and inside a middle one.
    assert!(refused(&sealed[..sealed.len() - 1]).is_some());
    assert!(refused(&sealed[..STREAM_HEADER_LEN + 10]).is_some());
    // Reordered, repeated, dropped chunks.
    let mut swapped = parts.clone();
    swapped.swap(1, 2);
    refused(&join(&header, &swapped));
    let mut repeated = parts.clone();
    repeated.insert(2, parts[1].clone());
    refused(&join(&header, &repeated));
    let mut dropped = parts.clone();
    dropped.remove(2);
    refused(&join(&header, &dropped));
    // A chunk of another stream under the same key and context, at the same position.
    let other = seal_all(
        &keyring,
        Some(&ctx()),
        CHUNK,
        &data(4 * CHUNK as usize + 100),
    )
    .unwrap();
    let (_, other_parts) = chunks(&other);
    let mut spliced = parts.clone();
    spliced[2] = other_parts[2].clone();
    assert_eq!(refused(&join(&header, &spliced)), Some(Error::CannotOpen));
    // Bytes after the last chunk: one byte, and a whole extra chunk.
    let mut appended = sealed.clone();
    appended.push(0);
    refused(&appended);
    let mut extra = parts.clone();
    extra.push(parts[0].clone());
    refused(&join(&header, &extra));
    // Any header byte changed.
    for i in 0..STREAM_HEADER_LEN {
        let mut bad = sealed.clone();
        bad[i] ^= 0x01;
        refused(&bad);
    }
    // Another context, none, another keyring; a retired key.
    assert_eq!(
        open_all(
            &keyring,
            Some(&Context::new("uploads", "other.pdf").unwrap()),
            &sealed
        )
        .err(),
        Some(Error::CannotOpen)
    );
    assert_eq!(
        open_all(&keyring, None, &sealed).err(),
        Some(Error::CannotOpen)
    );
    let stranger = Keyring::generate(Suite::default()).unwrap();
    assert!(open_all(&stranger, Some(&ctx()), &sealed).is_err());
    let mut rotated = keyring;
    let old = rotated.primary();
    rotated.rotate().unwrap();
    assert_eq!(
        &*open_all(&rotated, Some(&ctx()), &sealed).unwrap(),
        &plain,
        "older keys still open"
    );
    rotated.retire(old).unwrap();
    assert_eq!(
        open_all(&rotated, Some(&ctx()), &sealed).err(),
        Some(Error::RetiredKey(old))
    );
}

#[test]
fn malformed_headers_are_typed_errors_and_chunk_sizes_are_bounded() {
    assert!(StreamHeader::parse(&[]).is_err());
    assert!(StreamHeader::parse(b"fcS").is_err());
    let keyring = Keyring::generate(Suite::default()).unwrap();
    let sealed = seal_all(&keyring, None, CHUNK, b"x").unwrap();
    let mut huge = sealed.clone();
    huge[8..12].copy_from_slice(&(64u32 * 1024 * 1024).to_be_bytes());
    assert!(matches!(
        open_all(&keyring, None, &huge),
        Err(Error::Malformed(_))
    ));
    assert!(keyring.stream_sealer(None, 100).is_err());
    assert!(keyring.stream_sealer(None, 2 * 1024 * 1024).is_err());
    let mut sealer = keyring.stream_sealer(None, CHUNK).unwrap();
    assert!(
        sealer.seal_chunk(b"short").is_err(),
        "a middle chunk holds exactly the chunk size"
    );
    let full = vec![0u8; CHUNK as usize];
    sealer.seal_chunk(&full).unwrap();
    assert!(
        sealer.seal_last(b"").is_err(),
        "an empty last chunk only for an empty stream"
    );
}

#[test]
fn chunks_open_by_index_for_range_reads() {
    let keyring = Keyring::generate(Suite::default()).unwrap();
    let plain = data(3 * CHUNK as usize + 9);
    let sealed = seal_all(&keyring, None, CHUNK, &plain).unwrap();
    let header = StreamHeader::parse(&sealed).unwrap();
    let opener = keyring.stream_opener(&header, None).unwrap();
    let (_, parts) = chunks(&sealed);
    let c = CHUNK as usize;
    assert_eq!(
        opener.open_at(2, &parts[2], false).unwrap(),
        &plain[2 * c..3 * c]
    );
    assert_eq!(opener.open_at(3, &parts[3], true).unwrap(), &plain[3 * c..]);
    assert!(
        opener.open_at(1, &parts[2], false).is_err(),
        "a chunk opens only at its own index"
    );
    assert!(
        opener.open_at(2, &parts[2], true).is_err(),
        "and only with its own last flag"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any cut short of the whole stream, and any splice of two streams, fails to open.
    #[test]
    fn random_cuts_and_splices_are_detected(len in 0usize..5000, cut in 0usize..6000, at in 0usize..6000) {
        let keyring = Keyring::generate(Suite::default()).unwrap();
        let a = seal_all(&keyring, None, CHUNK, &data(len)).unwrap();
        let b = seal_all(&keyring, None, CHUNK, &data(len)).unwrap();
        let cut = cut % (a.len() + 1);
        let result = open_all(&keyring, None, &a[..cut]);
        prop_assert_eq!(result.is_ok(), cut == a.len());
        // At least one byte of each stream.
        let at = 1 + at % (a.len() - 1);
        let mut spliced = a[..at].to_vec();
        spliced.extend_from_slice(&b[at..]);
        // A splice that is neither whole stream (the magic and version bytes are shared, so
        // a cut inside them yields `b` itself) must not open.
        prop_assert!(open_all(&keyring, None, &spliced).is_err() || spliced == a || spliced == b);
    }
}

/// Length 64 for aws-lc-rs's HKDF.
struct Len64;

impl aws_lc_rs::hkdf::KeyType for Len64 {
    fn len(&self) -> usize {
        64
    }
}

/// A stream the crate sealed, opened by docs/FORMAT.md section 14 alone, with aws-lc-rs's
/// HKDF, HMAC and AES-GCM called directly (not through the crate's backend).
#[test]
fn a_stream_opens_by_the_spec_with_primitives_called_directly() {
    use aws_lc_rs::{aead, hkdf, hmac};
    use fieldcrypt::{KeyId, KeyringId, SecretKey};
    let data_key = [0x42u8; 32];
    let keyring = Keyring::from_single_key(
        KeyringId([1; 16]),
        KeyId::new(9).unwrap(),
        Suite::KcXaes256Gcm,
        SecretKey::from_bytes(data_key),
        SecretKey::from_bytes([0x24; 32]),
    );
    let context = Context::new("backups", "2026-12-07.dump").unwrap();
    let plain = data(2 * CHUNK as usize + 333);
    let sealed = seal_all(&keyring, Some(&context), CHUNK, &plain).unwrap();

    // The header, by the spec.
    assert_eq!(&sealed[..4], b"fcS\x01");
    assert_eq!(u32::from_be_bytes(sealed[4..8].try_into().unwrap()), 9);
    assert_eq!(u32::from_be_bytes(sealed[8..12].try_into().unwrap()), CHUNK);
    let (prefix, salt, commitment) = (&sealed[..44], &sealed[12..44], &sealed[44..76]);
    // The context as section 6 encodes it: lp16(table) lp16(column) opt(row) opt(tenant).
    let mut c = Vec::new();
    for part in ["backups", "2026-12-07.dump"] {
        c.extend_from_slice(&(part.len() as u16).to_be_bytes());
        c.extend_from_slice(part.as_bytes());
    }
    c.extend_from_slice(&[0, 0]);
    let info: [&[u8]; 3] = [b"fieldcrypt-stream-v1", prefix, &c];
    let mut okm = [0u8; 64];
    hkdf::Salt::new(hkdf::HKDF_SHA256, salt)
        .extract(&data_key)
        .expand(&info, Len64)
        .and_then(|o| o.fill(&mut okm))
        .unwrap();
    let expected = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, &okm[32..]),
        b"fieldcrypt-stream-v1 commitment",
    );
    assert_eq!(expected.as_ref(), commitment, "the commitment");
    let key =
        aead::LessSafeKey::new(aead::UnboundKey::new(&aead::AES_256_GCM, &okm[..32]).unwrap());
    let mut opened = Vec::new();
    let parts: Vec<&[u8]> = sealed[76..].chunks(CHUNK as usize + 16).collect();
    for (i, part) in parts.iter().enumerate() {
        let mut nonce = [0u8; 12];
        nonce[3..11].copy_from_slice(&(i as u64).to_be_bytes());
        nonce[11] = u8::from(i + 1 == parts.len());
        let mut buf = part.to_vec();
        let plain_part = key
            .open_in_place(
                aead::Nonce::assume_unique_for_key(nonce),
                aead::Aad::empty(),
                &mut buf,
            )
            .unwrap();
        opened.extend_from_slice(plain_part);
    }
    assert_eq!(opened, plain);
}

/// The crate agrees with testdata/vectors/stream.json (which tools/verify_vectors.py checks
/// independently): every known answer opens and reseals byte for byte, every negative vector
/// fails with its class.
#[test]
fn the_stream_vectors_hold() {
    use fieldcrypt::{KeyId, KeyringId, SecretKey};
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../testdata/vectors/stream.json"
    );
    let file: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let keyring_of = |v: &serde_json::Value| {
        let key: [u8; 32] = hex::decode(v["data_key"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        Keyring::from_single_key(
            KeyringId([3; 16]),
            KeyId::new(v["key_id"].as_u64().unwrap() as u32).unwrap(),
            Suite::KcXaes256Gcm,
            SecretKey::from_bytes(key),
            SecretKey::from_bytes([0x77; 32]),
        )
    };
    let context_of = |c: &serde_json::Value| {
        if c.is_null() {
            return None;
        }
        let mut ctx =
            Context::new(c["table"].as_str().unwrap(), c["column"].as_str().unwrap()).unwrap();
        if let Some(r) = c["row"].as_str() {
            ctx = ctx.with_row(r).unwrap();
        }
        if let Some(t) = c["tenant"].as_str() {
            ctx = ctx.with_tenant(t).unwrap();
        }
        Some(ctx)
    };
    let vectors = file["vectors"].as_array().unwrap();
    for v in vectors {
        let kr = keyring_of(v);
        let ctx = context_of(&v["context"]);
        let plain = hex::decode(v["plaintext"].as_str().unwrap()).unwrap();
        let stream = hex::decode(v["stream"].as_str().unwrap()).unwrap();
        assert_eq!(
            &*open_all(&kr, ctx.as_ref(), &stream).unwrap(),
            &plain,
            "{}",
            v["name"]
        );
        let salt: [u8; 32] = hex::decode(v["salt"].as_str().unwrap())
            .unwrap()
            .try_into()
            .unwrap();
        let mut sealer = kr
            .stream_sealer_with_salt(ctx.as_ref(), v["chunk_size"].as_u64().unwrap() as u32, salt)
            .unwrap();
        let mut resealed = sealer.header().to_bytes().to_vec();
        let mut rest = &plain[..];
        while rest.len() > sealer.chunk_size() {
            let (chunk, tail) = rest.split_at(sealer.chunk_size());
            resealed.extend_from_slice(&sealer.seal_chunk(chunk).unwrap());
            rest = tail;
        }
        resealed.extend_from_slice(&sealer.seal_last(rest).unwrap());
        assert_eq!(resealed, stream, "{}", v["name"]);
    }
    let negative = file["negative"].as_array().unwrap();
    for v in negative {
        let kr = keyring_of(v);
        let got = match open_all(
            &kr,
            context_of(&v["context"]).as_ref(),
            &hex::decode(v["stream"].as_str().unwrap()).unwrap(),
        ) {
            Ok(_) => "ok",
            Err(Error::Malformed(_)) => "malformed",
            Err(Error::CannotOpen) => "cannot_open",
            Err(Error::UnknownKey(_)) => "unknown_key",
            Err(_) => "other",
        };
        assert_eq!(got, v["expect"].as_str().unwrap(), "{}", v["name"]);
    }
    println!(
        "vectors: stream {} known answers, {} negative",
        vectors.len(),
        negative.len()
    );
}
