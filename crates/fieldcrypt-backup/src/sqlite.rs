//! SQLite through its online backup API: a consistent copy of a live database, taken page by
//! page into a private temporary file (mode 0600 in a 0700 directory), streamed into the
//! backup, and deleted. Restoring runs the same API the other way, into the live file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, backup::Backup};

use crate::{Database, Error, Summary};

const PAGES_PER_STEP: std::os::raw::c_int = 1024;

pub(crate) fn dump(database: &Database, out: &mut dyn Write) -> Result<(), Error> {
    if !database.path().exists() {
        return Err(Error::Url(format!(
            "no SQLite database at {}",
            database.path().display()
        )));
    }
    let source = Connection::open_with_flags(
        database.path(),
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    let dir = tempfile::Builder::new()
        .prefix("fieldcrypt-backup-")
        .tempdir()?;
    let copy_path = dir.path().join("copy.sqlite");
    {
        let mut copy = Connection::open(&copy_path)?;
        Backup::new(&source, &mut copy)?.run_to_completion(PAGES_PER_STEP, Duration::ZERO, None)?;
    }
    let mut copy = File::open(&copy_path)?;
    std::io::copy(&mut copy, out)?;
    Ok(())
}

pub(crate) fn restore(
    database: &Database,
    feed: &mut dyn FnMut(&mut dyn Write) -> Result<Summary, Error>,
) -> Result<Summary, Error> {
    let dir = tempfile::Builder::new()
        .prefix("fieldcrypt-restore-")
        .tempdir()?;
    let copy_path = dir.path().join("copy.sqlite");
    let summary = {
        let mut file = BufWriter::new(File::create(&copy_path)?);
        let summary = feed(&mut file)?;
        file.flush()?;
        summary
    };
    let copy = Connection::open_with_flags(&copy_path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut target = Connection::open(database.path())?;
    Backup::new(&copy, &mut target)?.run_to_completion(PAGES_PER_STEP, Duration::ZERO, None)?;
    Ok(summary)
}
