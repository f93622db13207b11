//! The claims `dict` that `validate`, `validate_sliding` and `verify` return: the same dict
//! `json.loads(payload)` gives (keys in payload order, ints as `int`, strings as `str`).
//!
//! For a token of exactly the claims keyfob mints (`keyfob::internal::is_minted_layout`), the core has
//! already read every value, so the dict is filled from the typed claims: a copy of a
//! prebuilt template (already sized, its keys the engine's cached strings) gets the six
//! values. Any other payload goes through the general converter in `convert.rs`.

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use keyfob::{Claims, TokenType};

use crate::convert::claims_dict;

/// How many claims keyfob mints into a plain access or refresh token.
const MINTED: usize = 6;

/// The minted claims' keys and values this engine reuses on every call.
pub(crate) struct ClaimsDict {
    keys: [Py<PyString>; MINTED],
    /// "access", "refresh", "sliding": the token-type values, made once.
    token_types: [Py<PyString>; 3],
    /// `{name: None}` for the minted claims, in order; copied per call.
    template: Py<PyDict>,
}

impl ClaimsDict {
    /// For an engine writing `token_type`, `jti` and `user_id` under these names.
    pub(crate) fn new(
        py: Python<'_>,
        token_type: &str,
        jti: &str,
        user_id: &str,
    ) -> PyResult<Self> {
        let keys = [token_type, "exp", "iat", jti, user_id, "sid"]
            .map(|name| PyString::intern(py, name).unbind());
        let template = PyDict::new(py);
        for key in &keys {
            template.set_item(key.bind(py), py.None())?;
        }
        let token_types = [TokenType::Access, TokenType::Refresh, TokenType::Sliding]
            .map(|t| PyString::intern(py, t.as_str()).unbind());
        Ok(ClaimsDict {
            keys,
            token_types,
            template: template.unbind(),
        })
    }

    /// The claims as a dict: from the typed values when the payload is exactly keyfob's
    /// minted layout (the core already read it), else from the payload.
    pub(crate) fn of<'py>(&self, py: Python<'py>, claims: &Claims) -> PyResult<Bound<'py, PyDict>> {
        let (true, Some(iat), Some(sid)) = (
            keyfob::internal::is_minted_layout(claims),
            claims.iat(),
            claims.sid(),
        ) else {
            return claims_dict(py, claims.to_json());
        };
        let token_type = match claims.token_type() {
            TokenType::Access => &self.token_types[0],
            TokenType::Refresh => &self.token_types[1],
            _ => &self.token_types[2],
        };
        let values: [Bound<'py, PyAny>; MINTED] = [
            token_type.bind(py).clone().into_any(),
            claims.exp().into_pyobject(py)?.into_any(),
            iat.into_pyobject(py)?.into_any(),
            PyString::new(py, claims.jti()).into_any(),
            PyString::new(py, claims.user_id()).into_any(),
            PyString::new(py, sid).into_any(),
        ];
        let dict = self.template.bind(py).copy()?;
        for (key, value) in self.keys.iter().zip(values) {
            dict.set_item(key.bind(py), value)?;
        }
        Ok(dict)
    }
}
