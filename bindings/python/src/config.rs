//! `Engine(signing_key, **config)` → `keyfob::Config`.
//!
//! The accepted kwargs and their kinds come from `Config`'s own `Deserialize` (see
//! `schema.rs`), so every field of `src/config.rs` is a kwarg under the same name: a bool
//! takes `bool`, an integer `int` (and `timedelta` for `*_s`/`*_ms` durations), a string
//! `str`, an optional string `str | None`, a key map `dict[str, str | bytes]`.

use keyfob::Config;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyInt, PyString};
use serde_json::{Map, Value};

use crate::convert::{duration, type_name, DurationError, Unit};
use crate::errors::config_error;
use crate::schema::{config_fields, Kind};

/// Key material as text: `str`, or `bytes` holding UTF-8 (keys are HMAC secrets or PEM text).
fn key_text(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<String> {
    let py = obj.py();
    if let Ok(s) = obj.cast::<PyString>() {
        return s
            .to_str()
            .map(str::to_owned)
            .map_err(|_| config_error(py, format!("{what} is not valid Unicode")));
    }
    if let Ok(b) = obj.cast::<PyBytes>() {
        return String::from_utf8(b.as_bytes().to_vec()).map_err(|_| {
            config_error(
                py,
                format!("{what} bytes must be UTF-8 text (an HMAC secret or a PEM key)"),
            )
        });
    }
    Err(PyTypeError::new_err(format!(
        "{what} must be str or bytes, not {}",
        type_name(obj)
    )))
}

fn type_error(name: &str, expected: &str, obj: &Bound<'_, PyAny>) -> PyErr {
    PyTypeError::new_err(format!("{name} must be {expected}, not {}", type_name(obj)))
}

/// A non-negative integer that fits the config's `u64`/`usize` fields.
fn unsigned(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = obj.py();
    if obj.lt(0)? {
        return Err(config_error(py, format!("{name} must not be negative")));
    }
    obj.extract::<u64>()
        .map(Value::from)
        .map_err(|_| config_error(py, format!("{name} is too large")))
}

/// Durations are the fields named `*_s` (seconds) and `*_ms` (milliseconds).
fn duration_unit(name: &str) -> Option<Unit> {
    if name.ends_with("_s") {
        Some(Unit::Seconds)
    } else if name.ends_with("_ms") {
        Some(Unit::Milliseconds)
    } else {
        None
    }
}

/// One kwarg as the JSON value `Config` deserializes, checked against the field's kind.
fn field_value(name: &str, kind: Kind, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    let py = obj.py();
    let is_int = obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>();
    match kind {
        Kind::Bool => obj
            .cast::<PyBool>()
            .map(|b| Value::Bool(b.is_true()))
            .map_err(|_| type_error(name, "bool", obj)),
        Kind::Unsigned => match duration_unit(name) {
            Some(unit) => match duration(obj, name, unit) {
                Ok(n) if n < 0 => Err(config_error(py, format!("{name} must not be negative"))),
                Ok(n) => Ok(Value::from(n)),
                Err(DurationError::Type(err)) => Err(err),
                Err(DurationError::Value(msg)) => Err(config_error(py, msg)),
            },
            None if is_int => unsigned(name, obj),
            None => Err(type_error(name, "int", obj)),
        },
        Kind::Str => obj
            .cast::<PyString>()
            .map_err(|_| type_error(name, "str", obj))
            .and_then(|s| Ok(Value::String(s.to_str()?.to_owned()))),
        Kind::OptionalStr | Kind::OptionalUnsigned if obj.is_none() => Ok(Value::Null),
        Kind::OptionalUnsigned => field_value(name, Kind::Unsigned, obj),
        Kind::OptionalStr => obj
            .cast::<PyString>()
            .map_err(|_| type_error(name, "str or None", obj))
            .and_then(|s| Ok(Value::String(s.to_str()?.to_owned()))),
        Kind::StrMap => {
            let dict = obj
                .cast::<PyDict>()
                .map_err(|_| type_error(name, "a dict of key id to key", obj))?;
            let mut keys = Map::new();
            for (kid, key) in dict.iter() {
                let kid = kid
                    .cast::<PyString>()
                    .map_err(|_| type_error(&format!("{name} keys"), "str", &kid))?
                    .to_str()?
                    .to_owned();
                let key = key_text(&key, &format!("{name}['{kid}']"))?;
                keys.insert(kid, Value::String(key));
            }
            Ok(Value::Object(keys))
        }
        Kind::Other => Err(config_error(
            py,
            format!("{name} cannot be set from Python"),
        )),
    }
}

/// Build and check the config. Unknown kwargs and impossible values are `ConfigError`.
pub(crate) fn build(
    signing_key: &Bound<'_, PyAny>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<Config> {
    let py = signing_key.py();
    let settable = || {
        config_fields()
            .iter()
            .filter(|(name, _)| *name != "signing_key")
    };
    let mut fields = Map::new();
    fields.insert(
        "signing_key".into(),
        Value::String(key_text(signing_key, "signing_key")?),
    );
    if let Some(kwargs) = kwargs {
        for (name, value) in kwargs.iter() {
            let name: String = name.extract()?;
            let Some(&(_, kind)) = settable().find(|(field, _)| *field == name) else {
                let known: Vec<&str> = settable().map(|(field, _)| *field).collect();
                return Err(config_error(
                    py,
                    format!(
                        "unknown config field '{name}' (known: {})",
                        known.join(", ")
                    ),
                ));
            };
            let value = field_value(&name, kind, &value)?;
            fields.insert(name, value);
        }
    }
    Config::from_json(&Value::Object(fields).to_string())
        .map_err(|e| crate::errors::to_py_err(py, e))
}
