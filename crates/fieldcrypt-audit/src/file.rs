//! A trail in a local file: one JSON record per line, opened for appending only, each batch
//! written with one `write` and flushed to disk before the caller is told it is stored.

use std::fs::{File, OpenOptions};
use std::io::{BufRead as _, BufReader, Write as _};
use std::path::{Path, PathBuf};

use crate::AuditError;
use crate::record::{Entry, Record};

/// An append-only trail file.
#[derive(Debug)]
pub struct FileSink {
    path: PathBuf,
    file: File,
    sync: bool,
}

impl FileSink {
    /// Opens (creating, mode 0600 on Unix) the trail at `path`. With `sync`, every batch is
    /// `fdatasync`ed before [`FileSink::append`] returns.
    pub fn open(path: &Path, sync: bool) -> Result<Self, AuditError> {
        let mut options = OpenOptions::new();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            options.mode(0o600);
        }
        let file = options
            .open(path)
            .map_err(|e| AuditError::io(path, "opening the trail", e))?;
        Ok(Self {
            path: path.to_owned(),
            file,
            sync,
        })
    }

    /// Appends `records` as one write; stored when this returns `Ok`.
    pub fn append(&mut self, records: &[Record]) -> Result<(), AuditError> {
        let mut buf = String::with_capacity(records.len() * 320);
        for r in records {
            buf.push_str(&r.to_json_line());
            buf.push('\n');
        }
        self.file
            .write_all(buf.as_bytes())
            .map_err(|e| AuditError::io(&self.path, "appending to the trail", e))?;
        if self.sync {
            self.file
                .sync_data()
                .map_err(|e| AuditError::io(&self.path, "flushing the trail", e))?;
        }
        Ok(())
    }

    /// Whether the file can still be written (for readiness checks): its metadata answers and
    /// it is not read-only.
    pub fn writable(&self) -> bool {
        self.file
            .metadata()
            .is_ok_and(|m| !m.permissions().readonly())
    }

    /// The last entry of `replica` in the trail, to resume its chain after a restart.
    pub fn last_entry(path: &Path, replica: &str) -> Result<Option<Entry>, AuditError> {
        let mut last = None;
        for record in read(path)?.into_iter().flatten() {
            if let Record::Entry(e) = record
                && e.replica == replica
            {
                last = Some(e);
            }
        }
        Ok(last)
    }
}

/// Reads every line of a trail file: a record, or why the line is not one.
pub fn read(path: &Path) -> Result<Vec<Result<Record, String>>, AuditError> {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(AuditError::io(path, "reading the trail", e)),
    };
    let mut out = Vec::new();
    for line in BufReader::new(file).lines() {
        let line = line.map_err(|e| AuditError::io(path, "reading the trail", e))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(serde_json::from_str::<Record>(&line).map_err(|e| e.to_string()));
    }
    Ok(out)
}
