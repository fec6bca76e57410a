//! Range reads: a sealed stream on a seekable input, opened a chunk at a time where asked.

use std::io::{self, Read, Seek, SeekFrom};

use fieldcrypt::stream::{STREAM_CHUNK_OVERHEAD, STREAM_HEADER_LEN, StreamOpener};
use fieldcrypt::{Context, Keyring, StreamHeader};
use zeroize::Zeroizing;

use crate::error::{opener_for, read_full, to_io};

/// A sealed stream on a `Read + Seek` input (a file, an object store's ranged body), read as a
/// plaintext `Read + Seek`: reading a range opens only the chunks it covers. The plaintext
/// length comes from the input's length and is authenticated up front by opening the last
/// chunk, so a stream cut at a chunk boundary fails in [`SeekableOpenReader::new`].
pub struct SeekableOpenReader<R: Read + Seek> {
    inner: R,
    opener: StreamOpener,
    chunks: u64,
    plaintext_len: u64,
    /// Plaintext position.
    pos: u64,
    /// The chunk last opened, by index.
    cached: Option<(u64, Zeroizing<Vec<u8>>)>,
}

impl<R: Read + Seek> std::fmt::Debug for SeekableOpenReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SeekableOpenReader")
            .field("opener", &self.opener)
            .field("plaintext_len", &self.plaintext_len)
            .field("pos", &self.pos)
            .finish_non_exhaustive()
    }
}

impl<R: Read + Seek> SeekableOpenReader<R> {
    /// Reads the header, checks it against the key and context, and authenticates the last
    /// chunk.
    pub fn new(keyring: &Keyring, context: Option<&Context>, mut inner: R) -> io::Result<Self> {
        let total = inner.seek(SeekFrom::End(0))?;
        inner.seek(SeekFrom::Start(0))?;
        let mut header = [0u8; STREAM_HEADER_LEN];
        let got = read_full(&mut inner, &mut header)?;
        let opener = opener_for(keyring, context, &header[..got])?;
        let body = total.saturating_sub(STREAM_HEADER_LEN as u64);
        let full = opener.sealed_chunk_len() as u64;
        // Every chunk but the last is full; the last holds at least its tag.
        let chunks = body.div_ceil(full).max(1);
        let tags = chunks * STREAM_CHUNK_OVERHEAD as u64;
        if body < tags {
            return Err(to_io(fieldcrypt::Error::CannotOpen));
        }
        let mut reader = Self {
            inner,
            opener,
            chunks,
            plaintext_len: body - tags,
            pos: 0,
            cached: None,
        };
        reader.load(chunks - 1)?;
        Ok(reader)
    }

    /// The plaintext's length.
    pub fn plaintext_len(&self) -> u64 {
        self.plaintext_len
    }

    /// The stream's header.
    pub fn header(&self) -> &StreamHeader {
        self.opener.header()
    }

    /// Returns the inner reader.
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// Opens chunk `index` into the cache (unless it is there).
    fn load(&mut self, index: u64) -> io::Result<()> {
        if self.cached.as_ref().is_some_and(|(i, _)| *i == index) {
            return Ok(());
        }
        let full = self.opener.sealed_chunk_len() as u64;
        let offset = STREAM_HEADER_LEN as u64 + index * full;
        self.inner.seek(SeekFrom::Start(offset))?;
        let last = index + 1 == self.chunks;
        let mut buf = match self.cached.take() {
            Some((_, buf)) => buf,
            None => Zeroizing::new(Vec::with_capacity(full as usize)),
        };
        buf.clear();
        buf.resize(full as usize, 0);
        let got = read_full(&mut self.inner, &mut buf)?;
        buf.truncate(got);
        self.opener
            .open_at_in_place(index, &mut buf, last)
            .map_err(to_io)?;
        self.cached = Some((index, buf));
        Ok(())
    }
}

impl<R: Read + Seek> Read for SeekableOpenReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() || self.pos >= self.plaintext_len {
            return Ok(0);
        }
        let size = u64::from(self.opener.header().chunk_size);
        let index = self.pos / size;
        self.load(index)?;
        let Some((_, chunk)) = &self.cached else {
            return Ok(0);
        };
        let within = (self.pos - index * size) as usize;
        let n = out.len().min(chunk.len().saturating_sub(within));
        out[..n].copy_from_slice(&chunk[within..within + n]);
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R: Read + Seek> Seek for SeekableOpenReader<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.plaintext_len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(n) => {
                self.pos = n;
                Ok(n)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the stream",
            )),
        }
    }
}
