//! Python values in and out: tokens, user ids, durations, and JSON claims.
//! Wrong Python types are a `TypeError` naming the argument; impossible values a `ValueError`
//! (or the keyfob error the core would give), never a crash.

use keyfob::Error;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple, PyType};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::fmt;

use crate::errors::to_py_err;

/// Deepest nesting accepted in extra claims; also stops self-referencing containers.
const MAX_DEPTH: usize = 64;

/// `type(obj).__name__`, for messages.
pub(crate) fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// A token argument: must be `str`. Oversized or non-encodable text is `MalformedError`,
/// as the core would answer, without copying megabytes first.
pub(crate) fn token<'a>(
    obj: &'a Bound<'_, PyAny>,
    what: &str,
    max_bytes: usize,
) -> PyResult<&'a str> {
    let py = obj.py();
    let text = obj
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be str, not {}", type_name(obj))))?;
    // Each code point is at least one UTF-8 byte, so this bound is exact enough to refuse early.
    if text.len()? > max_bytes {
        return Err(to_py_err(
            py,
            Error::Malformed("token is larger than max_token_bytes"),
        ));
    }
    text.to_str()
        .map_err(|_| to_py_err(py, Error::Malformed("token is not valid Unicode")))
}

/// A plain `str` argument (session ids).
pub(crate) fn text<'a>(obj: &'a Bound<'_, PyAny>, what: &str) -> PyResult<&'a str> {
    let py = obj.py();
    let text = obj
        .cast::<PyString>()
        .map_err(|_| PyTypeError::new_err(format!("{what} must be str, not {}", type_name(obj))))?;
    text.to_str().map_err(|_| {
        to_py_err(
            py,
            Error::InvalidArgument(format!("{what} is not valid Unicode")),
        )
    })
}

/// A user id: `str` (borrowed, not copied), or `int` written in decimal (as simplejwt
/// stores `user.pk`).
pub(crate) fn user_id<'a>(obj: &'a Bound<'_, PyAny>) -> PyResult<Cow<'a, str>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return s.to_str().map(Cow::Borrowed).map_err(|_| {
            to_py_err(
                obj.py(),
                Error::InvalidArgument("user_id is not valid Unicode".into()),
            )
        });
    }
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        return Ok(Cow::Owned(obj.str()?.to_str()?.to_owned()));
    }
    Err(PyTypeError::new_err(format!(
        "user_id must be str or int, not {}",
        type_name(obj)
    )))
}

/// `datetime.timedelta`, imported once.
fn timedelta_type(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static TIMEDELTA: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    TIMEDELTA.import(py, "datetime", "timedelta")
}

/// Why a duration could not be read.
pub(crate) enum DurationError {
    /// Not an int or timedelta.
    Type(PyErr),
    /// A timedelta with a fraction of a second, or an int beyond 64 bits.
    Value(String),
}

/// The unit of a duration argument.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    Seconds,
    Milliseconds,
}

/// A whole number of `unit`s from an `int` or a `datetime.timedelta` (which must not hold a
/// fraction of the unit). `bool` is refused although it is an `int`: `idle_timeout_s=True`
/// is a mistake.
pub(crate) fn duration(
    obj: &Bound<'_, PyAny>,
    what: &str,
    unit: Unit,
) -> Result<i64, DurationError> {
    let py = obj.py();
    let unit_name = match unit {
        Unit::Seconds => "seconds",
        Unit::Milliseconds => "milliseconds",
    };
    if obj.is_instance_of::<PyInt>() && !obj.is_instance_of::<PyBool>() {
        return obj
            .extract::<i64>()
            .map_err(|_| DurationError::Value(format!("{what} is out of range")));
    }
    let is_timedelta = timedelta_type(py)
        .and_then(|t| obj.is_instance(t))
        .map_err(DurationError::Type)?;
    if !is_timedelta {
        return Err(DurationError::Type(PyTypeError::new_err(format!(
            "{what} must be int ({unit_name}) or datetime.timedelta, not {}",
            type_name(obj)
        ))));
    }
    let part = |name: &str| -> Result<i64, DurationError> {
        obj.getattr(name)
            .and_then(|v| v.extract::<i64>())
            .map_err(DurationError::Type)
    };
    let micros = part("microseconds")?;
    let per_unit = match unit {
        Unit::Seconds => 1_000_000,
        Unit::Milliseconds => 1_000,
    };
    if micros % per_unit != 0 {
        return Err(DurationError::Value(format!(
            "{what} must be a whole number of {unit_name}"
        )));
    }
    // |days| <= 999_999_999, so none of this can overflow.
    let whole_seconds = part("days")? * 86_400 + part("seconds")?;
    Ok(match unit {
        Unit::Seconds => whole_seconds,
        Unit::Milliseconds => whole_seconds * 1_000 + micros / 1_000,
    })
}

/// `seconds` for plain (non-config) arguments: bad values are a `ValueError`.
pub(crate) fn seconds_arg(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<i64> {
    duration(obj, what, Unit::Seconds).map_err(|e| match e {
        DurationError::Type(err) => err,
        DurationError::Value(msg) => PyValueError::new_err(msg),
    })
}

/// Optional extra claims: `None` or a `dict` with `str` keys and JSON-able values.
pub(crate) fn extra_claims(obj: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Map<String, Value>>> {
    let Some(obj) = obj.filter(|o| !o.is_none()) else {
        return Ok(None);
    };
    let dict = obj.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!(
            "extra must be a dict or None, not {}",
            type_name(obj)
        ))
    })?;
    dict_to_json(dict, "extra", 0).map(Some)
}

