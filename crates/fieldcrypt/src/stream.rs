//! Streams: values too large for one envelope (files, backups), sealed in fixed-size chunks
//! under the same keyrings. The STREAM construction, as age uses it: a per-stream key, chunks
//! sealed in order with a counter and a last-chunk flag in the nonce, so that truncation at a
//! chunk boundary, reordered, repeated or dropped chunks, chunks of another stream and bytes
//! after the last chunk all fail to open. No I/O here: [`StreamSealer`] and [`StreamOpener`]
//! work a chunk at a time; readers and writers sit where I/O is allowed.
//!
//! The header (`STREAM_HEADER_LEN` bytes):
//!
//! ```text
//! magic "fcS" (3) | version 1 (1) | key id u32 BE (4) | chunk size u32 BE (4) | salt (32) | commitment (32)
//! ```
//!
//! Keys, from the data key `K` the header names and the optional context's encoding `C`:
//!
//! ```text
//! (stream key 32 || commit key 32) = HKDF-SHA256(salt, K, "fieldcrypt-stream-v1" || header[0..44] || C)
//! commitment = HMAC-SHA256(commit key, "fieldcrypt-stream-v1 commitment")
//! chunk i    = AES-256-GCM(stream key, nonce = i as u88 BE || last (0x01) or not (0x00), aad = "", plaintext_i)
//! ```
//!
//! Every header byte and the context go into the key derivation, so the commitment checks the
//! header as a whole, the key (key commitment: a stream opens under one key only) and the
//! context, before any chunk is opened. Every chunk but the last holds exactly the chunk size;
//! the last holds 1 to chunk-size bytes, or 0 when the stream is empty.

use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use crate::backend::{self, GCM_TAG_LEN, Gcm as _, HmacSha256 as _};
use crate::context::Context;
use crate::envelope::KeyId;
use crate::error::{Error, ParseError};
use crate::keyring::Keyring;

const MAGIC: &[u8; 3] = b"fcS";
const VERSION: u8 = 1;
const SALT_LEN: usize = 32;
const COMMITMENT_LEN: usize = 32;
const PREFIX_LEN: usize = 3 + 1 + 4 + 4 + SALT_LEN;
/// The header's length in bytes.
pub const STREAM_HEADER_LEN: usize = PREFIX_LEN + COMMITMENT_LEN;
/// What each sealed chunk adds to its plaintext (the GCM tag).
pub const STREAM_CHUNK_OVERHEAD: usize = GCM_TAG_LEN;
/// The default chunk size: 64 KiB.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// The smallest chunk size a header may name.
pub const MIN_CHUNK_SIZE: u32 = 1024;
/// The largest chunk size a header may name: an opener never buffers more than this, whatever
/// the stream says.
pub const MAX_CHUNK_SIZE: u32 = 1024 * 1024;
const DOMAIN: &[u8] = b"fieldcrypt-stream-v1";
const COMMIT_LABEL: &[u8] = b"fieldcrypt-stream-v1 commitment";
/// Counters run in 88 bits; a u64 is far beyond any stream (2^64 chunks of 1 KiB).
const LAST: u8 = 1;

/// A parsed stream header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHeader {
    /// The data key the stream is sealed under.
    pub key_id: KeyId,
    /// Plaintext bytes per chunk (the last may hold fewer).
    pub chunk_size: u32,
    salt: [u8; SALT_LEN],
    commitment: [u8; COMMITMENT_LEN],
}

