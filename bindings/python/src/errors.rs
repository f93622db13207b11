//! The exception hierarchy: `keyfob.KeyfobError` and one subclass per stable error code,
//! generated from `keyfob::ErrorCode::ALL` so a new code gets its class automatically.
//!
//! ```text
//! KeyfobError(Exception)
//! ├── InvalidTokenError        a presented token was refused (codes 1–15, 21–23)
//! │   ├── codes 1–9            the token itself is bad
//! │   ├── SessionError         codes 10–15: the token is fine, its session or a revocation refuses it
//! │   └── codes 21–23          the caller is not the client the session is bound to
//! ├── InvalidArgumentError     also a ValueError
//! ├── ConfigError              also a ValueError
//! └── BufferTooSmallError, StoreUnavailableError, PanicError
//! ```
//!
//! There is no `keyfob.TokenError`: in a Django project that name is simplejwt's (and
//! `keyfob.drf.exceptions.TokenError`'s), the exception its views turn into a 401. Catch
//! `KeyfobError` for everything, `InvalidTokenError` for refused tokens.
//! Each code's class docstring (`doc`) says when it is raised; `tests/test_stubs.py` checks
//! that `_keyfob.pyi` says the same.

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
    match code {
        ErrorCode::Revoked
        | ErrorCode::SessionIdle
        | ErrorCode::SessionExpired
        | ErrorCode::SessionUnknown
        | ErrorCode::SessionRequired
        | ErrorCode::ReuseDetected => Parent::Session,
        ErrorCode::InvalidArgument | ErrorCode::Config => Parent::BaseAndValueError,
        ErrorCode::BufferTooSmall | ErrorCode::StoreUnavailable | ErrorCode::Panic => Parent::Base,
        // The token checks (1–9), client binding (21–23), and any code added later: a new
        // code is a new way to refuse a token far more often than a new kind of failure.
        _ => Parent::InvalidToken,
    }
}

/// When a code's class is raised: its docstring (the same text as in `_keyfob.pyi`).
fn doc(code: ErrorCode) -> &'static str {
    match code {
        ErrorCode::Malformed => {
            "The token is not a well-formed JWS: not three base64url parts, bad JSON, a \
             duplicate claim, a `crit` header, larger than `max_token_bytes`, or not ASCII."
        }
        ErrorCode::BadSignature => "The token's signature does not match its contents.",
        ErrorCode::AlgorithmNotAllowed => {
            "The token's `alg` is not the algorithm configured for its key (`none` never is)."
        }
        ErrorCode::UnknownKey => "The token's `kid` names no key this engine knows.",
        ErrorCode::Expired => "The token's `exp` has passed (beyond `leeway_s`).",
        ErrorCode::NotYetValid => {
            "The token's `nbf` or `iat` lies in the future (beyond `leeway_s`)."
        }
        ErrorCode::WrongType => {
            "The token is of another type than the call takes (a refresh token given to \
             `validate`, an access token to `refresh`, ...)."
        }
        ErrorCode::MissingClaim => "The token lacks a claim the engine requires.",
        ErrorCode::InvalidClaim => {
            "A claim has the wrong type or value (a string `exp`, another `iss` or `aud`)."
        }
        ErrorCode::Revoked => {
            "The token's session was revoked (logout, `revoke_session`, `revoke_user`)."
        }
        ErrorCode::SessionIdle => "The session ended after `idle_timeout_s` without use.",
        ErrorCode::SessionExpired => {
            "The session reached `refresh_lifetime_s`, its absolute lifetime."
        }
        ErrorCode::SessionUnknown => {
            "No session has the token's `sid`: it ended and was swept, or it lives in another \
             store (another process's memory store, say)."
        }
        ErrorCode::SessionRequired => {
            "The token has no `sid` and the engine does not accept sessionless tokens."
        }
        ErrorCode::ReuseDetected => {
            "A refresh token that was already rotated away was presented again: the whole \
             session is revoked."
        }
        ErrorCode::InvalidArgument => {
            "An argument has an impossible value (an empty user id, a reserved claim in \
             `extra`, a session id that is not 32 hex digits, a relative DPoP URL)."
        }
        ErrorCode::Config => {
            "The engine's configuration is impossible: an unknown keyword, a zero lifetime, a \
             short HMAC key, a key that does not fit the algorithm. The message names the \
             field and never shows a key."
        }
        ErrorCode::BufferTooSmall => {
            "A caller's buffer is too small for the result (the C interface's buffers; the \
             Python module has none)."
        }
        ErrorCode::StoreUnavailable => {
            "The session store could not be reached within `store_timeout_ms`: the token \
             could not be checked, so it is not accepted."
        }
        ErrorCode::Panic => "keyfob hit an internal error (a bug) and the call did not complete.",
        ErrorCode::ClientMismatch => {
            "The `client_id` presented (or its absence) is not the one the session is bound \
             to; by default this revokes the session (`client_mismatch_revokes`)."
        }
        ErrorCode::DpopInvalid => {
            "The DPoP proof is missing, malformed, signed by another key, or made for another \
             request or token; the message says which. Nothing is rotated or revoked."
        }
        ErrorCode::DpopReplayed => "The DPoP proof was already used once.",
        _ => code.message(),
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
        "KeyfobError",
        &[py.get_type::<PyException>()],
        0,
        "keyfob",
        "Base of every error keyfob raises. `code` is the stable number of the error (the \
         same in Rust and C), `name` its snake_case name; every code has its own subclass. \
         On this class and the groups `InvalidTokenError` and `SessionError`, which are never \
         raised themselves, `code` is 0 and `name` the class name in snake_case without \
         `_error`.",
    )?;
    let invalid_token = new_class(
        py,
        "InvalidTokenError",
        &[base.bind(py).clone()],
        0,
        "invalid_token",
        "A presented token was refused: it is bad itself, its session refuses it \
         (`SessionError`), or the caller is not the client its session is bound to. A web \
         API answers 401.",
    )?;
    let session = new_class(
        py,
        "SessionError",
        &[invalid_token.bind(py).clone()],
        0,
        "session",
        "The token is well formed, but its session or a revocation refuses it: the user \
         must log in again.",
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
        by_code.push(new_class(
            py,
            &class_name(code),
            &bases,
            code as u32,
            code.name(),
            doc(code),
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
