//! `stream.json`: docs/FORMAT.md section 14. Known answers (fixed data key and salt, so the
//! whole stream is deterministic) over the sizes that matter, with and without a context, and
//! negative vectors cut from one of them: each attack the format detects, with its error class.

use fieldcrypt::stream::{STREAM_HEADER_LEN, open_all};
use fieldcrypt::{Context, Error, KeyId, Keyring, KeyringId, SecretKey, Suite};
use serde_json::{Value as J, json};

use crate::common::{context, counts_by, ctx_json};

const CHUNK: u32 = 1024;

fn keyring(data_key: [u8; 32], key_id: u32) -> Keyring {
    Keyring::from_single_key(
        KeyringId([3; 16]),
        KeyId::new(key_id).unwrap_or_else(|| unreachable!()),
        Suite::KcXaes256Gcm,
        SecretKey::from_bytes(data_key),
        SecretKey::from_bytes([0x77; 32]),
    )
}

fn plaintext(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 256) as u8).collect()
}

fn seal(kr: &Keyring, ctx: Option<&Context>, salt: [u8; 32], plain: &[u8]) -> Vec<u8> {
    let mut sealer = kr
        .stream_sealer_with_salt(ctx, CHUNK, salt)
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = sealer.header().to_bytes().to_vec();
    let size = CHUNK as usize;
    let mut rest = plain;
    while rest.len() > size {
        let (chunk, tail) = rest.split_at(size);
        out.extend_from_slice(&sealer.seal_chunk(chunk).unwrap_or_else(|e| panic!("{e}")));
        rest = tail;
    }
    out.extend_from_slice(&sealer.seal_last(rest).unwrap_or_else(|e| panic!("{e}")));
    out
}

fn class(e: &Error) -> &'static str {
    match e {
        Error::Malformed(_) => "malformed",
        Error::UnknownKey(_) => "unknown_key",
        Error::CannotOpen => "cannot_open",
        _ => "other",
    }
}