impl StreamHeader {
    /// Parses the first [`STREAM_HEADER_LEN`] bytes of `input`; refuses chunk sizes outside
    /// [`MIN_CHUNK_SIZE`]..=[`MAX_CHUNK_SIZE`].
    pub fn parse(input: &[u8]) -> Result<Self, ParseError> {
        if input.is_empty() {
            return Err(ParseError::Empty);
        }
        if input.len() < STREAM_HEADER_LEN {
            return Err(ParseError::Truncated {
                needed: STREAM_HEADER_LEN,
                got: input.len(),
            });
        }
        if &input[..3] != MAGIC {
            return Err(ParseError::BadMagic);
        }
        if input[3] != VERSION {
            return Err(ParseError::UnsupportedVersion(input[3]));
        }
        let id = u32::from_be_bytes([input[4], input[5], input[6], input[7]]);
        let key_id = KeyId::new(id).ok_or(ParseError::ZeroKeyId)?;
        let chunk_size = u32::from_be_bytes([input[8], input[9], input[10], input[11]]);
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(ParseError::BadChunkSize);
        }
        let mut salt = [0u8; SALT_LEN];
        salt.copy_from_slice(&input[12..PREFIX_LEN]);
        let mut commitment = [0u8; COMMITMENT_LEN];
        commitment.copy_from_slice(&input[PREFIX_LEN..STREAM_HEADER_LEN]);
        Ok(Self {
            key_id,
            chunk_size,
            salt,
            commitment,
        })
    }

    fn prefix(&self) -> [u8; PREFIX_LEN] {
        let mut out = [0u8; PREFIX_LEN];
        out[..3].copy_from_slice(MAGIC);
        out[3] = VERSION;
        out[4..8].copy_from_slice(&self.key_id.get().to_be_bytes());
        out[8..12].copy_from_slice(&self.chunk_size.to_be_bytes());
        out[12..].copy_from_slice(&self.salt);
        out
    }

    /// The header's bytes.
    pub fn to_bytes(&self) -> [u8; STREAM_HEADER_LEN] {
        let mut out = [0u8; STREAM_HEADER_LEN];
        out[..PREFIX_LEN].copy_from_slice(&self.prefix());
        out[PREFIX_LEN..].copy_from_slice(&self.commitment);
        out
    }

    /// The length of a stream of `plaintext_len` bytes sealed with this header, header
    /// included.
    pub fn sealed_len(&self, plaintext_len: u64) -> u64 {
        let size = u64::from(self.chunk_size);
        let chunks = plaintext_len.div_ceil(size).max(1);
        STREAM_HEADER_LEN as u64 + plaintext_len + chunks * STREAM_CHUNK_OVERHEAD as u64
    }
}

/// The stream key and the commitment derived for a header prefix, a data key and a context.
fn derive(
    prefix: &[u8; PREFIX_LEN],
    key: &[u8; 32],
    context: Option<&Context>,
) -> (backend::Aes256Gcm, [u8; 32]) {
    let mut okm = Zeroizing::new([0u8; 64]);
    let context = context.map_or(&[][..], Context::encoded);
    backend::hkdf_sha256(&prefix[12..], key, &[DOMAIN, prefix, context], okm.as_mut());
    let mut stream_key = Zeroizing::new([0u8; 32]);
    stream_key.copy_from_slice(&okm[..32]);
    let commitment = backend::Hmac::new(&okm[32..]).sign(&[COMMIT_LABEL]);
    (backend::Aes256Gcm::new(&stream_key), commitment)
}

fn nonce(index: u64, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&index.to_be_bytes());
    n[11] = if last { LAST } else { 0 };
    n
}

/// Seals a stream, a chunk at a time, in order.
pub struct StreamSealer {
    gcm: backend::Aes256Gcm,
    header: StreamHeader,
    next: u64,
}

impl core::fmt::Debug for StreamSealer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StreamSealer")
            .field("key_id", &self.header.key_id)
            .field("chunk_size", &self.header.chunk_size)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl StreamSealer {
    /// The header to write first.
    pub fn header(&self) -> &StreamHeader {
        &self.header
    }

    /// The chunk size: every chunk but the last holds exactly this many bytes.
    pub fn chunk_size(&self) -> usize {
        self.header.chunk_size as usize
    }

    /// Seals the next chunk, which is not the last; it must hold exactly the chunk size.
    pub fn seal_chunk(&mut self, chunk: &[u8]) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::with_capacity(chunk.len() + GCM_TAG_LEN);
        buf.extend_from_slice(chunk);
        self.seal_chunk_in_place(&mut buf)?;
        Ok(buf)
    }

    /// [`StreamSealer::seal_chunk`] without a copy: `buf` holds the chunk's plaintext and is
    /// left holding the sealed chunk (the tag appended). For readers and writers that reuse one
    /// buffer.
    pub fn seal_chunk_in_place(&mut self, buf: &mut Vec<u8>) -> Result<(), Error> {
        if buf.len() != self.chunk_size() {
            return Err(Error::InvalidValue(
                "stream chunk (every chunk but the last holds exactly the chunk size)",
            ));
        }
        self.seal(buf, false);
        self.next += 1;
        Ok(())
    }

    /// Seals the last chunk (0 to chunk-size bytes; empty only for an empty stream) and ends
    /// the stream.
    pub fn seal_last(self, chunk: &[u8]) -> Result<Vec<u8>, Error> {
        let mut buf = Vec::with_capacity(chunk.len() + GCM_TAG_LEN);
        buf.extend_from_slice(chunk);
        self.seal_last_in_place(&mut buf)?;
        Ok(buf)
    }

    /// [`StreamSealer::seal_last`] in place, as [`StreamSealer::seal_chunk_in_place`].
    pub fn seal_last_in_place(self, buf: &mut Vec<u8>) -> Result<(), Error> {
        if buf.len() > self.chunk_size() || (buf.is_empty() && self.next > 0) {
            return Err(Error::InvalidValue(
                "last stream chunk (1 to chunk-size bytes, or 0 for an empty stream)",
            ));
        }
        self.seal(buf, true);
        Ok(())
    }

    fn seal(&self, buf: &mut Vec<u8>, last: bool) {
        let tag = self.gcm.seal_in_place(&nonce(self.next, last), &[], buf);
        buf.extend_from_slice(&tag);
    }
}

