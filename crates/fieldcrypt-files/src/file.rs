//! Whole files: sealed or opened into a temporary file beside the destination, synced, then
//! renamed over it, so the destination is either absent, the old file, or complete.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::Path;

use fieldcrypt::{Context, Keyring};
use zeroize::Zeroizing;

use crate::{Error, OpenReader, SealWriter};

/// The context a stored file is bound to: `namespace` (a bucket, a storage's name) as the
/// table, `file` as the column, and the file's path as the row. A sealed file moved to another
/// path or namespace no longer opens.
pub fn file_context(namespace: &str, path: &str) -> Result<Context, fieldcrypt::Error> {
    Context::new(namespace, "file")?.with_row(path)
}

/// Seals everything `input` yields into `output`; returns the plaintext's length.
pub fn seal_from_reader<R: Read, W: Write>(
    keyring: &Keyring,
    context: Option<&Context>,
    chunk_size: u32,
    mut input: R,
    output: W,
) -> Result<(u64, W), Error> {
    let mut writer = SealWriter::with_chunk_size(keyring, context, chunk_size, output)?;
    let mut buf = Zeroizing::new(vec![0u8; chunk_size as usize]);
    let mut total = 0u64;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        writer.write_all(&buf[..n])?;
        total += n as u64;
    }
    Ok((total, writer.finish()?))
}

/// Opens the stream `input` yields into `output`; returns the plaintext's length. On error,
/// `output` has received the chunks authenticated before the failure and nothing more: write
/// to a temporary place (as [`open_file`] does) when a partial result must never be seen.
pub fn open_to_writer<R: Read, W: Write>(
    keyring: &Keyring,
    context: Option<&Context>,
    input: R,
    mut output: W,
) -> Result<(u64, W), Error> {
    let mut reader = OpenReader::new(keyring, context, input)?;
    let size = reader.header().chunk_size as usize;
    let mut buf = Zeroizing::new(vec![0u8; size]);
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        output.write_all(&buf[..n])?;
        total += n as u64;
    }
    output.flush()?;
    Ok((total, output))
}

/// Writes `destination` whole or not at all: `write` fills a temporary file in the same
/// directory (mode 0600 on Unix), which is synced and renamed over `destination` only when
/// `write` succeeds; on error or a crash the destination is untouched and the temporary file is
/// removed (or, after a crash, left under a dot-name that never passes for the result).
pub fn write_atomically<T, E: From<io::Error>>(
    destination: &Path,
    write: impl FnOnce(&mut File) -> Result<T, E>,
) -> Result<T, E> {
    let dir = match destination.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = destination
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut temp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .tempfile_in(dir)?;
    let value = write(temp.as_file_mut())?;
    temp.as_file().sync_all()?;
    temp.persist(destination).map_err(|e| E::from(e.error))?;
    // The rename itself is durable once the directory is synced.
    if let Ok(dir) = File::open(dir) {
        let _ = dir.sync_all();
    }
    Ok(value)
}

/// Seals the file at `source` into `destination` (written whole or not at all); returns the
/// plaintext's length.
pub fn seal_file(
    keyring: &Keyring,
    context: Option<&Context>,
    chunk_size: u32,
    source: &Path,
    destination: &Path,
) -> Result<u64, Error> {
    let input = File::open(source)?;
    write_atomically(destination, |out| {
        let (n, _) = seal_from_reader(
            keyring,
            context,
            chunk_size,
            input,
            io::BufWriter::with_capacity(256 * 1024, out),
        )?;
        Ok::<_, Error>(n)
    })
}

/// Opens the sealed file at `source` into `destination` (written whole or not at all: a
/// stream that fails anywhere, even at its end, leaves no destination); returns the
/// plaintext's length.
pub fn open_file(
    keyring: &Keyring,
    context: Option<&Context>,
    source: &Path,
    destination: &Path,
) -> Result<u64, Error> {
    let input = File::open(source)?;
    write_atomically(destination, |out| {
        let (n, _) = open_to_writer(
            keyring,
            context,
            io::BufReader::with_capacity(256 * 1024, input),
            io::BufWriter::with_capacity(256 * 1024, out),
        )?;
        Ok::<_, Error>(n)
    })
}
