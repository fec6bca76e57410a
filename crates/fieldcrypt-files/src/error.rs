//! Errors: an I/O failure, or a stream that does not open (the core's typed error); and the
//! few steps every adapter shares.

use std::io;

/// What can go wrong sealing or opening a file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The stream does not open or cannot be sealed: wrong key, wrong context, tampered,
    /// truncated, reordered, spliced, not a stream at all.
    #[error("{0}")]
    Stream(#[from] fieldcrypt::Error),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(io::Error),
}

impl From<io::Error> for Error {
    /// Unwraps the core's error from an I/O error the adapters made, so a caller matches on
    /// [`Error::Stream`] whether the failure surfaced through `Read` or not.
    fn from(err: io::Error) -> Self {
        if err
            .get_ref()
            .is_some_and(|inner| inner.is::<fieldcrypt::Error>())
        {
            match err
                .into_inner()
                .map(|inner| inner.downcast::<fieldcrypt::Error>())
            {
                Some(Ok(stream)) => return Error::Stream(*stream),
                Some(Err(other)) => return Error::Io(io::Error::other(other)),
                None => return unreachable_io(),
            }
        }
        Error::Io(err)
    }
}

/// `into_inner` is `Some` whenever `get_ref` was.
fn unreachable_io() -> Error {
    Error::Io(io::Error::other("I/O error without its source"))
}

/// The I/O error the adapters return for a stream error: `InvalidData` when the input is at
/// fault, `Other` otherwise (no random source, no key).
pub(crate) fn to_io(err: fieldcrypt::Error) -> io::Error {
    let kind = match err {
        fieldcrypt::Error::CannotOpen | fieldcrypt::Error::Malformed(_) => {
            io::ErrorKind::InvalidData
        }
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, err)
}

/// Reads until `buf` is full or the input ends; returns the bytes read.
pub(crate) fn read_full(input: &mut impl io::Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// The opener for the header bytes read from an input (fewer than a header when the input was
/// shorter): not a stream, or a stream under another key or context, fails here.
pub(crate) fn opener_for(
    keyring: &fieldcrypt::Keyring,
    context: Option<&fieldcrypt::Context>,
    header: &[u8],
) -> io::Result<fieldcrypt::StreamOpener> {
    let header = fieldcrypt::StreamHeader::parse(header).map_err(|e| to_io(e.into()))?;
    keyring.stream_opener(&header, context).map_err(to_io)
}

/// A sealer, and a buffer for one chunk and its tag.
pub(crate) fn sealer_for(
    keyring: &fieldcrypt::Keyring,
    context: Option<&fieldcrypt::Context>,
    chunk_size: u32,
) -> io::Result<(fieldcrypt::StreamSealer, zeroize::Zeroizing<Vec<u8>>)> {
    let sealer = keyring.stream_sealer(context, chunk_size).map_err(to_io)?;
    let buf = Vec::with_capacity(chunk_size as usize + fieldcrypt::stream::STREAM_CHUNK_OVERHEAD);
    Ok((sealer, zeroize::Zeroizing::new(buf)))
}
