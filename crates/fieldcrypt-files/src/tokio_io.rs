//! The same adapters over tokio's `AsyncWrite` and `AsyncRead` (feature `tokio`).

use std::io;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll, ready};

use fieldcrypt::stream::{STREAM_HEADER_LEN, StreamOpener, StreamSealer};
use fieldcrypt::{Context, Keyring, StreamHeader};
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, ReadBuf};
use zeroize::Zeroizing;

use crate::error::{opener_for, sealer_for, to_io};

/// [`crate::SealWriter`] over an `AsyncWrite`. `shutdown()` (e.g.
/// `AsyncWriteExt::shutdown`) seals the last chunk; a writer dropped before it leaves a stream
/// that never opens.
pub struct AsyncSealWriter<W> {
    inner: W,
    sealer: Option<StreamSealer>,
    /// Plaintext of the chunk being filled.
    plain: Zeroizing<Vec<u8>>,
    /// Sealed bytes not yet written, from `out_pos`.
    out: Vec<u8>,
    out_pos: usize,
    chunk_size: usize,
}

impl<W> std::fmt::Debug for AsyncSealWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncSealWriter")
            .field("sealer", &self.sealer)
            .finish_non_exhaustive()
    }
}

impl<W: AsyncWrite + Unpin> AsyncSealWriter<W> {
    /// A writer sealing under the keyring's primary key, chunks of `chunk_size` (1 KiB to 1 MiB;
    /// [`crate::DEFAULT_CHUNK_SIZE`] when unsure).
    pub fn new(
        keyring: &Keyring,
        context: Option<&Context>,
        chunk_size: u32,
        inner: W,
    ) -> io::Result<Self> {
        let (sealer, plain) = sealer_for(keyring, context, chunk_size)?;
        let out = sealer.header().to_bytes().to_vec();
        Ok(Self {
            inner,
            sealer: Some(sealer),
            plain,
            out,
            out_pos: 0,
            chunk_size: chunk_size as usize,
        })
    }

    /// Returns the inner writer (after `shutdown`).
    pub fn into_inner(self) -> W {
        self.inner
    }

    fn poll_write_out(&mut self, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        while self.out_pos < self.out.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.out[self.out_pos..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.out_pos += n;
        }
        self.out.clear();
        self.out_pos = 0;
        Poll::Ready(Ok(()))
    }

    /// Moves the sealed chunk in `plain` to `out`, leaving `plain` empty.
    fn move_sealed(&mut self) {
        std::mem::swap(&mut self.out, &mut *self.plain);
        self.out_pos = 0;
        self.plain.clear();
    }
}

impl<W: AsyncWrite + Unpin> AsyncWrite for AsyncSealWriter<W> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_write_out(cx))?;
        if data.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let Some(sealer) = this.sealer.as_mut() else {
            return Poll::Ready(Err(io::Error::other("the stream is already finished")));
        };
        if this.plain.len() == this.chunk_size {
            // More input follows a full chunk: it is not the last.
            sealer.seal_chunk_in_place(&mut this.plain).map_err(to_io)?;
            this.move_sealed();
        }
        let take = data.len().min(this.chunk_size - this.plain.len());
        this.plain.extend_from_slice(&data[..take]);
        Poll::Ready(Ok(take))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_out(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_write_out(cx))?;
        if let Some(sealer) = this.sealer.take() {
            sealer.seal_last_in_place(&mut this.plain).map_err(to_io)?;
            this.move_sealed();
            ready!(this.poll_write_out(cx))?;
        }
        ready!(Pin::new(&mut this.inner).poll_flush(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// [`crate::OpenReader`] over an `AsyncRead`.
pub struct AsyncOpenReader<R> {
    inner: R,
    opener: StreamOpener,
    /// The current chunk: `filled` sealed bytes while it is read, then its plaintext.
    buf: Zeroizing<Vec<u8>>,
    filled: usize,
    /// Plaintext handed out; `None` while a chunk is being read.
    pos: Option<usize>,
    carry: Option<u8>,
    failed: bool,
}

impl<R> std::fmt::Debug for AsyncOpenReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncOpenReader")
            .field("opener", &self.opener)
            .finish_non_exhaustive()
    }
}

impl<R: AsyncRead + Unpin> AsyncOpenReader<R> {
    /// Reads and checks the header (see [`crate::OpenReader::new`]).
    pub async fn new(
        keyring: &Keyring,
        context: Option<&Context>,
        mut inner: R,
    ) -> io::Result<Self> {
        let mut header = [0u8; STREAM_HEADER_LEN];
        let mut got = 0;
        while got < header.len() {
            let n = inner.read(&mut header[got..]).await?;
            if n == 0 {
                break;
            }
            got += n;
        }
        let opener = opener_for(keyring, context, &header[..got])?;
        let capacity = opener.sealed_chunk_len() + 1;
        Ok(Self {
            inner,
            opener,
            buf: Zeroizing::new(Vec::with_capacity(capacity)),
            filled: 0,
            pos: Some(0),
            carry: None,
            failed: false,
        })
    }

    /// The stream's header.
    pub fn header(&self) -> &StreamHeader {
        self.opener.header()
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for AsyncOpenReader<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.failed {
                return Poll::Ready(Err(to_io(fieldcrypt::Error::CannotOpen)));
            }
            if let Some(pos) = this.pos {
                if pos < this.buf.len() {
                    let n = out.remaining().min(this.buf.len() - pos);
                    out.put_slice(&this.buf[pos..pos + n]);
                    this.pos = Some(pos + n);
                    return Poll::Ready(Ok(()));
                }
                if this.opener.finished() || out.remaining() == 0 {
                    return Poll::Ready(Ok(()));
                }
                // Start reading the next chunk.
                let full = this.opener.sealed_chunk_len();
                this.buf.clear();
                this.buf.extend(this.carry.take());
                this.filled = this.buf.len();
                this.buf.resize(full + 1, 0);
                this.pos = None;
            }
            let want = this.buf.len();
            while this.filled < want {
                let mut rb = ReadBuf::new(&mut this.buf[this.filled..want]);
                ready!(Pin::new(&mut this.inner).poll_read(cx, &mut rb))?;
                let n = rb.filled().len();
                if n == 0 {
                    break;
                }
                this.filled += n;
            }
            let filled = this.filled;
            this.buf.truncate(filled);
            let last = filled < want;
            if !last {
                this.carry = this.buf.pop();
            }
            if let Err(err) = this.opener.open_next_in_place(&mut this.buf, last) {
                this.failed = true;
                return Poll::Ready(Err(to_io(err)));
            }
            this.pos = Some(0);
        }
    }
}
