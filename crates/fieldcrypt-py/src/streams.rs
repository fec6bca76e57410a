//! Streams: files and Python file objects sealed and opened through `fieldcrypt-files` (the
//! GIL released while it works; a file object is called back with the GIL held), and
//! `SealedReader`, a seekable reader over a sealed file object for range reads (Django's
//! `EncryptedStorage`).

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::PathBuf;
use std::sync::Arc;

use fieldcrypt::Context;
use fieldcrypt_files::SeekableOpenReader;
use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{InvalidValue, from_core};
use crate::keyring::{Keyring, context};

/// The stream's context from the Python keywords: none, or a table and a column (and a row).
fn stream_context(
    table: Option<&str>,
    column: Option<&str>,
    row: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<Context>> {
    match (table, column) {
        (Some(table), Some(column)) => Ok(Some(context(table, column, row, None)?)),
        (None, None) if row.is_none() => Ok(None),
        _ => Err(InvalidValue::new_err(
            "a stream's context needs a table and a column (and optionally a row)",
        )),
    }
}

/// A `fieldcrypt-files` error as a Python exception; an error a Python file object raised comes
/// back as itself.
fn from_files(err: fieldcrypt_files::Error) -> PyErr {
    match err {
        fieldcrypt_files::Error::Stream(core) => from_core(core),
        fieldcrypt_files::Error::Io(io) => from_io(io),
    }
}

fn from_io(err: io::Error) -> PyErr {
    if err.get_ref().is_some_and(|inner| inner.is::<PyErr>()) {
        if let Some(Ok(py)) = err.into_inner().map(|inner| inner.downcast::<PyErr>()) {
            return *py;
        }
        return PyOSError::new_err("I/O error");
    }
    PyOSError::new_err(err.to_string())
}

/// A Python binary file object as `Read`, `Write` and `Seek`; each call takes the GIL.
struct PyFile(Py<PyAny>);

impl Read for PyFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        Python::attach(|py| {
            let data = self
                .0
                .bind(py)
                .call_method1("read", (buf.len(),))
                .map_err(io::Error::other)?;
            if data.is_none() {
                // A non-blocking raw file with nothing yet: treat as an error, not the end.
                return Err(io::Error::new(
                    io::ErrorKind::WouldBlock,
                    "read() returned None",
                ));
            }
            let bytes = data
                .cast::<PyBytes>()
                .map_err(|_| io::Error::other("the file object's read() returned no bytes"))?
                .as_bytes();
            if bytes.len() > buf.len() {
                return Err(io::Error::other(
                    "the file object's read() returned too much",
                ));
            }
            buf[..bytes.len()].copy_from_slice(bytes);
            Ok(bytes.len())
        })
    }
}

impl Write for PyFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Python::attach(|py| {
            let written = self
                .0
                .bind(py)
                .call_method1("write", (PyBytes::new(py, buf),))
                .map_err(io::Error::other)?;
            // Buffered files return the count; some file-likes return None (all written).
            if written.is_none() {
                return Ok(buf.len());
            }
            written.extract::<usize>().map_err(io::Error::other)
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        Python::attach(|py| {
            let file = self.0.bind(py);
            if file.hasattr("flush").map_err(io::Error::other)? {
                file.call_method0("flush").map_err(io::Error::other)?;
            }
            Ok(())
        })
    }
}

impl Seek for PyFile {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let (offset, whence) = match to {
            SeekFrom::Start(n) => (i128::from(n), 0),
            SeekFrom::Current(n) => (i128::from(n), 1),
            SeekFrom::End(n) => (i128::from(n), 2),
        };
        Python::attach(|py| {
            self.0
                .bind(py)
                .call_method1("seek", (offset, whence))
                .and_then(|pos| pos.extract::<u64>())
                .map_err(io::Error::other)
        })
    }
}

