//! `Keyring`: opened the ways the CLI opens one, sealing and opening typed values with a context.

use std::path::PathBuf;
use std::sync::Arc;

use fieldcrypt::{Context, KeyId, RowKey, Suite, TypeTag, Value};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyString};

use crate::convert::{from_value, to_value};
use crate::errors::{InvalidValue, WrongType, from_core, from_kms};
use crate::opening::{Opening, RemoteConfig};

/// A keyring: data keys and blind-index roots, unwrapped. Its repr shows ids only.
#[pyclass(frozen, module = "fieldcrypt._native")]
pub(crate) struct Keyring {
    pub(crate) inner: Arc<fieldcrypt::Keyring>,
}

/// The Python keyword arguments of `open_file` / `from_document`, as an [`Opening`].
#[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
fn opening(
    master_key: Option<PathBuf>,
    key_variable: Option<String>,
    passphrase_variable: Option<String>,
    expect_provider: Option<String>,
    keyring_id: Option<&str>,
    min_generation: Option<u64>,
    remote: RemoteConfig,
) -> PyResult<Opening> {
    let keyring_id = keyring_id
        .map(|id| {
            id.parse::<fieldcrypt::KeyringId>().map_err(|_| {
                InvalidValue::new_err(format!("keyring_id {id:?} is not 32 lower-case hex digits"))
            })
        })
        .transpose()?;
    let defaults = fieldcrypt_kms::InProcessConfig::default();
    Ok(Opening {
        config: fieldcrypt_kms::InProcessConfig {
            master_key,
            key_variable: key_variable.unwrap_or(defaults.key_variable),
            passphrase_variable: passphrase_variable.unwrap_or(defaults.passphrase_variable),
        },
        remote,
        pins: fieldcrypt_kms::Pins {
            keyring_id,
            min_generation,
        },
        expect_provider,
    })
}

/// A row key or tenant given from Python: an int (in decimal, as Rust writes an `i64` id) or a
/// str (a UUID as its lower-case hyphenated text).
fn row_key(value: &Bound<'_, PyAny>) -> PyResult<RowKey> {
    if value.is_instance_of::<PyInt>() {
        let n: i128 = value.extract()?;
        return Ok(RowKey::from(n.to_string()));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(RowKey::from(value.extract::<String>()?));
    }
    if value.hasattr("hex")? && value.hasattr("urn")? {
        // uuid.UUID
        return Ok(RowKey::from(value.str()?.extract::<String>()?));
    }
    Err(WrongType::new_err(
        "a row key or tenant is an int, a str or a uuid.UUID",
    ))
}

pub(crate) fn context(
    table: &str,
    column: &str,
    row: Option<&Bound<'_, PyAny>>,
    tenant: Option<&Bound<'_, PyAny>>,
) -> PyResult<Context> {
    let mut context = Context::new(table, column).map_err(from_core)?;
    if let Some(row) = row {
        context = context.with_row(row_key(row)?).map_err(from_core)?;
    }
    if let Some(tenant) = tenant {
        context = context.with_tenant(row_key(tenant)?).map_err(from_core)?;
    }
    Ok(context)
}

pub(crate) fn envelope_bytes(envelope: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if envelope.is_instance_of::<PyString>() {
        return Ok(envelope.extract::<String>()?.into_bytes());
    }
    envelope
        .extract::<Vec<u8>>()
        .map_err(|_| WrongType::new_err("an envelope is bytes (binary form) or str (text form)"))
}

pub(crate) fn check_type(value: &Value, expect: Option<&str>) -> PyResult<()> {
    let Some(expect) = expect else {
        return Ok(());
    };
    let wanted = TypeTag::from_name(expect).ok_or_else(|| {
        InvalidValue::new_err(format!(
            "expect={expect:?}: one of string, bytes, int, float, bool, date, timestamp, decimal, json"
        ))
    })?;
    if value.type_tag() != wanted {
        return Err(WrongType::new_err(format!(
            "value holds {}, not {wanted}",
            value.type_tag()
        )));
    }
    Ok(())
}

#[pymethods]
impl Keyring {
    /// Opens the keyring file at `path`, creating it (and, on first use, the master key) if it
    /// does not exist. The master key is `master_key`, else `FIELDCRYPT_MASTER_KEY`, else
    /// `~/.config/fieldcrypt/master.key`; never the path the keyring file records.
    #[staticmethod]
    #[pyo3(signature = (path, master_key=None))]
    fn open_local(py: Python<'_>, path: PathBuf, master_key: Option<PathBuf>) -> PyResult<Self> {
        let local = py
            .detach(|| {
                fieldcrypt_kms::LocalKeyring::open_or_create(
                    &path,
                    master_key.as_deref(),
                    Suite::default(),
                )
            })
            .map_err(from_kms)?;
        Ok(Self {
            inner: Arc::new(local.into_keyring()),
        })
    }

