//! `fieldcrypt._native`: the Python package's native module, a thin layer over the Rust crates.
//! Every envelope, key and blind-index operation is the crates'; this module only converts
//! between Python values and the core's typed values, maps errors to Python exceptions, and
//! releases the GIL around batch work. The typed Python API is `python/fieldcrypt/`.

#![deny(unsafe_code)]

mod convert;
mod errors;
mod index;
mod keyring;
mod legacy;
mod opening;
mod streams;

use pyo3::prelude::*;

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<keyring::Keyring>()?;
    m.add_class::<index::BlindIndex>()?;
    m.add_class::<legacy::LegacyReader>()?;
    m.add_class::<streams::SealedReader>()?;
    m.add_function(wrap_pyfunction!(streams::seal_path, m)?)?;
    m.add_function(wrap_pyfunction!(streams::open_path, m)?)?;
    m.add_function(wrap_pyfunction!(streams::seal_stream, m)?)?;
    m.add_function(wrap_pyfunction!(streams::open_stream, m)?)?;
    m.add_function(wrap_pyfunction!(index::plan, m)?)?;
    m.add_function(wrap_pyfunction!(is_envelope, m)?)?;
    m.add_function(wrap_pyfunction!(envelope_length, m)?)?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

/// Whether `stored` (bytes, or str for a text column) parses as a fieldcrypt envelope: what a
/// field in migrating mode asks before it reads a value as plaintext. Opens nothing.
#[pyfunction]
fn is_envelope(stored: &Bound<'_, PyAny>) -> PyResult<bool> {
    let bytes = keyring::envelope_bytes(stored)?;
    Ok(fieldcrypt::Envelope::parse(&bytes).is_ok())
}

/// The length of the longest envelope a string of `plaintext_bytes` UTF-8 bytes seals to, in
/// the text form (`text=True`) or the binary one, under any key id and suite: what a column
/// must hold. Measured by sealing under a throwaway key, so it is the format's own figure.
#[pyfunction]
#[pyo3(signature = (plaintext_bytes, *, text))]
fn envelope_length(plaintext_bytes: usize, text: bool) -> PyResult<usize> {
    if plaintext_bytes > 16 << 20 {
        return Err(errors::InvalidValue::new_err(
            "more than 16 MiB of plaintext",
        ));
    }
    let widest =
        fieldcrypt::KeyId::new(u32::MAX).ok_or_else(|| errors::InvalidValue::new_err("key id"))?;
    let keyring = fieldcrypt::Keyring::from_single_key(
        fieldcrypt::KeyringId([0; 16]),
        widest,
        fieldcrypt::Suite::KcXaes256Gcm,
        fieldcrypt::SecretKey::generate().map_err(errors::from_core)?,
        fieldcrypt::SecretKey::generate().map_err(errors::from_core)?,
    );
    let context = fieldcrypt::Context::new("t", "c").map_err(errors::from_core)?;
    let value = fieldcrypt::Value::String("a".repeat(plaintext_bytes));
    Ok(if text {
        keyring
            .seal_text(&context, &value)
            .map_err(errors::from_core)?
            .len()
    } else {
        keyring
            .seal(&context, &value)
            .map_err(errors::from_core)?
            .len()
    })
}
