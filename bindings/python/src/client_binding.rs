//! Client binding from Python: `keyfob.DpopRequest` (a DPoP proof with its request's method
//! and URL), the keyword arguments `client_id=` / `dpop=` of login/refresh/validate turned
//! into the core's `Presentation`, and `keyfob.jwk_thumbprint`.

use keyfob::{DpopRequest as CoreDpopRequest, Presentation};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::convert::{text, to_json, type_name};
use crate::errors::to_py_err;

/// Characters of a proof shown by `repr`: enough to tell proofs apart.
const SHOWN: usize = 12;

/// A DPoP proof (RFC 9449) with the request it came with: the request's `DPoP` header,
/// its HTTP method, and its absolute URL as the client addressed it (query and fragment
/// are ignored). Pass it as `dpop=` to `Engine.login`, `refresh` and `validate`.
#[pyclass(frozen, eq, hash, get_all, module = "keyfob", name = "DpopRequest")]
#[derive(PartialEq, Eq, Hash)]
pub(crate) struct DpopRequest {
    /// The proof: a JWT signed with the client's private key.
    proof: String,
    /// The request's HTTP method, such as "POST".
    method: String,
    /// The request's absolute URL, such as "https://api.example.com/api/token/".
    url: String,
}

#[pymethods]
impl DpopRequest {
    #[new]
    fn new(
        proof: &Bound<'_, PyAny>,
        method: &Bound<'_, PyAny>,
        url: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        Ok(DpopRequest {
            proof: text(proof, "proof")?.to_owned(),
            method: text(method, "method")?.to_owned(),
            url: text(url, "url")?.to_owned(),
        })
    }

    fn __repr__(&self) -> String {
        let proof = match self.proof.get(..SHOWN) {
            Some(head) if self.proof.len() > SHOWN => format!("'{head}…'"),
            _ => format!("'{}'", self.proof),
        };
        format!(
            "DpopRequest(proof={proof}, method='{}', url='{}')",
            self.method, self.url
        )
    }
}

/// What a call's `client_id=` and `dpop=` arguments present, borrowed from the Python
/// objects (which outlive the call) so the engine can run without the GIL.
#[derive(Clone, Copy, Default)]
pub(crate) struct Evidence<'a> {
    client_id: Option<&'a str>,
    dpop: Option<&'a DpopRequest>,
}

impl<'a> Evidence<'a> {
    /// `client_id` must be `str`, `dpop` a `keyfob.DpopRequest`; `None` is absent.
    pub(crate) fn from_args(
        client_id: Option<&'a Bound<'_, PyAny>>,
        dpop: Option<&'a Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let client_id = client_id
            .filter(|c| !c.is_none())
            .map(|c| text(c, "client_id"))
            .transpose()?;
        let dpop = match dpop.filter(|d| !d.is_none()) {
            None => None,
            Some(d) => Some(
                d.cast::<DpopRequest>()
                    .map_err(|_| {
                        PyTypeError::new_err(format!(
                            "dpop must be keyfob.DpopRequest or None, not {}",
                            type_name(d)
                        ))
                    })?
                    .get(),
            ),
        };
        Ok(Evidence { client_id, dpop })
    }

    /// Whether a DPoP proof was presented (its check is public-key cryptography).
    pub(crate) fn has_dpop(&self) -> bool {
        self.dpop.is_some()
    }

    pub(crate) fn presentation(&self) -> Presentation<'a> {
        let mut p = Presentation::none();
        if let Some(id) = self.client_id {
            p = p.with_client_id(id);
        }
        if let Some(d) = self.dpop {
            p = p.with_dpop(CoreDpopRequest::new(&d.proof, &d.method, &d.url));
        }
        p
    }
}

/// The RFC 7638 SHA-256 thumbprint (base64url) of a public JWK, given as JSON text or a
/// dict: the `jkt` a DPoP-bound token carries in its `cnf` claim.
#[pyfunction]
pub(crate) fn jwk_thumbprint(py: Python<'_>, jwk: &Bound<'_, PyAny>) -> PyResult<String> {
    let json = if let Ok(s) = jwk.cast::<PyString>() {
        text(s.as_any(), "jwk")?.to_owned()
    } else if jwk.is_instance_of::<PyDict>() {
        to_json(jwk, "jwk", 0)?.to_string()
    } else {
        return Err(PyTypeError::new_err(format!(
            "jwk must be str or dict, not {}",
            type_name(jwk)
        )));
    };
    keyfob::jwk_thumbprint(&json).map_err(|e| to_py_err(py, e))
}
