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

/// The access and refresh tokens of one session, as `login` and `refresh` return them
/// (immutable; `repr` shows only the start of each token).
#[pyclass(frozen, eq, hash, get_all, module = "keyfob", name = "TokenPair")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct TokenPair {
    /// The access token: what a client sends with each request.
    pub(crate) access: String,
    /// The refresh token, for `Engine.refresh`; None after a refresh with
    /// `rotate_refresh=False` (the client keeps its refresh token).
    pub(crate) refresh: Option<String>,
    /// The session's id (the tokens' `sid`), for `Engine.revoke_session`.
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

/// A sliding token (simplejwt's single-token mode) and its session, as `login_sliding`
/// and `refresh_sliding` return them (immutable).
#[pyclass(frozen, eq, hash, get_all, module = "keyfob", name = "SlidingToken")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct SlidingToken {
    /// The sliding token: sent with each request, and renewed with
    /// `Engine.refresh_sliding`.
    pub(crate) token: String,
    /// The session's id (the token's `sid`), for `Engine.revoke_session`.
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
