//! Opening through `std::io::Read`.

use std::io::{self, Read};

use fieldcrypt::stream::{STREAM_HEADER_LEN, StreamOpener};
use fieldcrypt::{Context, Keyring, StreamHeader};
use zeroize::Zeroizing;

use crate::error::{opener_for, read_full, to_io};

/// Opens a stream read from `inner`, a chunk at a time, in order. A chunk's plaintext is
/// released only after the chunk is authenticated; the end of the input is accepted only after
/// the last chunk (a stream cut at a chunk boundary fails at the end). Memory: two chunks.
pub struct OpenReader<R: Read> {
    inner: R,
    opener: StreamOpener,
    /// A sealed chunk plus one byte, always this long (never re-zeroed between chunks); after
    /// opening, its first `len` bytes are the chunk's plaintext.
    buf: Zeroizing<Vec<u8>>,
    /// The plaintext's length in `buf`.
    len: usize,
    /// How much of the plaintext in `buf` was handed out.
    pos: usize,
    /// One byte read past a full chunk to learn whether another follows.
    carry: Option<u8>,
    /// A chunk failed to open: every later read fails too.
    failed: bool,
}

impl<R: Read> std::fmt::Debug for OpenReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenReader")
            .field("opener", &self.opener)
            .finish_non_exhaustive()
    }
}

impl<R: Read> OpenReader<R> {
    /// Reads and checks the header: a stream under another key or context, or with a header
    /// changed in any byte, fails here, before any chunk.
    pub fn new(keyring: &Keyring, context: Option<&Context>, mut inner: R) -> io::Result<Self> {
        let mut header = [0u8; STREAM_HEADER_LEN];
        let got = read_full(&mut inner, &mut header)?;
        let opener = opener_for(keyring, context, &header[..got])?;
        let capacity = opener.sealed_chunk_len() + 1;
        Ok(Self {
            inner,
            opener,
            buf: Zeroizing::new(vec![0u8; capacity]),
            len: 0,
            pos: 0,
            carry: None,
            failed: false,
        })
    }

    /// The stream's header.
    pub fn header(&self) -> &StreamHeader {
        self.opener.header()
    }

    /// Whether the last chunk was read: the whole stream is authenticated.
    pub fn finished(&self) -> bool {
        self.opener.finished() && self.pos == self.len
    }

    /// Returns the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Reads and opens the next chunk into `buf`.
    fn next_chunk(&mut self) -> io::Result<()> {
        self.len = 0;
        self.pos = 0;
        self.len = read_chunk(
            &mut self.inner,
            &mut self.opener,
            &mut self.carry,
            &mut self.buf,
        )?;
        Ok(())
    }
}

/// Reads the next sealed chunk into `buf` (at least a sealed chunk plus one byte long) and
/// opens it there; returns the plaintext's length, at the start of `buf`.
fn read_chunk(
    inner: &mut impl Read,
    opener: &mut StreamOpener,
    carry: &mut Option<u8>,
    buf: &mut [u8],
) -> io::Result<usize> {
    let full = opener.sealed_chunk_len();
    let mut start = 0;
    if let Some(byte) = carry.take() {
        buf[0] = byte;
        start = 1;
    }
    // One byte more than a full chunk tells whether another chunk follows.
    let got = start + read_full(inner, &mut buf[start..=full])?;
    let last = got <= full;
    let sealed_len = if last {
        got
    } else {
        *carry = Some(buf[full]);
        full
    };
    opener
        .open_next_in_slice(&mut buf[..sealed_len], last)
        .map_err(to_io)
}

impl<R: Read> Read for OpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.len {
            if self.failed {
                return Err(to_io(fieldcrypt::Error::CannotOpen));
            }
            if self.opener.finished() || out.is_empty() {
                return Ok(0);
            }
            if out.len() > self.opener.sealed_chunk_len() {
                // Room for a whole sealed chunk: read and open it in the caller's buffer, one
                // copy fewer. A chunk that does not open leaves that buffer wiped.
                return read_chunk(&mut self.inner, &mut self.opener, &mut self.carry, out)
                    .inspect_err(|_| self.failed = true);
            }
            if let Err(err) = self.next_chunk() {
                self.failed = true;
                return Err(err);
            }
        }
        let n = out.len().min(self.len - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
