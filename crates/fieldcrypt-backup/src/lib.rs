//! Encrypted database backups. The database's own dump tool (`pg_dump` in custom format,
//! `mariadb-dump`/`mysqldump`) or SQLite's online backup API writes the dump; it is streamed,
//! never stored in clear, through fieldcrypt's stream format ([`fieldcrypt::stream`]) under the
//! keyring's primary key, inside a small container that puts a manifest (database, tool and
//! version, time, key id) before the dump and its length and SHA-256 after it, all inside the
//! authenticated stream.
//!
//! - [`backup`] writes the file whole or not at all (a temporary file renamed at the end; a run
//!   killed half-way leaves only a dot-file without a last chunk, which never verifies).
//! - [`verify`] authenticates every chunk, the manifest and the dump's digest without a
//!   database.
//! - [`restore`] verifies the whole file first, then feeds the dump to the restore tool
//!   (`pg_restore --single-transaction`, `mariadb`, SQLite's backup API), so a damaged backup
//!   is refused before anything in the database is touched.

#![forbid(unsafe_code)]

mod container;
mod error;
mod process;
mod sqlite;
mod target;

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::Path;

use fieldcrypt::{Context, Keyring};
use fieldcrypt_files::{OpenReader, SealWriter, write_atomically};

pub use container::{Manifest, Trailer};
pub use error::Error;
pub use target::{Database, Kind};

use container::{ContainerReader, ContainerWriter};

/// The context every backup stream is bound to: a backup never opens as a sealed file, nor a
/// sealed file as a backup. (Two fixed names within the limits, so it does not fail; an error
/// rather than a panic all the same.)
pub fn backup_context() -> Result<Context, Error> {
    Ok(Context::new("fieldcrypt", "backup")?)
}

/// What a finished backup or restore did.
#[derive(Debug, Clone)]
pub struct Summary {
    /// The manifest written (backup) or read (verify, restore).
    pub manifest: Manifest,
    /// The dump's length and digest.
    pub trailer: Trailer,
    /// The backup file's length.
    pub file_bytes: u64,
}

/// Progress, in bytes: dump bytes for a backup, backup-file bytes for verify and restore.
pub type Progress<'a> = &'a mut dyn FnMut(u64);

/// The stream's chunk size for backups: 1 MiB, the largest, for the least overhead.
pub const BACKUP_CHUNK_SIZE: u32 = fieldcrypt::stream::MAX_CHUNK_SIZE;

/// Backs `database` up into the file `out` (written whole or not at all), sealed under the
/// keyring's primary key.
pub fn backup(
    keyring: &Keyring,
    database: &Database,
    out: &Path,
    progress: Progress<'_>,
) -> Result<Summary, Error> {
    let (manifest, trailer) = write_atomically(out, |file| {
        backup_to_writer(
            keyring,
            database,
            BufWriter::with_capacity(1 << 20, file),
            progress,
        )
    })?;
    let file_bytes = std::fs::metadata(out)?.len();
    Ok(Summary {
        manifest,
        trailer,
        file_bytes,
    })
}

/// Backs `database` up into any writer (a pipe to off-site storage, say). Unlike [`backup`],
/// a failure half-way leaves what was written so far in `out`: a stream without its last
/// chunk, which never verifies, but the reader of a pipe must wait for the exit status.
pub fn backup_to_writer<W: Write>(
    keyring: &Keyring,
    database: &Database,
    out: W,
    progress: Progress<'_>,
) -> Result<(Manifest, Trailer), Error> {
    let context = backup_context()?;
    let sealed = SealWriter::with_chunk_size(keyring, Some(&context), BACKUP_CHUNK_SIZE, out)?;
    let key_id = sealed.header().map(|h| h.key_id.get()).unwrap_or_default();
    let manifest = Manifest::new(database, key_id)?;
    let mut writer = ContainerWriter::new(sealed, &manifest)?;
    let mut counted = Counting {
        inner: &mut writer,
        bytes: 0,
        progress,
    };
    match database.kind() {
        Kind::Sqlite => sqlite::dump(database, &mut counted)?,
        _ => process::dump(database, &mut counted)?,
    }
    let (sealed, trailer) = writer.finish()?;
    let mut out = sealed.finish()?;
    out.flush()?;
    Ok((manifest, trailer))
}

/// Authenticates every chunk of the backup at `path`, its manifest and the dump's length and
/// digest, without a database.
pub fn verify(keyring: &Keyring, path: &Path, progress: Progress<'_>) -> Result<Summary, Error> {
    read_backup(keyring, path, progress, &mut io::sink())
}

fn read_backup(
    keyring: &Keyring,
    path: &Path,
    progress: Progress<'_>,
    dump: &mut dyn Write,
) -> Result<Summary, Error> {
    let file = File::open(path)?;
    let file_bytes = file.metadata()?.len();
    let counted = CountingReader {
        inner: BufReader::with_capacity(1 << 20, file),
        bytes: 0,
        progress,
    };
    let (manifest, trailer) = read_stream(keyring, counted, dump)?;
    Ok(Summary {
        manifest,
        trailer,
        file_bytes,
    })
}

/// Authenticates a whole backup stream read from `stream` (a pipe from off-site storage, say):
/// every chunk, the manifest, and the dump's length and digest; the dump itself is discarded.
pub fn verify_reader<R: Read>(keyring: &Keyring, stream: R) -> Result<(Manifest, Trailer), Error> {
    read_stream(keyring, stream, &mut io::sink())
}

/// Opens a backup stream and copies its dump into `dump`, checking it against the trailer.
fn read_stream<R: Read>(
    keyring: &Keyring,
    stream: R,
    dump: &mut dyn Write,
) -> Result<(Manifest, Trailer), Error> {
    let context = backup_context()?;
    let opened = OpenReader::new(keyring, Some(&context), stream)?;
    let mut reader = ContainerReader::new(opened)?;
    let trailer = reader.copy_dump(dump)?;
    Ok((reader.manifest().clone(), trailer))
}

/// Restores the backup at `path` into `database`: verifies the whole file first (nothing is
/// touched when it does not verify), then replaces the database's content with the dump's.
/// `progress` counts the backup file's bytes, from zero again for the second pass.
pub fn restore(
    keyring: &Keyring,
    path: &Path,
    database: &Database,
    progress: Progress<'_>,
) -> Result<Summary, Error> {
    let verified = read_backup(keyring, path, &mut *progress, &mut io::sink())?;
    if verified.manifest.database != database.kind() {
        return Err(Error::WrongDatabase {
            backup: verified.manifest.database,
            target: database.kind(),
        });
    }
    let summary = match database.kind() {
        Kind::Sqlite => sqlite::restore(database, &mut |sink| {
            read_backup(keyring, path, &mut *progress, sink)
        })?,
        _ => process::restore(database, &mut |sink| {
            read_backup(keyring, path, &mut *progress, sink)
        })?,
    };
    if summary.trailer != verified.trailer {
        return Err(Error::Changed);
    }
    Ok(summary)
}

/// Counts dump bytes on their way into the container.
struct Counting<'a, W: Write> {
    inner: W,
    bytes: u64,
    progress: Progress<'a>,
}

impl<W: Write> Write for Counting<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        (self.progress)(self.bytes);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Counts backup-file bytes as they are read.
struct CountingReader<'a, R: Read> {
    inner: R,
    bytes: u64,
    progress: Progress<'a>,
}

impl<R: Read> Read for CountingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        (self.progress)(self.bytes);
        Ok(n)
    }
}