    /// Opens the keyring file at `path` with the provider it names (local, env, passphrase),
    /// configured here and never by the file: `master_key` (local; default
    /// `FIELDCRYPT_MASTER_KEY`, else `~/.config/fieldcrypt/master.key`), `key_variable` (env),
    /// `passphrase_variable` (passphrase). Pins: `expect_provider`, `keyring_id`,
    /// `min_generation`. Argon2 and the provider run with the GIL released.
    #[staticmethod]
    #[pyo3(signature = (path, *, master_key=None, key_variable=None, passphrase_variable=None,
        expect_provider=None, keyring_id=None, min_generation=None, vault_addr=None,
        vault_mount=None, vault_key=None, vault_ca_cert=None, aws_kms_key=None, aws_region=None,
        aws_endpoint=None))]
    #[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
    fn open_file(
        py: Python<'_>,
        path: PathBuf,
        master_key: Option<PathBuf>,
        key_variable: Option<String>,
        passphrase_variable: Option<String>,
        expect_provider: Option<String>,
        keyring_id: Option<&str>,
        min_generation: Option<u64>,
        vault_addr: Option<String>,
        vault_mount: Option<String>,
        vault_key: Option<String>,
        vault_ca_cert: Option<PathBuf>,
        aws_kms_key: Option<String>,
        aws_region: Option<String>,
        aws_endpoint: Option<String>,
    ) -> PyResult<Self> {
        let opening = opening(
            master_key,
            key_variable,
            passphrase_variable,
            expect_provider,
            keyring_id,
            min_generation,
            RemoteConfig {
                vault_addr,
                vault_mount,
                vault_key,
                vault_ca_cert,
                aws_kms_key,
                aws_region,
                aws_endpoint,
            },
        )?;
        let keyring = py
            .detach(|| {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    fieldcrypt_kms::KmsError::NoKeyring(format!("file {}: {e}", path.display()))
                })?;
                let doc = fieldcrypt::KeyringDocument::from_json(&text)
                    .map_err(fieldcrypt::Error::from)?;
                opening.open(&doc, &path)
            })
            .map_err(from_kms)?;
        Ok(Self {
            inner: Arc::new(keyring),
        })
    }

    /// Opens a keyring document given as JSON text (a `fieldcrypt_keys` row's `document`, read
    /// by the caller's own database connection), with the provider it names configured as in
    /// [`Keyring::open_file`]. `source` names the document in errors.
    #[staticmethod]
    #[pyo3(signature = (document, *, source=None, master_key=None, key_variable=None,
        passphrase_variable=None, expect_provider=None, keyring_id=None, min_generation=None,
        vault_addr=None, vault_mount=None, vault_key=None, vault_ca_cert=None, aws_kms_key=None,
        aws_region=None, aws_endpoint=None))]
    #[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
    fn from_document(
        py: Python<'_>,
        document: &str,
        source: Option<String>,
        master_key: Option<PathBuf>,
        key_variable: Option<String>,
        passphrase_variable: Option<String>,
        expect_provider: Option<String>,
        keyring_id: Option<&str>,
        min_generation: Option<u64>,
        vault_addr: Option<String>,
        vault_mount: Option<String>,
        vault_key: Option<String>,
        vault_ca_cert: Option<PathBuf>,
        aws_kms_key: Option<String>,
        aws_region: Option<String>,
        aws_endpoint: Option<String>,
    ) -> PyResult<Self> {
        let opening = opening(
            master_key,
            key_variable,
            passphrase_variable,
            expect_provider,
            keyring_id,
            min_generation,
            RemoteConfig {
                vault_addr,
                vault_mount,
                vault_key,
                vault_ca_cert,
                aws_kms_key,
                aws_region,
                aws_endpoint,
            },
        )?;
        let document = document.to_owned();
        let keyring = py
            .detach(|| {
                let doc = fieldcrypt::KeyringDocument::from_json(&document)
                    .map_err(fieldcrypt::Error::from)?;
                let source = source.as_deref().unwrap_or("fieldcrypt_keys");
                opening.open(&doc, std::path::Path::new(source))
            })
            .map_err(from_kms)?;
        Ok(Self {
            inner: Arc::new(keyring),
        })
    }

    /// A fresh keyring in memory only (tests, examples): lost when the process ends.
    #[staticmethod]
    fn generate() -> PyResult<Self> {
        Ok(Self {
            inner: Arc::new(fieldcrypt::Keyring::generate(Suite::default()).map_err(from_core)?),
        })
    }

    /// A keyring of one given key (for checking published vectors): not for applications.
    #[staticmethod]
    #[pyo3(signature = (key, key_id, suite="kc-xaes-256-gcm"))]
    fn _from_single_key(key: &[u8], key_id: u32, suite: &str) -> PyResult<Self> {
        let suite = match suite {
            "kc-xaes-256-gcm" => Suite::KcXaes256Gcm,
            "xaes-256-gcm" => Suite::Xaes256Gcm,
            other => return Err(InvalidValue::new_err(format!("unknown suite {other:?}"))),
        };
        let key_id = KeyId::new(key_id).ok_or_else(|| InvalidValue::new_err("key id 0"))?;
        let key = fieldcrypt::SecretKey::from_slice(key).map_err(from_core)?;
        Ok(Self {
            inner: Arc::new(fieldcrypt::Keyring::from_single_key(
                fieldcrypt::KeyringId([0; 16]),
                key_id,
                suite,
                key,
                fieldcrypt::SecretKey::from_bytes([0; 32]),
            )),
        })
    }

    /// The keyring's id (32 hex digits).
    #[getter]
    fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// The id of the key that seals new values.
    #[getter]
    fn primary_key_id(&self) -> u32 {
        self.inner.primary().get()
    }

    fn __repr__(&self) -> String {
        let keys: Vec<String> = self
            .inner
            .keys()
            .map(|k| format!("{}:{}", k.id, k.state))
            .collect();
        format!(
            "Keyring(id={}, keys=[{}])",
            self.inner.id(),
            keys.join(", ")
        )
    }

    /// Seals `value` for `table.column` (and `row`, `tenant` when given): the binary envelope
    /// (`bytes`), or with `text=True` the text form (`str`, for text columns).
    #[pyo3(signature = (table, column, value, *, row=None, tenant=None, text=false))]
    #[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
    fn seal<'py>(
        &self,
        py: Python<'py>,
        table: &str,
        column: &str,
        value: &Bound<'py, PyAny>,
        row: Option<&Bound<'py, PyAny>>,
        tenant: Option<&Bound<'py, PyAny>>,
        text: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let context = context(table, column, row, tenant)?;
        let value = to_value(value)?;
        if text {
            let sealed = self.inner.seal_text(&context, &value).map_err(from_core)?;
            Ok(PyString::new(py, &sealed).into_any())
        } else {
            let sealed = self.inner.seal(&context, &value).map_err(from_core)?;
            Ok(PyBytes::new(py, &sealed).into_any())
        }
    }

    /// Opens an envelope (bytes or str) sealed for `table.column` (and `row`, `tenant`). With
    /// `expect` (a type name: string, bytes, int, float, bool, date, timestamp, decimal, json),
    /// a value of any other type raises `WrongType`.
    #[pyo3(signature = (table, column, envelope, *, row=None, tenant=None, expect=None))]
    #[allow(clippy::too_many_arguments)] // the Python signature's keyword arguments
    fn open<'py>(
        &self,
        py: Python<'py>,
        table: &str,
        column: &str,
        envelope: &Bound<'py, PyAny>,
        row: Option<&Bound<'py, PyAny>>,
        tenant: Option<&Bound<'py, PyAny>>,
        expect: Option<&str>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let context = context(table, column, row, tenant)?;
        let bytes = envelope_bytes(envelope)?;
        let value: Value = self.inner.open(&context, &bytes).map_err(from_core)?;
        check_type(&value, expect)?;
        from_value(py, value)
    }

    /// [`Keyring::seal`] of many values for one column (no row binding), with the GIL released
    /// while sealing.
    #[pyo3(signature = (table, column, values, *, text=false))]
    fn seal_many<'py>(
        &self,
        py: Python<'py>,
        table: &str,
        column: &str,
        values: Vec<Bound<'py, PyAny>>,
        text: bool,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let context = context(table, column, None, None)?;
        let values: Vec<Value> = values.iter().map(to_value).collect::<PyResult<_>>()?;
        let keyring = Arc::clone(&self.inner);
        let sealed = py.detach(move || -> Result<Vec<Vec<u8>>, fieldcrypt::Error> {
            if text {
                let texts = keyring.seal_many_text(&context, &values)?;
                Ok(texts.into_iter().map(String::into_bytes).collect())
            } else {
                keyring.seal_many(&context, &values)
            }
        });
        let sealed = sealed.map_err(from_core)?;
        sealed
            .into_iter()
            .map(|s| {
                Ok(if text {
                    PyString::new(py, &String::from_utf8_lossy(&s)).into_any()
                } else {
                    PyBytes::new(py, &s).into_any()
                })
            })
            .collect()
    }

    /// [`Keyring::open`] of many envelopes of one column (no row binding), with the GIL
    /// released while opening. The first value that does not open raises.
    #[pyo3(signature = (table, column, envelopes, *, expect=None))]
    fn open_many<'py>(
        &self,
        py: Python<'py>,
        table: &str,
        column: &str,
        envelopes: Vec<Bound<'py, PyAny>>,
        expect: Option<&str>,
    ) -> PyResult<Vec<Bound<'py, PyAny>>> {
        let context = context(table, column, None, None)?;
        let bytes: Vec<Vec<u8>> = envelopes
            .iter()
            .map(envelope_bytes)
            .collect::<PyResult<_>>()?;
        let keyring = Arc::clone(&self.inner);
        let opened = py
            .detach(move || -> Result<Vec<Value>, fieldcrypt::Error> {
                keyring.open_many(&context, &bytes)
            })
            .map_err(from_core)?;
        opened
            .into_iter()
            .map(|v| {
                check_type(&v, expect)?;
                from_value(py, v)
            })
            .collect()
    }
}