fn chunk_size_of(chunk_size: u32) -> PyResult<u32> {
    if (fieldcrypt_files::MIN_CHUNK_SIZE..=fieldcrypt_files::MAX_CHUNK_SIZE).contains(&chunk_size) {
        Ok(chunk_size)
    } else {
        Err(InvalidValue::new_err(
            "chunk_size must be 1024 to 1048576 bytes",
        ))
    }
}

/// Seals the file at `source` into `destination` (written to a temporary file and renamed);
/// returns the plaintext's length.
#[pyfunction]
#[pyo3(signature = (keyring, source, destination, *, table=None, column=None, row=None, chunk_size=65536))]
#[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
pub(crate) fn seal_path(
    py: Python<'_>,
    keyring: &Keyring,
    source: PathBuf,
    destination: PathBuf,
    table: Option<&str>,
    column: Option<&str>,
    row: Option<&Bound<'_, PyAny>>,
    chunk_size: u32,
) -> PyResult<u64> {
    let context = stream_context(table, column, row)?;
    let chunk_size = chunk_size_of(chunk_size)?;
    let keyring = Arc::clone(&keyring.inner);
    py.detach(move || {
        fieldcrypt_files::seal_file(
            &keyring,
            context.as_ref(),
            chunk_size,
            &source,
            &destination,
        )
    })
    .map_err(from_files)
}

/// Opens the sealed file at `source` into `destination` (written whole or not at all); returns
/// the plaintext's length.
#[pyfunction]
#[pyo3(signature = (keyring, source, destination, *, table=None, column=None, row=None))]
pub(crate) fn open_path(
    py: Python<'_>,
    keyring: &Keyring,
    source: PathBuf,
    destination: PathBuf,
    table: Option<&str>,
    column: Option<&str>,
    row: Option<&Bound<'_, PyAny>>,
) -> PyResult<u64> {
    let context = stream_context(table, column, row)?;
    let keyring = Arc::clone(&keyring.inner);
    py.detach(move || {
        fieldcrypt_files::open_file(&keyring, context.as_ref(), &source, &destination)
    })
    .map_err(from_files)
}

/// Seals what the binary file object `source` reads into the file object `destination`;
/// returns the plaintext's length.
#[pyfunction]
#[pyo3(signature = (keyring, source, destination, *, table=None, column=None, row=None, chunk_size=65536))]
#[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
pub(crate) fn seal_stream(
    py: Python<'_>,
    keyring: &Keyring,
    source: Py<PyAny>,
    destination: Py<PyAny>,
    table: Option<&str>,
    column: Option<&str>,
    row: Option<&Bound<'_, PyAny>>,
    chunk_size: u32,
) -> PyResult<u64> {
    let context = stream_context(table, column, row)?;
    let chunk_size = chunk_size_of(chunk_size)?;
    let keyring = Arc::clone(&keyring.inner);
    py.detach(move || {
        fieldcrypt_files::seal_from_reader(
            &keyring,
            context.as_ref(),
            chunk_size,
            PyFile(source),
            PyFile(destination),
        )
        .map(|(n, _)| n)
    })
    .map_err(from_files)
}

/// Opens the sealed stream the file object `source` reads into the file object `destination`;
/// returns the plaintext's length. On error, `destination` holds the chunks authenticated
/// before the damage and nothing more.
#[pyfunction]
#[pyo3(signature = (keyring, source, destination, *, table=None, column=None, row=None))]
pub(crate) fn open_stream(
    py: Python<'_>,
    keyring: &Keyring,
    source: Py<PyAny>,
    destination: Py<PyAny>,
    table: Option<&str>,
    column: Option<&str>,
    row: Option<&Bound<'_, PyAny>>,
) -> PyResult<u64> {
    let context = stream_context(table, column, row)?;
    let keyring = Arc::clone(&keyring.inner);
    py.detach(move || {
        fieldcrypt_files::open_to_writer(
            &keyring,
            context.as_ref(),
            PyFile(source),
            PyFile(destination),
        )
        .map(|(n, _)| n)
    })
    .map_err(from_files)
}

