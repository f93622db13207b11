//! The small immutable result objects: `TokenPair` and `SlidingToken`.

use pyo3::prelude::*;

/// Characters of a token shown by `repr`: enough to tell tokens apart, not enough to use one.
const SHOWN: usize = 12;

fn abbreviate(token: &str) -> String {
    match token.get(..SHOWN) {
        Some(head) if token.len() > SHOWN => format!("'{head}…'"),
        _ => format!("'{token}'"),
    }
}

/// Access and refresh tokens of one session (`refresh` is None after a refresh without rotation).
#[pyclass(frozen, eq, hash, get_all, module = "keyfob", name = "TokenPair")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct TokenPair {
    pub(crate) access: String,
    pub(crate) refresh: Option<String>,
    pub(crate) session_id: String,
}

#[pymethods]
impl TokenPair {
    fn __repr__(&self) -> String {
        let refresh = self
            .refresh
            .as_deref()
            .map_or_else(|| "None".to_owned(), abbreviate);
        format!(
            "TokenPair(access={}, refresh={refresh}, session_id='{}')",
            abbreviate(&self.access),
            self.session_id
        )
    }
}

impl From<keyfob::TokenPair> for TokenPair {
    fn from(p: keyfob::TokenPair) -> Self {
        TokenPair {
            access: p.access,
            refresh: p.refresh,
            session_id: p.session_id,
        }
    }
}

/// A sliding token (simplejwt's single-token mode) and its session.
#[pyclass(frozen, eq, hash, get_all, module = "keyfob", name = "SlidingToken")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct SlidingToken {
    pub(crate) token: String,
    pub(crate) session_id: String,
}

#[pymethods]
impl SlidingToken {
    fn __repr__(&self) -> String {
        format!(
            "SlidingToken(token={}, session_id='{}')",
            abbreviate(&self.token),
            self.session_id
        )
    }
}

impl From<keyfob::SlidingToken> for SlidingToken {
    fn from(t: keyfob::SlidingToken) -> Self {
        SlidingToken {
            token: t.token,
            session_id: t.session_id,
        }
    }
}
