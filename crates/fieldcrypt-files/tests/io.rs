//! The I/O adapters against the core's whole-stream functions, and every attack through them.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Cursor, Read, Seek, SeekFrom, Write};

use fieldcrypt::stream::{STREAM_CHUNK_OVERHEAD, STREAM_HEADER_LEN, open_all, seal_all};
use fieldcrypt::{Keyring, Suite};
use fieldcrypt_files::{
    Error, OpenReader, SealWriter, SeekableOpenReader, file_context, open_file, seal_file,
};
use proptest::prelude::*;

const CHUNK: u32 = 1024;
const SEALED_CHUNK: usize = CHUNK as usize + STREAM_CHUNK_OVERHEAD;

fn keyring() -> Keyring {
    Keyring::generate(Suite::KcXaes256Gcm).unwrap()
}

fn data(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 + i / 251) as u8).collect()
}

fn seal_with_writer(keyring: &Keyring, plain: &[u8], piece: usize) -> Vec<u8> {
    let ctx = file_context("uploads", "a/b.pdf").unwrap();
    let mut w = SealWriter::with_chunk_size(keyring, Some(&ctx), CHUNK, Vec::new()).unwrap();
    for part in plain.chunks(piece.max(1)) {
        w.write_all(part).unwrap();
    }
    w.finish().unwrap()
}

/// Reads until an error; returns what was read and the error, if any.
fn read_all(mut r: impl Read, piece: usize) -> (Vec<u8>, Option<std::io::Error>) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; piece.max(1)];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (out, None),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) => return (out, Some(e)),
        }
    }
}

fn is_cannot_open(err: std::io::Error) -> bool {
    err.kind() == std::io::ErrorKind::InvalidData
        && matches!(
            Error::from(err),
            Error::Stream(fieldcrypt::Error::CannotOpen)
        )
}

#[test]
fn round_trips_at_every_interesting_size_and_matches_the_core() {
    let keyring = keyring();
    let ctx = file_context("uploads", "a/b.pdf").unwrap();
    let c = CHUNK as usize;
    for len in [0, 1, c - 1, c, c + 1, 2 * c, 3 * c + 7, 3 * 1024 * 1024 + 5] {
        let plain = data(len);
        for piece in [1, 7, c, 100_000] {
            if len > 100_000 && piece < c {
                continue; // byte-at-a-time writes of megabytes add time, not coverage
            }
            let sealed = seal_with_writer(&keyring, &plain, piece);
            assert_eq!(sealed.len() as u64, {
                let h = fieldcrypt::StreamHeader::parse(&sealed).unwrap();
                h.sealed_len(len as u64)
            });
            // The core opens what the writer sealed, and the reader what the core sealed.
            assert_eq!(
                &open_all(&keyring, Some(&ctx), &sealed).unwrap()[..],
                &plain[..],
                "len {len}"
            );
            let core = seal_all(&keyring, Some(&ctx), CHUNK, &plain).unwrap();
            let reader = OpenReader::new(&keyring, Some(&ctx), &core[..]).unwrap();
            let (got, err) = read_all(reader, piece);
            assert!(err.is_none(), "len {len} piece {piece}: {err:?}");
            assert_eq!(got, plain, "len {len} piece {piece}");
        }
    }
}

#[test]
fn truncation_at_every_chunk_boundary_fails_and_releases_only_authenticated_chunks() {
    let keyring = keyring();
    let ctx = file_context("uploads", "a/b.pdf").unwrap();
    let plain = data(5 * CHUNK as usize + 100);
    let sealed = seal_with_writer(&keyring, &plain, 999);
    for chunks in 0..=5 {
        let cut = STREAM_HEADER_LEN + chunks * SEALED_CHUNK;
        let reader = OpenReader::new(&keyring, Some(&ctx), &sealed[..cut]).unwrap();
        let (got, err) = read_all(reader, 4096);
        assert!(
            is_cannot_open(err.expect("a cut stream must fail")),
            "cut after {chunks} chunks"
        );
        // Never more than the chunks before the cut, and exactly those bytes.
        assert!(got.len() <= chunks * CHUNK as usize);
        assert_eq!(got[..], plain[..got.len()]);
    }
    // A cut inside a chunk, too.
    let reader = OpenReader::new(&keyring, Some(&ctx), &sealed[..sealed.len() - 1]).unwrap();
    assert!(is_cannot_open(read_all(reader, 4096).1.unwrap()));
}

