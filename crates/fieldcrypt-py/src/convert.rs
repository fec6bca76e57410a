//! Python values to the core's typed values and back, one type for one type: a value sealed
//! from Python opens in Rust as the same type (and the other way round), and a value that has
//! no exact counterpart is an error, never a conversion.
//!
//! | Python | core |
//! | --- | --- |
//! | `str` | `String` |
//! | `bytes`, `bytearray` | `Bytes` |
//! | `bool` | `Bool` |
//! | `int` (64-bit signed) | `Int` |
//! | `float` | `Float` |
//! | `datetime.datetime`, aware | `Timestamp` (microseconds; naive is refused) |
//! | `datetime.date` | `Date` |
//! | `decimal.Decimal` (finite) | `Decimal`, scale kept |
//! | `dict`, `list`, or `fieldcrypt.Json(value)` | `Json` (compact JSON text) |

use fieldcrypt::{Date, Decimal, JsonText, Timestamp, Value};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString};

use crate::errors::{InvalidValue, WrongType};

/// Days from 0001-01-01 (Python's ordinal 1) to 1970-01-01.
const EPOCH_ORDINAL: i64 = 719_163;

/// The core value for a Python value.
pub(crate) fn to_value(value: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = value.py();
    if value.is_instance_of::<PyBool>() {
        return Ok(Value::Bool(value.extract()?));
    }
    if value.is_instance_of::<PyInt>() {
        return value
            .extract::<i64>()
            .map(Value::Int)
            .map_err(|_| InvalidValue::new_err("an int beyond 64 bits (signed) has no encoding"));
    }
    if value.is_instance_of::<PyFloat>() {
        return Ok(Value::Float(value.extract()?));
    }
    if value.is_instance_of::<PyString>() {
        return Ok(Value::String(value.extract()?));
    }
    if value.is_instance_of::<PyBytes>() || value.is_instance_of::<PyByteArray>() {
        return Ok(Value::Bytes(value.extract()?));
    }
    let datetime = py.import("datetime")?;
    if value.is_instance(&datetime.getattr("datetime")?)? {
        return timestamp(&datetime, value).map(Value::Timestamp);
    }
    if value.is_instance(&datetime.getattr("date")?)? {
        let ordinal: i64 = value.call_method0("toordinal")?.extract()?;
        let days = i32::try_from(ordinal - EPOCH_ORDINAL)
            .map_err(|_| InvalidValue::new_err("date out of range"))?;
        return Ok(Value::Date(Date::from_days_since_epoch(days)));
    }
    if value.is_instance(&py.import("decimal")?.getattr("Decimal")?)? {
        if !value.call_method0("is_finite")?.extract::<bool>()? {
            return Err(InvalidValue::new_err(
                "a Decimal that is not finite has no encoding",
            ));
        }
        // Fixed-point text keeps the scale (`1.50`) and writes exponents out (`1E+2` is `100`).
        let text: String = py
            .import("builtins")?
            .getattr("format")?
            .call1((value, "f"))?
            .extract()?;
        return Decimal::new(text)
            .map(Value::Decimal)
            .map_err(|_| InvalidValue::new_err("a negative-zero Decimal has no encoding"));
    }
    let json = if value.is_instance_of::<PyDict>() || value.is_instance_of::<PyList>() {
        Some(value.clone())
    } else if value.hasattr("__fieldcrypt_json__")? {
        Some(value.getattr("value")?)
    } else {
        None
    };
    if let Some(json) = json {
        let kwargs = PyDict::new(py);
        kwargs.set_item("separators", (",", ":"))?;
        kwargs.set_item("ensure_ascii", false)?;
        kwargs.set_item("allow_nan", false)?;
        let text: String = py
            .import("json")?
            .call_method("dumps", (json,), Some(&kwargs))?
            .extract()?;
        return JsonText::new(&text)
            .map(Value::Json)
            .map_err(crate::errors::from_core);
    }
    Err(WrongType::new_err(format!(
        "a {} has no fieldcrypt type (str, bytes, int, float, bool, date, aware datetime, Decimal, dict, list, Json)",
        value.get_type().name()?
    )))
}

/// An aware datetime as a timestamp, exactly: the timedelta since the epoch.
fn timestamp(datetime: &Bound<'_, PyModule>, value: &Bound<'_, PyAny>) -> PyResult<Timestamp> {
    if value.call_method0("utcoffset")?.is_none() {
        return Err(InvalidValue::new_err(
            "a naive datetime names no instant: attach a time zone (tzinfo)",
        ));
    }
    let utc = datetime.getattr("timezone")?.getattr("utc")?;
    let epoch = datetime
        .getattr("datetime")?
        .call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
    let delta = value.call_method1("__sub__", (epoch,))?;
    let days: i64 = delta.getattr("days")?.extract()?;
    let seconds: i64 = delta.getattr("seconds")?.extract()?;
    let micros: u32 = delta.getattr("microseconds")?.extract()?;
    Timestamp::new(days * 86_400 + seconds, micros * 1000)
        .ok_or_else(|| InvalidValue::new_err("timestamp out of range"))
}

/// The Python value for a core value.
pub(crate) fn from_value<'py>(py: Python<'py>, value: Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::String(v) => PyString::new(py, &v).into_any(),
        Value::Bytes(v) => PyBytes::new(py, &v).into_any(),
        Value::Int(v) => v.into_pyobject(py)?.into_any(),
        Value::Float(v) => v.into_pyobject(py)?.into_any(),
        Value::Bool(v) => PyBool::new(py, v).to_owned().into_any(),
        Value::Date(date) => {
            let ordinal = i64::from(date.days_since_epoch()) + EPOCH_ORDINAL;
            py.import("datetime")?
                .getattr("date")?
                .call_method1("fromordinal", (ordinal,))
                .map_err(|_| InvalidValue::new_err("a date outside Python's years 1 to 9999"))?
        }
        Value::Timestamp(at) => {
            if at.nanos() % 1000 != 0 {
                return Err(InvalidValue::new_err(
                    "a timestamp with nanoseconds has no exact Python datetime (microseconds)",
                ));
            }
            let datetime = py.import("datetime")?;
            let utc = datetime.getattr("timezone")?.getattr("utc")?;
            let epoch = datetime
                .getattr("datetime")?
                .call1((1970, 1, 1, 0, 0, 0, 0, utc))?;
            let kwargs = PyDict::new(py);
            kwargs.set_item("seconds", at.seconds())?;
            kwargs.set_item("microseconds", at.nanos() / 1000)?;
            let delta = datetime.getattr("timedelta")?.call((), Some(&kwargs))?;
            epoch.call_method1("__add__", (delta,)).map_err(|_| {
                InvalidValue::new_err("a timestamp outside Python's years 1 to 9999")
            })?
        }
        Value::Decimal(d) => py
            .import("decimal")?
            .getattr("Decimal")?
            .call1((d.as_str(),))?,
        Value::Json(text) => py.import("json")?.call_method1("loads", (text.as_str(),))?,
        _ => {
            return Err(WrongType::new_err(
                "a value of a type this module does not know",
            ));
        }
    })
}
