//! A keyring document in a JSON file. The file holds only wrapped keys; it is replaced
//! atomically (write a temporary file, fsync, rename), so a crash leaves the old or the new
//! keyring, never half of one.

use std::path::Path;

use fieldcrypt::KeyringDocument;

use crate::error::KmsError;

/// Reads a keyring document without unwrapping anything (for listing).
pub fn read_document(path: &Path) -> Result<KeyringDocument, KmsError> {
    let text = std::fs::read_to_string(path).map_err(KmsError::io(path))?;
    parse_document(path, &text)
}

/// Parses a keyring document read from `path`.
pub fn parse_document(path: &Path, text: &str) -> Result<KeyringDocument, KmsError> {
    KeyringDocument::from_json(text).map_err(|e| KmsError::BadKeyringFile {
        path: path.to_owned(),
        reason: match e {
            fieldcrypt::KeyringError::InvalidDocument(why) => why,
            other => other.to_string(),
        },
    })
}

/// Replaces the file with `doc` atomically; returns the text written.
pub fn write_document(path: &Path, doc: &KeyringDocument) -> Result<String, KmsError> {
    let text = serde_json::to_string_pretty(doc).map_err(|e| KmsError::BadKeyringFile {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(KmsError::io(dir))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let text = format!("{text}\n");
    crate::private_file::write_new_private(&tmp, text.as_bytes())?;
    std::fs::rename(&tmp, path).map_err(KmsError::io(path))?;
    // Make the rename itself durable.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(text)
}