/// A sealed stream in a seekable binary file object, read as a plaintext file: `read`, `seek`
/// and `tell` open only the chunks a range covers. The length is authenticated when it is made
/// (the last chunk is opened then).
#[pyclass(module = "fieldcrypt._native")]
pub(crate) struct SealedReader {
    inner: Option<SeekableOpenReader<PyFile>>,
    size: u64,
}

impl SealedReader {
    fn reader(&mut self) -> PyResult<&mut SeekableOpenReader<PyFile>> {
        self.inner
            .as_mut()
            .ok_or_else(|| PyValueError::new_err("I/O operation on a closed SealedReader"))
    }
}

#[pymethods]
impl SealedReader {
    #[new]
    #[pyo3(signature = (keyring, fileobj, *, table=None, column=None, row=None))]
    fn new(
        py: Python<'_>,
        keyring: &Keyring,
        fileobj: Py<PyAny>,
        table: Option<&str>,
        column: Option<&str>,
        row: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let context = stream_context(table, column, row)?;
        let keyring = Arc::clone(&keyring.inner);
        let reader = py
            .detach(move || SeekableOpenReader::new(&keyring, context.as_ref(), PyFile(fileobj)))
            .map_err(|e| from_files(e.into()))?;
        let size = reader.plaintext_len();
        Ok(Self {
            inner: Some(reader),
            size,
        })
    }

    /// The plaintext's length.
    #[getter]
    fn size(&self) -> u64 {
        self.size
    }

    /// Whether `close()` was called.
    #[getter]
    fn closed(&self) -> bool {
        self.inner.is_none()
    }

    /// Reads up to `size` bytes (all that is left when negative); fewer only at the end.
    #[pyo3(signature = (size=-1), text_signature = "(self, size=-1)")]
    fn read<'py>(&mut self, py: Python<'py>, size: i64) -> PyResult<Bound<'py, PyBytes>> {
        let total = self.size;
        let reader = self.reader()?;
        let out = py
            .detach(|| -> io::Result<Vec<u8>> {
                let pos = reader.stream_position()?;
                let left = total.saturating_sub(pos);
                let want = if size < 0 {
                    left
                } else {
                    left.min(size as u64)
                };
                let mut out = vec![0u8; usize::try_from(want).map_err(io::Error::other)?];
                let mut filled = 0;
                while filled < out.len() {
                    match reader.read(&mut out[filled..])? {
                        0 => break,
                        n => filled += n,
                    }
                }
                out.truncate(filled);
                Ok(out)
            })
            .map_err(|e| from_files(e.into()))?;
        Ok(PyBytes::new(py, &out))
    }

    /// Moves to `offset` from the start (`whence` 0), the current position (1) or the end (2);
    /// returns the new position.
    #[pyo3(signature = (offset, whence=0))]
    fn seek(&mut self, offset: i64, whence: i32) -> PyResult<u64> {
        let to = match whence {
            0 => SeekFrom::Start(
                u64::try_from(offset)
                    .map_err(|_| PyValueError::new_err("negative seek position"))?,
            ),
            1 => SeekFrom::Current(offset),
            2 => SeekFrom::End(offset),
            _ => return Err(PyValueError::new_err("whence must be 0, 1 or 2")),
        };
        self.reader()?.seek(to).map_err(from_io)
    }

    /// The current position.
    fn tell(&mut self) -> PyResult<u64> {
        self.reader()?.stream_position().map_err(from_io)
    }

    fn readable(&self) -> bool {
        true
    }

    fn seekable(&self) -> bool {
        true
    }

    fn writable(&self) -> bool {
        false
    }

    /// Closes the reader and the file object under it.
    fn close(&mut self, py: Python<'_>) -> PyResult<()> {
        if let Some(reader) = self.inner.take() {
            let PyFile(file) = reader.into_inner();
            file.bind(py).call_method0("close")?;
        }
        Ok(())
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &mut self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!(
            "SealedReader(size={}, closed={})",
            self.size,
            self.inner.is_none()
        )
    }
}
