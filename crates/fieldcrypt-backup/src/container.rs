//! The container inside a backup's stream: what the plaintext of the stream is.
//!
//! ```text
//! "FCBACKUP" (8) | version 1 (1)
//! manifest length u32 BE | manifest (JSON)
//! frames: length u32 BE (1 to 1 MiB) | dump bytes ...   then length 0
//! trailer length u32 BE | trailer (JSON: dump length and SHA-256)
//! ```
//!
//! The stream ends right after the trailer; the stream format rejects anything after its last
//! chunk, and the reader rejects anything between the trailer and the end.

use std::io::{self, Read, Write};

use aws_lc_rs::digest;
use serde::{Deserialize, Serialize};

use crate::{Database, Error, Kind};

const MAGIC: &[u8; 8] = b"FCBACKUP";
const VERSION: u8 = 1;
/// Manifests and trailers are small; a larger length is damage, not data.
const MAX_DOCUMENT: u32 = 64 * 1024;
const MAX_FRAME: u32 = 1 << 20;

/// What a backup says about itself, before the dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The kind of database.
    pub database: Kind,
    /// The database's name (PostgreSQL, MariaDB) or file name (SQLite).
    pub name: String,
    /// Where it was (host and port, or the SQLite file's path); never credentials.
    pub location: String,
    /// The program or API that wrote the dump.
    pub tool: String,
    /// Its version, as it reports it.
    pub tool_version: String,
    /// The dump's format: `pg_dump-custom`, `sql` or `sqlite-database`.
    pub dump_format: String,
    /// When the backup started (RFC 3339, UTC).
    pub started_at: String,
    /// The fieldcrypt version that wrote it.
    pub fieldcrypt_version: String,
    /// The data key the stream is sealed under (also in the stream's header).
    pub key_id: u32,
}

/// What a backup says after the dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trailer {
    /// When the dump ended (RFC 3339, UTC).
    pub finished_at: String,
    /// The dump's length in bytes.
    pub dump_bytes: u64,
    /// The dump's SHA-256, hex.
    pub dump_sha256: String,
}

impl Manifest {
    pub(crate) fn new(database: &Database, key_id: u32) -> Result<Self, Error> {
        let (tool, tool_version, dump_format) = database.dump_tool()?;
        Ok(Self {
            database: database.kind(),
            name: database.name(),
            location: database.location(),
            tool,
            tool_version,
            dump_format: dump_format.to_owned(),
            started_at: now(),
            fieldcrypt_version: env!("CARGO_PKG_VERSION").to_owned(),
            key_id,
        })
    }
}

fn now() -> String {
    jiff::Timestamp::now().to_string()
}

/// Writes the container into a (sealing) writer.
pub(crate) struct ContainerWriter<W: Write> {
    inner: W,
    digest: digest::Context,
    bytes: u64,
}

impl<W: Write> ContainerWriter<W> {
    pub(crate) fn new(mut inner: W, manifest: &Manifest) -> Result<Self, Error> {
        inner.write_all(MAGIC)?;
        inner.write_all(&[VERSION])?;
        write_document(&mut inner, manifest)?;
        Ok(Self {
            inner,
            digest: digest::Context::new(&digest::SHA256),
            bytes: 0,
        })
    }

    /// Ends the dump and writes the trailer; returns the inner writer, to be finished.
    pub(crate) fn finish(mut self) -> Result<(W, Trailer), Error> {
        self.inner.write_all(&0u32.to_be_bytes())?;
        let trailer = Trailer {
            finished_at: now(),
            dump_bytes: self.bytes,
            dump_sha256: hex(self.digest.finish().as_ref()),
        };
        write_document(&mut self.inner, &trailer)?;
        Ok((self.inner, trailer))
    }
}

impl<W: Write> Write for ContainerWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        let take = buf.len().min(MAX_FRAME as usize);
        // `take` is at most MAX_FRAME, which fits a u32.
        let len = u32::try_from(take).unwrap_or(MAX_FRAME);
        self.inner.write_all(&len.to_be_bytes())?;
        self.inner.write_all(&buf[..take])?;
        self.digest.update(&buf[..take]);
        self.bytes += take as u64;
        Ok(take)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