pub(crate) fn dict_to_json(
    dict: &Bound<'_, PyDict>,
    path: &str,
    depth: usize,
) -> PyResult<Map<String, Value>> {
    let mut out = Map::new();
    for (key, value) in dict.iter() {
        let key = key.cast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!(
                "{path}: claim names must be str, not {}",
                type_name(&key)
            ))
        })?;
        let key = key.to_str()?.to_owned();
        let inner = format!("{path}['{key}']");
        let value = to_json(&value, &inner, depth + 1)?;
        out.insert(key, value);
    }
    Ok(out)
}

/// A Python value as JSON: None, bool, int (64-bit), finite float, str, list/tuple, dict.
pub(crate) fn to_json(obj: &Bound<'_, PyAny>, path: &str, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!(
            "{path}: nested deeper than {MAX_DEPTH} levels"
        )));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err(format!(
            "{path}: integer does not fit in 64 bits"
        )));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value())
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{path}: float must be finite")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_str()?.to_owned()));
    }
    if let Ok(list) = obj.cast::<PyList>() {
        return list
            .iter()
            .enumerate()
            .map(|(i, v)| to_json(&v, &format!("{path}[{i}]"), depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(tuple) = obj.cast::<PyTuple>() {
        return tuple
            .iter()
            .enumerate()
            .map(|(i, v)| to_json(&v, &format!("{path}[{i}]"), depth + 1))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        return dict_to_json(dict, path, depth).map(Value::Object);
    }
    Err(PyTypeError::new_err(format!(
        "{path}: {} is not JSON-serializable (use str, int, float, bool, None, list or dict)",
        type_name(obj)
    )))
}

/// A claims payload (JSON object text) as a `dict`, keys in token order, as `json.loads` gives.
pub(crate) fn claims_dict<'py>(py: Python<'py>, payload: &str) -> PyResult<Bound<'py, PyDict>> {
    let mut de = serde_json::Deserializer::from_str(payload);
    let value = PyValueSeed(py)
        .deserialize(&mut de)
        .map_err(|e| PyValueError::new_err(format!("claims are not JSON: {e}")))?;
    Ok(value.cast_into::<PyDict>()?)
}

/// Deserializes JSON straight into Python objects, without an intermediate tree.
#[derive(Clone, Copy)]
struct PyValueSeed<'py>(Python<'py>);

impl<'de, 'py> DeserializeSeed<'de> for PyValueSeed<'py> {
    type Value = Bound<'py, PyAny>;

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(self)
    }
}

fn py_error<E: de::Error>(err: PyErr) -> E {
    E::custom(err.to_string())
}

impl<'de, 'py> Visitor<'de> for PyValueSeed<'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(self.0.None().into_bound(self.0))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.0, v).to_owned().into_any())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        let Ok(obj) = v.into_pyobject(self.0);
        Ok(obj.into_any())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        let Ok(obj) = v.into_pyobject(self.0);
        Ok(obj.into_any())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        let Ok(obj) = v.into_pyobject(self.0);
        Ok(obj.into_any())
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.0, v).into_any())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.0);
        while let Some(item) = seq.next_element_seed(self)? {
            list.append(item).map_err(py_error)?;
        }
        Ok(list.into_any())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.0);
        while let Some(ClaimKey(key)) = map.next_key::<ClaimKey<'de>>()? {
            let value = map.next_value_seed(self)?;
            dict.set_item(claim_key(self.0, &key), value)
                .map_err(py_error)?;
        }
        Ok(dict.into_any())
    }
}

/// A map key, borrowed from the payload when it has no escapes (serde's `Cow<str>` always copies).
struct ClaimKey<'de>(Cow<'de, str>);

impl<'de> serde::Deserialize<'de> for ClaimKey<'de> {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = ClaimKey<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(ClaimKey(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(ClaimKey(Cow::Owned(v.to_owned())))
            }
        }
        de.deserialize_str(KeyVisitor)
    }
}

/// The standard claim names as interned Python strings (their hash is cached, so the
/// dict insert is cheaper); any other key becomes a new string.
fn claim_key<'py>(py: Python<'py>, key: &str) -> Bound<'py, PyString> {
    let interned = match key {
        "token_type" => intern!(py, "token_type"),
        "exp" => intern!(py, "exp"),
        "iat" => intern!(py, "iat"),
        "nbf" => intern!(py, "nbf"),
        "jti" => intern!(py, "jti"),
        "user_id" => intern!(py, "user_id"),
        "sid" => intern!(py, "sid"),
        "refresh_exp" => intern!(py, "refresh_exp"),
        "iss" => intern!(py, "iss"),
        "aud" => intern!(py, "aud"),
        "cnf" => intern!(py, "cnf"),
        "jkt" => intern!(py, "jkt"),
        _ => return PyString::new(py, key),
    };
    interned.clone()
}
