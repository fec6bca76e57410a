//! Exit codes: one per kind of failure, so scripts can tell them apart.
//!
//! | code | meaning |
//! | --- | --- |
//! | 0 | success |
//! | 1 | the value cannot be opened (wrong key, wrong context, tampered) |
//! | 2 | usage error (bad arguments; clap's own code) |
//! | 3 | malformed input (not an envelope, or not a value of the given `--type`) |
//! | 4 | the envelope names a key the keyring lacks or has retired |
//! | 5 | the value opened but holds another type than `--type` |
//! | 6 | keyring or master key problem (missing, unreadable, insecure, wrong master key) |
//! | 7 | other I/O error (stdin, stdout) |
//! | 8 | anything else (a database error included) |
//! | 9 | a column job finished but rows are left or failed (they are listed) |
//! | 10 | `audit verify`: the trail does not verify (each finding is listed) |

use fieldcrypt::Error;
use fieldcrypt_kms::KmsError;

pub(crate) const CANNOT_OPEN: u8 = 1;
pub(crate) const MALFORMED: u8 = 3;
pub(crate) const UNKNOWN_KEY: u8 = 4;
pub(crate) const TYPE_MISMATCH: u8 = 5;
pub(crate) const KEYRING: u8 = 6;
pub(crate) const IO: u8 = 7;
pub(crate) const OTHER: u8 = 8;
pub(crate) const INCOMPLETE: u8 = 9;
pub(crate) const TRAIL_REFUSED: u8 = 10;

fn for_core(e: &Error) -> u8 {
    match e {
        Error::CannotOpen => CANNOT_OPEN,
        Error::Malformed(_)
        | Error::InvalidValue(_)
        | Error::InvalidContext(_)
        | Error::TooLarge(_) => MALFORMED,
        Error::UnknownKey(_) | Error::RetiredKey(_) => UNKNOWN_KEY,
        Error::TypeMismatch { .. } => TYPE_MISMATCH,
        Error::Keyring(_) | Error::InvalidKeyLength(_) => KEYRING,
        _ => OTHER,
    }
}

/// The exit code for an error chain: the first error in it that we recognise decides.
pub(crate) fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if cause
            .downcast_ref::<crate::commands::check::CheckFailed>()
            .is_some()
        {
            return KEYRING;
        }
        if cause
            .downcast_ref::<crate::commands::audit::TrailRefused>()
            .is_some()
        {
            return TRAIL_REFUSED;
        }
        if cause
            .downcast_ref::<crate::commands::migrate::Incomplete>()
            .is_some()
        {
            return INCOMPLETE;
        }
        if let Some(e) = cause.downcast_ref::<Error>() {
            return for_core(e);
        }
        if let Some(e) = cause.downcast_ref::<fieldcrypt_backup::Error>() {
            use fieldcrypt_backup::Error as B;
            return match e {
                B::Stream(core) => for_core(core),
                B::NotABackup(_) => MALFORMED,
                B::DigestMismatch | B::Changed => CANNOT_OPEN,
                B::Io(_) => IO,
                _ => OTHER,
            };
        }
        if let Some(e) = cause.downcast_ref::<fieldcrypt_files::Error>() {
            return match e {
                fieldcrypt_files::Error::Stream(core) => for_core(core),
                fieldcrypt_files::Error::Io(_) => IO,
            };
        }
        if cause.downcast_ref::<fieldcrypt::ParseError>().is_some() {
            return MALFORMED;
        }
        if let Some(e) = cause.downcast_ref::<KmsError>() {
            return match e {
                KmsError::Core(core) => match core {
                    Error::Keyring(_) => KEYRING,
                    other => for_core(other),
                },
                _ => KEYRING,
            };
        }
        if cause.downcast_ref::<std::io::Error>().is_some() {
            return IO;
        }
    }
    OTHER
}

/// The error and its causes on one line, each cause once: many errors print their source in
/// their own message too, and repeating it would say everything twice.
pub(crate) fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_printed_once() {
        let core = Error::Keyring(fieldcrypt::KeyringError::InvalidDocument(
            "the MAC does not verify".to_owned(),
        ));
        let err = anyhow::Error::new(KmsError::Core(core)).context("opening keyring k.json");
        let line = one_line(&err);
        assert_eq!(line.matches("the MAC does not verify").count(), 1, "{line}");
        assert!(line.starts_with("opening keyring k.json: "), "{line}");
        let io = anyhow::Error::new(std::io::Error::other("disk full")).context("writing out");
        assert_eq!(one_line(&io), "writing out: disk full");
    }
}
