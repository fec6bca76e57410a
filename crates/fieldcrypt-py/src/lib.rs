//! `fieldcrypt._native`: the Python package's native module, a thin layer over the Rust crates.
//! Every envelope, key and blind-index operation is the crates'; this module only converts
//! between Python values and the core's typed values, maps errors to Python exceptions, and
//! releases the GIL around batch work. The typed Python API is `python/fieldcrypt/`.

#![deny(unsafe_code)]

mod convert;
mod errors;
mod keyring;

use pyo3::prelude::*;

/// The module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<keyring::Keyring>()?;
    errors::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