/// Opens a stream's chunks, in order or by index.
pub struct StreamOpener {
    gcm: backend::Aes256Gcm,
    header: StreamHeader,
    next: u64,
    done: bool,
}

impl core::fmt::Debug for StreamOpener {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("StreamOpener")
            .field("key_id", &self.header.key_id)
            .field("chunk_size", &self.header.chunk_size)
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}

impl StreamOpener {
    /// The header it was made for.
    pub fn header(&self) -> &StreamHeader {
        &self.header
    }

    /// The length of a sealed chunk that is not the last.
    pub fn sealed_chunk_len(&self) -> usize {
        self.header.chunk_size as usize + GCM_TAG_LEN
    }

    /// Opens the next chunk; `last` says whether the input ends after it. A chunk that is not
    /// what it claims (truncated stream, a chunk out of place, another stream's) is
    /// [`Error::CannotOpen`], and nothing of it is returned.
    pub fn open_next(&mut self, sealed: &[u8], last: bool) -> Result<Vec<u8>, Error> {
        let mut buf = sealed.to_vec();
        self.open_next_in_place(&mut buf, last)?;
        Ok(buf)
    }

    /// [`StreamOpener::open_next`] without a copy: `buf` holds the sealed chunk and is left
    /// holding its plaintext, or empty when it does not open (never a partial plaintext).
    pub fn open_next_in_place(&mut self, buf: &mut Vec<u8>, last: bool) -> Result<(), Error> {
        let n = self.open_next_in_slice(buf, last)?;
        buf.truncate(n);
        Ok(())
    }

    /// [`StreamOpener::open_next_in_place`] on a slice, for readers that keep one buffer of a
    /// fixed size: returns the plaintext's length (at the start of `buf`); when the chunk does
    /// not open, `buf` is wiped.
    pub fn open_next_in_slice(&mut self, buf: &mut [u8], last: bool) -> Result<usize, Error> {
        if self.done {
            // Bytes after the last chunk.
            zeroize::Zeroize::zeroize(buf);
            return Err(Error::CannotOpen);
        }
        let n = self.open_at_in_slice(self.next, buf, last)?;
        self.next += 1;
        self.done = last;
        Ok(n)
    }

    /// Whether the last chunk has been opened: the stream is complete.
    pub fn finished(&self) -> bool {
        self.done
    }

    /// Opens chunk `index` on its own (random access for a range read); `last` says whether it
    /// is the stream's last chunk.
    pub fn open_at(&self, index: u64, sealed: &[u8], last: bool) -> Result<Vec<u8>, Error> {
        let mut buf = sealed.to_vec();
        self.open_at_in_place(index, &mut buf, last)?;
        Ok(buf)
    }

    /// [`StreamOpener::open_at`] in place, as [`StreamOpener::open_next_in_place`].
    pub fn open_at_in_place(&self, index: u64, buf: &mut Vec<u8>, last: bool) -> Result<(), Error> {
        match self.open_at_in_slice(index, buf, last) {
            Ok(n) => {
                buf.truncate(n);
                Ok(())
            }
            Err(e) => {
                buf.clear();
                Err(e)
            }
        }
    }

    /// [`StreamOpener::open_at`] on a slice, as [`StreamOpener::open_next_in_slice`].
    pub fn open_at_in_slice(&self, index: u64, buf: &mut [u8], last: bool) -> Result<usize, Error> {
        let size = self.header.chunk_size as usize;
        let ok_len = if last {
            // The last chunk holds 1..=size bytes, or 0 only as chunk 0.
            buf.len() >= GCM_TAG_LEN + usize::from(index > 0) && buf.len() <= size + GCM_TAG_LEN
        } else {
            buf.len() == size + GCM_TAG_LEN
        };
        if !ok_len {
            zeroize::Zeroize::zeroize(buf);
            return Err(Error::CannotOpen);
        }
        match self.gcm.open_in_place(&nonce(index, last), &[], buf) {
            Ok(n) => Ok(n),
            Err(_) => {
                // The buffer may hold a decryption that did not verify: wipe it.
                zeroize::Zeroize::zeroize(buf);
                Err(Error::CannotOpen)
            }
        }
    }
}

