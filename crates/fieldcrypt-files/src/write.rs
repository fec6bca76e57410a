//! Sealing through `std::io::Write`.

use std::io::{self, Write};

use fieldcrypt::stream::StreamSealer;
use fieldcrypt::{Context, Keyring};
use zeroize::Zeroizing;

use crate::error::{sealer_for, to_io};

/// Seals what is written into a stream written to `inner`. Holds one chunk of plaintext at a
/// time. Call [`SealWriter::finish`] at the end: a writer dropped without it leaves a stream
/// with no last chunk, which never opens (an interrupted write is detected, not taken as a
/// shorter file).
pub struct SealWriter<W: Write> {
    inner: W,
    sealer: Option<StreamSealer>,
    /// Plaintext of the chunk being filled; sealed in place, so it also carries the sealed chunk
    /// for the moment it takes to write it.
    buf: Zeroizing<Vec<u8>>,
    header_written: bool,
}

impl<W: Write> std::fmt::Debug for SealWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SealWriter")
            .field("sealer", &self.sealer)
            .finish_non_exhaustive()
    }
}

impl<W: Write> SealWriter<W> {
    /// A writer sealing under the keyring's primary key with the default chunk size (64 KiB).
    pub fn new(keyring: &Keyring, context: Option<&Context>, inner: W) -> io::Result<Self> {
        Self::with_chunk_size(
            keyring,
            context,
            fieldcrypt::stream::DEFAULT_CHUNK_SIZE,
            inner,
        )
    }

    /// A writer with another chunk size (1 KiB to 1 MiB): larger chunks cost a little less per
    /// byte, smaller ones make range reads cheaper.
    pub fn with_chunk_size(
        keyring: &Keyring,
        context: Option<&Context>,
        chunk_size: u32,
        inner: W,
    ) -> io::Result<Self> {
        let (sealer, buf) = sealer_for(keyring, context, chunk_size)?;
        Ok(Self {
            inner,
            buf,
            sealer: Some(sealer),
            header_written: false,
        })
    }

    /// The stream's header (key id, chunk size), as it is written first.
    pub fn header(&self) -> Option<&fieldcrypt::StreamHeader> {
        self.sealer.as_ref().map(StreamSealer::header)
    }

    fn write_header(&mut self) -> io::Result<()> {
        if !self.header_written {
            if let Some(sealer) = &self.sealer {
                self.inner.write_all(&sealer.header().to_bytes())?;
            }
            self.header_written = true;
        }
        Ok(())
    }

    /// Seals the full chunk in the buffer (not the last: more input follows) and writes it.
    fn flush_full_chunk(&mut self) -> io::Result<()> {
        self.write_header()?;
        let sealer = self.sealer.as_mut().ok_or_else(finished)?;
        sealer.seal_chunk_in_place(&mut self.buf).map_err(to_io)?;
        let result = self.inner.write_all(&self.buf);
        self.buf.clear();
        result
    }

    /// Seals the last chunk, writes it, flushes and returns the inner writer. Only now is the
    /// stream complete.
    pub fn finish(mut self) -> io::Result<W> {
        self.write_header()?;
        let sealer = self.sealer.take().ok_or_else(finished)?;
        sealer.seal_last_in_place(&mut self.buf).map_err(to_io)?;
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        self.inner.flush()?;
        let Self { inner, .. } = self;
        Ok(inner)
    }
}

impl<W: Write> Write for SealWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let chunk_size = self.sealer.as_ref().ok_or_else(finished)?.chunk_size();
        if self.buf.len() == chunk_size {
            // More input follows a full chunk: it is not the last.
            self.flush_full_chunk()?;
        }
        let take = data.len().min(chunk_size - self.buf.len());
        self.buf.extend_from_slice(&data[..take]);
        Ok(take)
    }

    /// Flushes what is sealed so far. The chunk being filled stays buffered: it can only be
    /// sealed once it is known whether it is the last.
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn finished() -> io::Error {
    io::Error::other("the stream is already finished")
}
