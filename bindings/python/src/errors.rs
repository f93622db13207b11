//! The exception hierarchy: `keyfob.TokenError` and one subclass per stable error code,
//! generated from `keyfob::ErrorCode::ALL` so a new code gets its class automatically.
//!
//! ```text
//! TokenError(Exception)
//! ├── InvalidTokenError        codes 1–9: the token itself is bad
//! ├── SessionError             codes 10–15: the token is fine, its session or revocation refuses it
//! ├── InvalidArgumentError     also a ValueError
//! ├── ConfigError              also a ValueError
//! └── every other code directly (BufferTooSmallError, StoreUnavailableError, PanicError, ...)
//! ```

use keyfob::{Error, ErrorCode};
use pyo3::exceptions::{PyException, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// The classes, built once per process when the module is first imported.
struct Classes {
    base: Py<PyType>,
    groups: Vec<Py<PyType>>,
    /// Indexed by `code - 1`.
    by_code: Vec<Py<PyType>>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// Where each code sits in the hierarchy.
enum Parent {
    Base,
    InvalidToken,
    Session,
    BaseAndValueError,
}

fn parent_of(code: ErrorCode) -> Parent {
    match code as u32 {
        1..=9 => Parent::InvalidToken,
        10..=15 => Parent::Session,
        _ if code == ErrorCode::InvalidArgument || code == ErrorCode::Config => {
            Parent::BaseAndValueError
        }
        _ => Parent::Base,
    }
}

/// `"reuse_detected"` → `"ReuseDetectedError"`.
pub(crate) fn class_name(code: ErrorCode) -> String {
    let mut out = String::with_capacity(32);
    for word in code.name().split('_') {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out.push_str("Error");
    out
}

/// `type(name, bases, {...})` with `code` and `name` as class attributes, so every
/// instance answers `.code` / `.name` and the classes pickle by name from `keyfob`.
fn new_class<'py>(
    py: Python<'py>,
    name: &str,
    bases: &[Bound<'py, PyType>],
    code: u32,
    snake: &str,
    doc: &str,
) -> PyResult<Py<PyType>> {
    let attrs = PyDict::new(py);
    attrs.set_item("__module__", "keyfob")?;
    attrs.set_item("__doc__", doc)?;
    attrs.set_item("code", code)?;
    attrs.set_item("name", snake)?;
    let class = py
        .get_type::<PyType>()
        .call1((name, PyTuple::new(py, bases)?, attrs))?;
    Ok(class.cast_into::<PyType>()?.unbind())
}

fn build(py: Python<'_>) -> PyResult<Classes> {
    let base = new_class(
        py,
        "TokenError",
        &[py.get_type::<PyException>()],
        0,
        "token_error",
        "Base of every keyfob error. `code` is the stable number, `name` the snake_case name \
         (0 and 'token_error' on the base and group classes, which are never raised themselves).",
    )?;
    let invalid_token = new_class(
        py,
        "InvalidTokenError",
        &[base.bind(py).clone()],
        0,
        "token_error",
        "The token itself is bad: malformed, wrongly signed, expired, of the wrong type, or with bad claims.",
    )?;
    let session = new_class(
        py,
        "SessionError",
        &[base.bind(py).clone()],
        0,
        "token_error",
        "The token is well formed, but its session or a revocation refuses it.",
    )?;
    let mut by_code = Vec::with_capacity(ErrorCode::ALL.len());
    for (i, code) in ErrorCode::ALL.into_iter().enumerate() {
        debug_assert_eq!(code as usize, i + 1);
        let bases = match parent_of(code) {
            Parent::Base => vec![base.bind(py).clone()],
            Parent::InvalidToken => vec![invalid_token.bind(py).clone()],
            Parent::Session => vec![session.bind(py).clone()],
            Parent::BaseAndValueError => {
                vec![base.bind(py).clone(), py.get_type::<PyValueError>()]
            }
        };
        let doc = format!(
            "{} (code {}, '{}').",
            code.message(),
            code as u32,
            code.name()
        );
        by_code.push(new_class(
            py,
            &class_name(code),
            &bases,
            code as u32,
            code.name(),
            &doc,
        )?);
    }
    Ok(Classes {
        base,
        groups: vec![invalid_token, session],
        by_code,
    })
}

/// Build the classes (once) and add them to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let classes = CLASSES.get_or_try_init(py, || build(py))?;
    for class in std::iter::once(&classes.base)
        .chain(&classes.groups)
        .chain(&classes.by_code)
    {
        let class = class.bind(py);
        m.add(class.name()?, class)?;
    }
    Ok(())
}

/// The class raised for `code`.
fn class_for(py: Python<'_>, code: ErrorCode) -> Option<Bound<'_, PyType>> {
    let classes = CLASSES.get(py)?;
    let index = (code as usize).checked_sub(1)?;
    classes.by_code.get(index).map(|c| c.bind(py).clone())
}

/// A keyfob error as its Python exception, with the core's message.
pub(crate) fn to_py_err(py: Python<'_>, err: Error) -> PyErr {
    match class_for(py, err.code()) {
        Some(class) => PyErr::from_type(class, err.to_string()),
        None => PyRuntimeError::new_err(format!("keyfob error {}: {err}", err.name())),
    }
}

/// A `ConfigError` with this message.
pub(crate) fn config_error(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_py_err(py, Error::Config(message.into()))
}
