//! Files that only their owner may read.

use std::io::Write as _;
use std::path::Path;

use crate::error::KmsError;

/// Writes a new file readable by its owner only; fails if it exists.
pub(crate) fn write_new_private(path: &Path, contents: &[u8]) -> Result<(), KmsError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(KmsError::io(path))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(KmsError::io(path))
}