#[test]
fn reordered_repeated_dropped_spliced_and_appended_chunks_fail() {
    let keyring = keyring();
    let ctx = file_context("uploads", "a/b.pdf").unwrap();
    let plain = data(4 * CHUNK as usize + 10);
    let a = seal_with_writer(&keyring, &plain, 4096);
    let b = seal_with_writer(&keyring, &plain, 4096);
    let chunk = |s: &[u8], i: usize| {
        let start = STREAM_HEADER_LEN + i * SEALED_CHUNK;
        s[start..(start + SEALED_CHUNK).min(s.len())].to_vec()
    };
    let header = &a[..STREAM_HEADER_LEN];
    let build = |parts: &[Vec<u8>]| {
        let mut v = header.to_vec();
        for p in parts {
            v.extend_from_slice(p);
        }
        v
    };
    let cases = [
        (
            "reordered",
            build(&[
                chunk(&a, 1),
                chunk(&a, 0),
                chunk(&a, 2),
                chunk(&a, 3),
                chunk(&a, 4),
            ]),
        ),
        (
            "repeated",
            build(&[
                chunk(&a, 0),
                chunk(&a, 0),
                chunk(&a, 1),
                chunk(&a, 2),
                chunk(&a, 3),
                chunk(&a, 4),
            ]),
        ),
        (
            "dropped",
            build(&[chunk(&a, 0), chunk(&a, 2), chunk(&a, 3), chunk(&a, 4)]),
        ),
        (
            "spliced",
            build(&[
                chunk(&a, 0),
                chunk(&b, 1),
                chunk(&a, 2),
                chunk(&a, 3),
                chunk(&a, 4),
            ]),
        ),
        ("appended", {
            let mut v = a.clone();
            v.extend_from_slice(b"x");
            v
        }),
        ("appended chunk", {
            let mut v = a.clone();
            v.extend_from_slice(&chunk(&a, 0));
            v
        }),
        ("flipped bit", {
            let mut v = a.clone();
            v[STREAM_HEADER_LEN + 2 * SEALED_CHUNK + 5] ^= 1;
            v
        }),
    ];
    for (name, sealed) in cases {
        let reader = OpenReader::new(&keyring, Some(&ctx), &sealed[..]).unwrap();
        let (got, err) = read_all(reader, 4096);
        assert!(
            is_cannot_open(err.unwrap_or_else(|| panic!("{name} opened"))),
            "{name}"
        );
        assert_eq!(
            got[..],
            plain[..got.len()],
            "{name}: only authenticated plaintext"
        );
    }
    // Another context or key fails at the header, before any chunk.
    let other = file_context("uploads", "a/c.pdf").unwrap();
    assert!(is_cannot_open(
        OpenReader::new(&keyring, Some(&other), &a[..]).unwrap_err()
    ));
    assert!(is_cannot_open(
        OpenReader::new(&keyring, None, &a[..]).unwrap_err()
    ));
    // Another keyring (its key has the same id): the commitment fails.
    let err = OpenReader::new(&self::keyring(), Some(&ctx), &a[..]).unwrap_err();
    assert!(is_cannot_open(err));
    // Not a stream at all.
    let err = OpenReader::new(&keyring, Some(&ctx), &b"hello"[..]).unwrap_err();
    assert!(matches!(
        Error::from(err),
        Error::Stream(fieldcrypt::Error::Malformed(_))
    ));
}

#[test]
fn a_writer_dropped_before_finish_leaves_a_stream_that_never_opens() {
    let keyring = keyring();
    let ctx = file_context("uploads", "a/b.pdf").unwrap();
    let mut sink = Vec::new();
    {
        let mut w = SealWriter::with_chunk_size(&keyring, Some(&ctx), CHUNK, &mut sink).unwrap();
        w.write_all(&data(3 * CHUNK as usize)).unwrap();
        // dropped: interrupted
    }
    assert!(
        !sink.is_empty(),
        "full chunks were written before the interruption"
    );
    let reader = OpenReader::new(&keyring, Some(&ctx), &sink[..]).unwrap();
    assert!(is_cannot_open(read_all(reader, 4096).1.unwrap()));
}

