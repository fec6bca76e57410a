//! Python exceptions for the core's errors. Messages are the crates' own, which never carry
//! plaintext or key material.

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

create_exception!(
    _native,
    FieldcryptError,
    PyException,
    "Base class of every fieldcrypt error."
);
create_exception!(
    _native,
    CannotOpen,
    FieldcryptError,
    "Wrong key, wrong context (table, column, row, tenant) or a tampered value: deliberately one error."
);
create_exception!(
    _native,
    Malformed,
    FieldcryptError,
    "Not a fieldcrypt envelope (plaintext, another format, truncated)."
);
create_exception!(
    _native,
    UnknownKey,
    FieldcryptError,
    "The envelope names a key this keyring does not hold."
);
create_exception!(
    _native,
    RetiredKey,
    FieldcryptError,
    "The envelope's key was retired: its material is gone."
);
create_exception!(
    _native,
    WrongType,
    FieldcryptError,
    "The value holds another type than the one asked for, or a Python value has no fieldcrypt type."
);
create_exception!(
    _native,
    InvalidValue,
    FieldcryptError,
    "A value the format cannot hold (a naive datetime, an int beyond 64 bits, a context too long)."
);
create_exception!(
    _native,
    KeyringError,
    FieldcryptError,
    "The keyring cannot be opened, created or used (missing or insecure master key, damaged file)."
);

create_exception!(
    _native,
    LegacyError,
    FieldcryptError,
    "A value a legacy Django library wrote does not read (wrong settings, altered, not of the field's kind)."
);

/// The Python exception for a core error.
pub(crate) fn from_core(e: fieldcrypt::Error) -> PyErr {
    use fieldcrypt::Error as E;
    let message = e.to_string();
    match e {
        E::CannotOpen => CannotOpen::new_err(message),
        E::Malformed(_) => Malformed::new_err(message),
        E::UnknownKey(_) => UnknownKey::new_err(message),
        E::RetiredKey(_) => RetiredKey::new_err(message),
        E::TypeMismatch { .. } => WrongType::new_err(message),
        E::InvalidValue(_) | E::InvalidContext(_) | E::TooLarge(_) | E::Unencodable(_) => {
            InvalidValue::new_err(message)
        }
        E::Keyring(_) | E::InvalidKeyLength(_) => KeyringError::new_err(message),
        _ => FieldcryptError::new_err(message),
    }
}

/// The Python exception for a key-provider error.
pub(crate) fn from_kms(e: fieldcrypt_kms::KmsError) -> PyErr {
    match e {
        fieldcrypt_kms::KmsError::Core(core) => from_core(core),
        other => KeyringError::new_err(other.to_string()),
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("FieldcryptError", py.get_type::<FieldcryptError>())?;
    m.add("CannotOpen", py.get_type::<CannotOpen>())?;
    m.add("Malformed", py.get_type::<Malformed>())?;
    m.add("UnknownKey", py.get_type::<UnknownKey>())?;
    m.add("RetiredKey", py.get_type::<RetiredKey>())?;
    m.add("WrongType", py.get_type::<WrongType>())?;
    m.add("InvalidValue", py.get_type::<InvalidValue>())?;
    m.add("KeyringError", py.get_type::<KeyringError>())?;
    m.add("LegacyError", py.get_type::<LegacyError>())?;
    Ok(())
}