pub(crate) fn stream_vectors() -> J {
    let data_key = [0x5cu8; 32];
    let key_id = 3;
    let kr = keyring(data_key, key_id);
    let contexts = [
        None,
        Some(ctx_json("documents", "scan", Some("42"), Some("acme"))),
    ];
    let mut vectors = Vec::new();
    let mut n = 0u8;
    for size in [0usize, 1, 1023, 1024, 1025, 2048, 3000] {
        for c in &contexts {
            n += 1;
            let ctx = c.as_ref().map(context);
            let plain = plaintext(size);
            let stream = seal(&kr, ctx.as_ref(), [n; 32], &plain);
            let opened = open_all(&kr, ctx.as_ref(), &stream).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(&*opened, &plain);
            vectors.push(json!({
                "name": format!("{size} bytes{}", if c.is_some() { ", with a context" } else { "" }),
                "data_key": hex::encode(data_key),
                "key_id": key_id,
                "chunk_size": CHUNK,
                "salt": hex::encode([n; 32]),
                "context": c,
                "plaintext": hex::encode(&plain),
                "stream": hex::encode(&stream),
            }));
        }
    }

    // Negative vectors, cut from one stream of 3 chunks (the last short).
    let ctx_j = ctx_json("documents", "scan", Some("42"), Some("acme"));
    let ctx = context(&ctx_j);
    let base = seal(
        &kr,
        Some(&ctx),
        [0xAB; 32],
        &plaintext(2 * CHUNK as usize + 100),
    );
    let full = CHUNK as usize + 16;
    let parts: Vec<Vec<u8>> = base[STREAM_HEADER_LEN..]
        .chunks(full)
        .map(<[u8]>::to_vec)
        .collect();
    let header = base[..STREAM_HEADER_LEN].to_vec();
    let join = |h: &[u8], ps: &[Vec<u8>]| {
        let mut out = h.to_vec();
        for p in ps {
            out.extend_from_slice(p);
        }
        out
    };
    let other = seal(
        &kr,
        Some(&ctx),
        [0xCD; 32],
        &plaintext(2 * CHUNK as usize + 100),
    );
    let mut cases: Vec<(String, Vec<u8>, J)> = Vec::new();
    let mut push = |name: &str, stream: Vec<u8>, c: J| cases.push((name.to_owned(), stream, c));
    push("intact (baseline)", base.clone(), ctx_j.clone());
    push("header only", header.clone(), ctx_j.clone());
    push(
        "truncated after chunk 0",
        join(&header, &parts[..1]),
        ctx_j.clone(),
    );
    push(
        "truncated after chunk 1",
        join(&header, &parts[..2]),
        ctx_j.clone(),
    );
    push(
        "last chunk cut by one byte",
        base[..base.len() - 1].to_vec(),
        ctx_j.clone(),
    );
    push(
        "chunks 0 and 1 swapped",
        join(
            &header,
            &[parts[1].clone(), parts[0].clone(), parts[2].clone()],
        ),
        ctx_j.clone(),
    );
    push(
        "chunk 0 repeated",
        join(
            &header,
            &[
                parts[0].clone(),
                parts[0].clone(),
                parts[1].clone(),
                parts[2].clone(),
            ],
        ),
        ctx_j.clone(),
    );
    push(
        "chunk 1 dropped",
        join(&header, &[parts[0].clone(), parts[2].clone()]),
        ctx_j.clone(),
    );
    push(
        "chunk 1 of another stream",
        join(
            &header,
            &[
                parts[0].clone(),
                other[STREAM_HEADER_LEN + full..STREAM_HEADER_LEN + 2 * full].to_vec(),
                parts[2].clone(),
            ],
        ),
        ctx_j.clone(),
    );
    push(
        "one byte appended",
        [base.clone(), vec![0]].concat(),
        ctx_j.clone(),
    );
    push(
        "a chunk appended after the last",
        join(
            &header,
            &[
                parts[0].clone(),
                parts[1].clone(),
                parts[2].clone(),
                parts[0].clone(),
            ],
        ),
        ctx_j.clone(),
    );
    push(
        "another context",
        base.clone(),
        ctx_json("documents", "scan", Some("43"), Some("acme")),
    );
    push("no context", base.clone(), J::Null);
    for (i, what) in [
        (0usize, "magic"),
        (3, "version"),
        (7, "key id"),
        (9, "chunk size"),
        (20, "salt"),
        (60, "commitment"),
    ] {
        let mut bad = base.clone();
        bad[i] ^= 0x01;
        push(
            &format!("header byte {i} ({what}) changed"),
            bad,
            ctx_j.clone(),
        );
    }
    let mut big = base.clone();
    big[8..12].copy_from_slice(&(2u32 * 1024 * 1024).to_be_bytes());
    push("chunk size 2 MiB", big, ctx_j.clone());
    push("empty input", Vec::new(), ctx_j.clone());
    let mut negative = Vec::new();
    for (name, stream, c) in cases {
        let ctx = if c.is_null() { None } else { Some(context(&c)) };
        let expect = match open_all(&kr, ctx.as_ref(), &stream) {
            Ok(_) => "ok",
            Err(e) => class(&e),
        };
        negative.push(json!({
            "name": name,
            "data_key": hex::encode(data_key),
            "key_id": key_id,
            "context": c,
            "stream": hex::encode(&stream),
            "expect": expect,
        }));
    }
    json!({
        "about": "Stream vectors (docs/FORMAT.md section 14): header = \"fcS\" 0x01 u32be(key id) u32be(chunk size) salt(32) commitment(32); okm = HKDF-SHA256(salt, data key, \"fieldcrypt-stream-v1\" || header[0..44] || context, 64); commitment = HMAC-SHA256(okm[32..64], \"fieldcrypt-stream-v1 commitment\"); chunk i = AES-256-GCM(okm[0..32], 0x000000 || u64be(i) || last flag, empty AAD). vectors: known answers (the whole stream is deterministic given the salt); negative: streams cut from one and the class opening must report (ok for the baseline). count: the number of known answers; counts: entries per list, negative per expected class.",
        "count": vectors.len(),
        "counts": { "vectors": vectors.len(), "negative": counts_by(&negative, "expect") },
        "vectors": vectors,
        "negative": negative,
    })
}
