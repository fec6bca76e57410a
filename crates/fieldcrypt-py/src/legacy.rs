//! `LegacyReader`: fieldcrypt-compat's readers for what the six Django field libraries wrote,
//! and its read-through (an envelope, or else the library's format) for a field in migrating
//! mode. Keys are derived from the Django settings the way each library derives them, in Rust.

use std::collections::HashMap;
use std::sync::Arc;

use fieldcrypt_compat::{
    CompatError, DjangoSettings, FieldKind, Flavor, LegacyReader as Reader, NaiveZone, ReadOptions,
    ReadThrough, ReadThroughError, Source,
};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyList, PyString};
use zeroize::Zeroizing;

use crate::convert::from_value;
use crate::errors::{InvalidValue, LegacyError, from_core};
use crate::keyring::{Keyring, context, envelope_bytes};

/// A reader for one field of one legacy library. Its repr names the flavor and kind only.
#[pyclass(frozen, module = "fieldcrypt._native")]
pub(crate) struct LegacyReader {
    through: Arc<ReadThrough>,
    flavor: Flavor,
    kind: FieldKind,
}

fn legacy_error(e: CompatError) -> PyErr {
    LegacyError::new_err(e.to_string())
}

fn through_error(e: ReadThroughError) -> PyErr {
    match e {
        ReadThroughError::Fieldcrypt(e) => from_core(e),
        ReadThroughError::Legacy(e) => legacy_error(e),
        other => LegacyError::new_err(other.to_string()),
    }
}

/// A Django setting's value as the text [`DjangoSettings::from_env`] parses: a list as a JSON
/// array of strings, a bool as `true`/`false`, a str as itself.
fn setting_text(value: &Bound<'_, PyAny>) -> PyResult<Zeroizing<String>> {
    if value.is_instance_of::<PyBool>() {
        return Ok(Zeroizing::new(
            if value.extract::<bool>()? {
                "true"
            } else {
                "false"
            }
            .to_owned(),
        ));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(Zeroizing::new(value.extract()?));
    }
    if value.is_instance_of::<PyList>() || value.hasattr("__iter__")? {
        let items: Vec<Zeroizing<String>> = value
            .try_iter()?
            .map(|item| item.and_then(|i| i.extract::<String>()).map(Zeroizing::new))
            .collect::<PyResult<_>>()
            .map_err(|_| InvalidValue::new_err("a list setting holds str values only"))?;
        let strs: Vec<&str> = items.iter().map(|s| s.as_str()).collect();
        let text = serde_json_text(&strs);
        return Ok(text);
    }
    Err(InvalidValue::new_err(
        "a legacy setting is a str, a list of str, or a bool",
    ))
}

/// A JSON array of strings, built without an intermediate copy that outlives it.
fn serde_json_text(items: &[&str]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::from("["));
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('"');
        for c in item.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push(']');
    out
}

#[pymethods]
impl LegacyReader {
    /// A reader for a `kind` field (`text`, `integer`, `boolean`, `date`, `datetime`, `decimal`,
    /// `float`, `json`) of `flavor` (`encrypted-model-fields`, `fernet-fields`,
    /// `fernet-encrypted-fields`, `cryptography`, `cryptbase`, `searchable`), keyed from
    /// `settings` (Django's names: `SECRET_KEY`, `FIELD_ENCRYPTION_KEY`, `FERNET_KEYS`, ...).
    /// `naive_zone`: the zone naive datetimes were written in. `plaintext_passthrough`: take a
    /// value outside the library's format as the plaintext itself (rows written before the
    /// field was encrypted), as two of the libraries do.
    #[new]
    #[pyo3(signature = (flavor, kind, settings, *, naive_zone="UTC", plaintext_passthrough=false))]
    fn new(
        flavor: &str,
        kind: &str,
        settings: HashMap<String, Bound<'_, PyAny>>,
        naive_zone: &str,
        plaintext_passthrough: bool,
    ) -> PyResult<Self> {
        let flavor = Flavor::parse(flavor).ok_or_else(|| {
            InvalidValue::new_err(format!(
                "unknown legacy flavor {flavor:?} (one of: {})",
                Flavor::ALL.map(Flavor::name).join(", ")
            ))
        })?;
        let kind = FieldKind::parse(kind)
            .ok_or_else(|| InvalidValue::new_err(format!("unknown field kind {kind:?}")))?;
        let mut texts: HashMap<String, Zeroizing<String>> = HashMap::new();
        for (name, value) in &settings {
            texts.insert(name.clone(), setting_text(value)?);
        }
        let django = DjangoSettings::from_env(|name| texts.get(name).map(|v| v.to_string()))
            .map_err(legacy_error)?;
        let options = ReadOptions {
            naive_zone: NaiveZone::parse(naive_zone)
                .map_err(|e| InvalidValue::new_err(e.to_string()))?,
            plaintext_passthrough,
        };
        let reader = Reader::new(flavor, kind, &django, options).map_err(legacy_error)?;
        Ok(Self {
            through: Arc::new(ReadThrough::new(reader)),
            flavor,
            kind,
        })
    }

    /// The flavor's name.
    #[getter]
    fn flavor(&self) -> &'static str {
        self.flavor.name()
    }

    /// Reads what the library stored (bytes, or str for text columns).
    fn read<'py>(
        &self,
        py: Python<'py>,
        stored: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let bytes = envelope_bytes(stored)?;
        let value = self.through.legacy().read(&bytes).map_err(legacy_error)?;
        from_value(py, value)
    }

    /// Opens `stored` whichever it holds: a fieldcrypt envelope (with `keyring`, for
    /// `table.column` and `row`, `tenant`) or the library's value. Returns `(value, legacy)`,
    /// `legacy` true when the row still holds the library's format.
    #[pyo3(signature = (keyring, table, column, stored, *, row=None, tenant=None))]
    #[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
    fn open<'py>(
        &self,
        py: Python<'py>,
        keyring: &Keyring,
        table: &str,
        column: &str,
        stored: &Bound<'py, PyAny>,
        row: Option<&Bound<'py, PyAny>>,
        tenant: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<(Bound<'py, PyAny>, bool)> {
        let context = context(table, column, row, tenant)?;
        let bytes = envelope_bytes(stored)?;
        let (value, source) = self
            .through
            .open(&keyring.inner, &context, &bytes)
            .map_err(through_error)?;
        Ok((from_value(py, value)?, matches!(source, Source::Legacy(_))))
    }

    /// [`LegacyReader::open`] of many values of one column (no row binding), with the GIL
    /// released. The first value that does not open raises.
    fn open_many<'py>(
        &self,
        py: Python<'py>,
        keyring: &Keyring,
        table: &str,
        column: &str,
        stored: Vec<Bound<'py, PyAny>>,
    ) -> PyResult<Vec<(Bound<'py, PyAny>, bool)>> {
        let context = context(table, column, None, None)?;
        let bytes: Vec<Vec<u8>> = stored.iter().map(envelope_bytes).collect::<PyResult<_>>()?;
        let keyring = Arc::clone(&keyring.inner);
        let through = Arc::clone(&self.through);
        let opened = py
            .detach(move || {
                fieldcrypt::parallel::map(&bytes, |b| through.open(&keyring, &context, b))
            })
            .map_err(through_error)?;
        opened
            .into_iter()
            .map(|(v, source)| Ok((from_value(py, v)?, matches!(source, Source::Legacy(_)))))
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "LegacyReader(flavor={:?}, kind={:?})",
            self.flavor.name(),
            self.kind.name()
        )
    }
}