fn write_document(out: &mut impl Write, doc: &impl Serialize) -> Result<(), Error> {
    let json = serde_json::to_vec(doc).map_err(|_| Error::NotABackup("unencodable manifest"))?;
    let len = u32::try_from(json.len()).map_err(|_| Error::NotABackup("manifest too large"))?;
    out.write_all(&len.to_be_bytes())?;
    out.write_all(&json)?;
    Ok(())
}

/// Reads the container from an (opening) reader.
pub(crate) struct ContainerReader<R: Read> {
    inner: R,
    manifest: Manifest,
}

impl<R: Read> ContainerReader<R> {
    pub(crate) fn new(mut inner: R) -> Result<Self, Error> {
        let mut head = [0u8; 9];
        read_exact(&mut inner, &mut head, "no container header")?;
        if &head[..8] != MAGIC {
            return Err(Error::NotABackup(
                "no FCBACKUP magic (a sealed file, not a backup?)",
            ));
        }
        if head[8] != VERSION {
            return Err(Error::NotABackup("unsupported container version"));
        }
        let manifest = read_document(&mut inner, "manifest")?;
        Ok(Self { inner, manifest })
    }

    pub(crate) fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Copies the dump into `out`, then reads and checks the trailer and the end of the stream.
    pub(crate) fn copy_dump(&mut self, out: &mut dyn Write) -> Result<Trailer, Error> {
        let mut digest = digest::Context::new(&digest::SHA256);
        let mut bytes = 0u64;
        let mut buf = zeroize::Zeroizing::new(vec![0u8; MAX_FRAME as usize]);
        loop {
            let mut len = [0u8; 4];
            read_exact(&mut self.inner, &mut len, "dump frame cut short")?;
            let len = u32::from_be_bytes(len);
            if len == 0 {
                break;
            }
            if len > MAX_FRAME {
                return Err(Error::NotABackup("dump frame too large"));
            }
            let frame = &mut buf[..len as usize];
            read_exact(&mut self.inner, frame, "dump frame cut short")?;
            digest.update(frame);
            out.write_all(frame)?;
            bytes += u64::from(len);
        }
        let trailer: Trailer = read_document(&mut self.inner, "trailer")?;
        // Nothing may follow the trailer (and reading to the end authenticates the last chunk).
        let mut rest = [0u8; 1];
        if read_some(&mut self.inner, &mut rest)? != 0 {
            return Err(Error::NotABackup("bytes after the trailer"));
        }
        if trailer.dump_bytes != bytes || trailer.dump_sha256 != hex(digest.finish().as_ref()) {
            return Err(Error::DigestMismatch);
        }
        out.flush()?;
        Ok(trailer)
    }
}

fn read_document<T: serde::de::DeserializeOwned>(
    input: &mut impl Read,
    what: &'static str,
) -> Result<T, Error> {
    let mut len = [0u8; 4];
    read_exact(input, &mut len, what)?;
    let len = u32::from_be_bytes(len);
    if len > MAX_DOCUMENT {
        return Err(Error::NotABackup(what));
    }
    let mut doc = vec![0u8; len as usize];
    read_exact(input, &mut doc, what)?;
    serde_json::from_slice(&doc).map_err(|_| Error::NotABackup(what))
}

/// `read_exact`, with an early end reported as not-a-backup (the stream itself authenticated
/// up to there) and stream errors kept typed.
fn read_exact(input: &mut impl Read, buf: &mut [u8], what: &'static str) -> Result<(), Error> {
    let mut filled = 0;
    while filled < buf.len() {
        match read_some(input, &mut buf[filled..])? {
            0 => return Err(Error::NotABackup(what)),
            n => filled += n,
        }
    }
    Ok(())
}

fn read_some(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, Error> {
    loop {
        match input.read(buf) {
            Ok(n) => return Ok(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.into()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