impl Keyring {
    /// Starts sealing a stream under the primary key, bound to `context` when given (a file's
    /// bucket and path, or the table, column and row it belongs to). `chunk_size`:
    /// [`MIN_CHUNK_SIZE`]..=[`MAX_CHUNK_SIZE`].
    pub fn stream_sealer(
        &self,
        context: Option<&Context>,
        chunk_size: u32,
    ) -> Result<StreamSealer, Error> {
        self.sealer_with_salt(context, chunk_size, crate::random_array()?)
    }

    /// [`Keyring::stream_sealer`] with a caller-chosen salt: only for known-answer test vectors
    /// (the `test-vectors` feature). A salt must never repeat under a key.
    #[cfg(feature = "test-vectors")]
    pub fn stream_sealer_with_salt(
        &self,
        context: Option<&Context>,
        chunk_size: u32,
        salt: [u8; 32],
    ) -> Result<StreamSealer, Error> {
        self.sealer_with_salt(context, chunk_size, salt)
    }

    fn sealer_with_salt(
        &self,
        context: Option<&Context>,
        chunk_size: u32,
        salt: [u8; SALT_LEN],
    ) -> Result<StreamSealer, Error> {
        if !(MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            return Err(Error::InvalidValue("stream chunk size (1 KiB to 1 MiB)"));
        }
        let (key_id, secret) = self.primary_secret()?;
        let mut header = StreamHeader {
            key_id,
            chunk_size,
            salt,
            commitment: [0; COMMITMENT_LEN],
        };
        let (gcm, commitment) = derive(&header.prefix(), secret, context);
        header.commitment = commitment;
        Ok(StreamSealer {
            gcm,
            header,
            next: 0,
        })
    }

    /// Starts opening a stream with `header`, bound to `context` as it was sealed. Checks the
    /// commitment first: a header changed in any byte, another key or another context is
    /// [`Error::CannotOpen`] before any chunk is read.
    pub fn stream_opener(
        &self,
        header: &StreamHeader,
        context: Option<&Context>,
    ) -> Result<StreamOpener, Error> {
        let secret = self.secret_for(header.key_id)?;
        let (gcm, commitment) = derive(&header.prefix(), secret, context);
        if !bool::from(commitment.ct_eq(&header.commitment)) {
            return Err(Error::CannotOpen);
        }
        Ok(StreamOpener {
            gcm,
            header: header.clone(),
            next: 0,
            done: false,
        })
    }
}

/// Seals `plaintext` as one whole stream (header and every chunk), for small inputs and tests.
pub fn seal_all(
    keyring: &Keyring,
    context: Option<&Context>,
    chunk_size: u32,
    plaintext: &[u8],
) -> Result<Vec<u8>, Error> {
    let mut sealer = keyring.stream_sealer(context, chunk_size)?;
    let header = sealer.header().clone();
    let mut out = Vec::with_capacity(header.sealed_len(plaintext.len() as u64) as usize);
    out.extend_from_slice(&header.to_bytes());
    let size = sealer.chunk_size();
    let mut rest = plaintext;
    while rest.len() > size {
        let (chunk, tail) = rest.split_at(size);
        out.extend_from_slice(&sealer.seal_chunk(chunk)?);
        rest = tail;
    }
    out.extend_from_slice(&sealer.seal_last(rest)?);
    Ok(out)
}

/// Opens a whole sealed stream; any damage is [`Error::CannotOpen`] (or a header
/// [`Error::Malformed`]) and no plaintext is returned.
pub fn open_all(
    keyring: &Keyring,
    context: Option<&Context>,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u8>>, Error> {
    let header = StreamHeader::parse(sealed)?;
    let mut opener = keyring.stream_opener(&header, context)?;
    let mut rest = &sealed[STREAM_HEADER_LEN..];
    let full = opener.sealed_chunk_len();
    let mut out = Zeroizing::new(Vec::with_capacity(rest.len()));
    loop {
        // A full-size chunk followed by more input is not the last; anything else is.
        let last = rest.len() <= full;
        let take = rest.len().min(full);
        let (chunk, tail) = rest.split_at(take);
        out.extend_from_slice(&opener.open_next(chunk, last)?);
        rest = tail;
        if last {
            return Ok(out);
        }
    }
}