#[test]
fn seekable_reader_reads_any_range_and_authenticates_the_length_up_front() {
    let keyring = keyring();
    let ctx = file_context("uploads", "a/b.pdf").unwrap();
    let plain = data(7 * CHUNK as usize + 333);
    let sealed = seal_with_writer(&keyring, &plain, 5000);
    let mut r = SeekableOpenReader::new(&keyring, Some(&ctx), Cursor::new(&sealed)).unwrap();
    assert_eq!(r.plaintext_len(), plain.len() as u64);
    for (start, len) in [
        (0, 10),
        (1020, 10),
        (1024, 1024),
        (5000, 3000),
        (plain.len() - 5, 100),
        (plain.len(), 5),
    ] {
        r.seek(SeekFrom::Start(start as u64)).unwrap();
        let mut got = vec![0u8; len];
        let n = fieldcrypt_files_read_full(&mut r, &mut got);
        let end = (start + len).min(plain.len());
        assert_eq!(&got[..n], &plain[start..end], "range {start}+{len}");
    }
    r.seek(SeekFrom::End(-3)).unwrap();
    let (tail, _) = read_all(&mut r, 2);
    assert_eq!(tail, plain[plain.len() - 3..]);
    // A stream cut at a chunk boundary fails before any read.
    let cut = STREAM_HEADER_LEN + 3 * SEALED_CHUNK;
    let err =
        SeekableOpenReader::new(&keyring, Some(&ctx), Cursor::new(&sealed[..cut])).unwrap_err();
    assert!(is_cannot_open(err));
    // A damaged middle chunk fails when that range is read, and other ranges still read.
    let mut bad = sealed.clone();
    bad[STREAM_HEADER_LEN + 2 * SEALED_CHUNK + 9] ^= 0x80;
    let mut r = SeekableOpenReader::new(&keyring, Some(&ctx), Cursor::new(&bad)).unwrap();
    r.seek(SeekFrom::Start(2 * u64::from(CHUNK) + 1)).unwrap();
    assert!(is_cannot_open(r.read(&mut [0u8; 10]).unwrap_err()));
    r.seek(SeekFrom::Start(0)).unwrap();
    let mut first = [0u8; 10];
    r.read_exact(&mut first).unwrap();
    assert_eq!(first, plain[..10]);
}

fn fieldcrypt_files_read_full(r: &mut impl Read, buf: &mut [u8]) -> usize {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]).unwrap() {
            0 => break,
            n => filled += n,
        }
    }
    filled
}

#[test]
fn files_are_written_whole_or_not_at_all() {
    let keyring = keyring();
    let ctx = file_context("backups", "scan.pdf").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let plain_path = dir.path().join("scan.pdf");
    let sealed_path = dir.path().join("scan.pdf.fcs");
    let opened_path = dir.path().join("opened.pdf");
    let plain = data(200_000);
    std::fs::write(&plain_path, &plain).unwrap();
    assert_eq!(
        seal_file(&keyring, Some(&ctx), CHUNK, &plain_path, &sealed_path).unwrap(),
        200_000
    );
    assert_eq!(
        open_file(&keyring, Some(&ctx), &sealed_path, &opened_path).unwrap(),
        200_000
    );
    assert_eq!(std::fs::read(&opened_path).unwrap(), plain);

    // A stream cut at a chunk boundary: everything but the end authenticates, and still no
    // destination appears, and no temporary file is left.
    let mut sealed = std::fs::read(&sealed_path).unwrap();
    sealed.truncate(STREAM_HEADER_LEN + 100 * SEALED_CHUNK);
    std::fs::write(&sealed_path, &sealed).unwrap();
    let fresh = dir.path().join("fresh.pdf");
    assert!(matches!(
        open_file(&keyring, Some(&ctx), &sealed_path, &fresh),
        Err(Error::Stream(fieldcrypt::Error::CannotOpen))
    ));
    assert!(!fresh.exists());
    // An existing destination is left as it was.
    std::fs::write(&fresh, b"old").unwrap();
    assert!(open_file(&keyring, Some(&ctx), &sealed_path, &fresh).is_err());
    assert_eq!(std::fs::read(&fresh).unwrap(), b"old");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".partial")), "{names:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Any write and read pattern round-trips; any cut anywhere fails without releasing
    /// plaintext that is not the stream's.
    #[test]
    fn any_pieces_round_trip_and_any_cut_fails(
        len in 0usize..6000,
        write_piece in 1usize..3000,
        read_piece in 1usize..3000,
        cut in any::<prop::sample::Index>(),
    ) {
        let keyring = keyring();
        let ctx = file_context("uploads", "a/b.pdf").unwrap();
        let plain = data(len);
        let sealed = seal_with_writer(&keyring, &plain, write_piece);
        let (got, err) = read_all(OpenReader::new(&keyring, Some(&ctx), &sealed[..]).unwrap(), read_piece);
        prop_assert!(err.is_none());
        prop_assert_eq!(&got, &plain);
        let at = STREAM_HEADER_LEN + cut.index(sealed.len() - STREAM_HEADER_LEN);
        let (got, err) = read_all(OpenReader::new(&keyring, Some(&ctx), &sealed[..at]).unwrap(), read_piece);
        prop_assert!(err.is_some());
        prop_assert_eq!(&got[..], &plain[..got.len()]);
    }
}
