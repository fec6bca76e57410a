//! Sealed files and streams over I/O: the core's stream format ([`fieldcrypt::stream`]) behind
//! `std::io::Write` and `std::io::Read`, a seekable reader for range reads, tokio adapters
//! (feature `tokio`), and whole-file sealing that writes to a temporary file and renames it, so
//! an interrupted run never leaves a file that looks complete.
//!
//! ```
//! use std::io::{Read as _, Write as _};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let keyring = fieldcrypt::Keyring::generate(fieldcrypt::Suite::KcXaes256Gcm)?;
//! let context = fieldcrypt_files::file_context("uploads", "scans/passport.pdf")?;
//!
//! let mut writer = fieldcrypt_files::SealWriter::new(&keyring, Some(&context), Vec::new())?;
//! writer.write_all(b"%PDF-1.7 ...")?;
//! let sealed = writer.finish()?;
//!
//! let mut reader = fieldcrypt_files::OpenReader::new(&keyring, Some(&context), &sealed[..])?;
//! let mut plain = Vec::new();
//! reader.read_to_end(&mut plain)?;
//! assert_eq!(plain, b"%PDF-1.7 ...");
//! # Ok(()) }
//! ```
//!
//! Readers release a chunk's plaintext only once the chunk is authenticated; a stream cut
//! short, reordered or spliced fails with an [`std::io::Error`] of kind `InvalidData` whose
//! source is the core's [`fieldcrypt::Error`] ([`Error::from`] recovers it).

#![forbid(unsafe_code)]

mod error;
mod file;
mod read;
mod seek;
#[cfg(feature = "tokio")]
mod tokio_io;
mod write;

pub use error::Error;
pub use file::file_context;
pub use file::{open_file, open_to_writer, seal_file, seal_from_reader, write_atomically};
pub use read::OpenReader;
pub use seek::SeekableOpenReader;
#[cfg(feature = "tokio")]
pub use tokio_io::{AsyncOpenReader, AsyncSealWriter};
pub use write::SealWriter;

pub use fieldcrypt::stream::{DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MIN_CHUNK_SIZE};
