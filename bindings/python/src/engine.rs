//! `keyfob.Engine`: the core engine behind a frozen Python class. Arguments are converted
//! while holding the GIL. Engine work on a remote store (Redis) runs detached from the
//! interpreter, so other threads run while it waits; on the in-process store a call is
//! shorter than a GIL handoff and keeps the GIL (see `Engine::run_read`). Calls whose work grows
//! with the store (`revoke_user`, `sweep`, `stats`) and key parsing always detach.

use std::sync::Arc;

use keyfob::{Claims, Engine as CoreEngine};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};

use crate::binding::Evidence;
use crate::claims::ClaimsDict;
use crate::clock::{CallTime, CallerClock, ManualClock, PythonTime};
use crate::convert::{extra_claims, text, type_name};
use crate::errors::to_py_err;
use crate::tokens::{SlidingToken, TokenPair};

/// The sliding-session engine. Thread-safe: build one per process and share it.
#[pyclass(frozen, module = "keyfob", name = "Engine")]
pub(crate) struct Engine {
    inner: CoreEngine,
    /// Checked before touching a token's text, so huge strings are refused cheaply.
    max_token_bytes: usize,
    /// The store lives in this process (`store="memory"`): its calls never wait on I/O.
    in_process: bool,
    /// Builds the claims dicts, with the keys this engine writes cached.
    claims: ClaimsDict,
    /// For `repr` (never the keys).
    summary: String,
    /// `clock=<callable>`: read as each call starts (see `clock::CallerClock`).
    clock_fn: Option<PythonTime>,
}

impl Engine {
    /// Run a read (validate, verify) of the engine. On the in-process store that is a
    /// microsecond of CPU work, less than releasing and retaking the GIL costs, so it keeps
    /// the GIL (as CPython's own builtins do for short work). With a remote store, or a DPoP
    /// proof to verify (public-key cryptography), it lets other threads run meanwhile.
    /// Writes always release the GIL: a login may sweep a shard or map store memory.
    fn run_read<T, F>(&self, py: Python<'_>, dpop: bool, f: F) -> T
    where
        F: pyo3::marker::Ungil + FnOnce() -> T,
        T: pyo3::marker::Ungil,
    {
        if self.in_process && !dpop {
            f()
        } else {
            py.detach(f)
        }
    }

    /// Set this thread's engine time from the clock callable for the call that follows.
    fn call_time(&self, py: Python<'_>) -> PyResult<Option<CallTime>> {
        match &self.clock_fn {
            None => Ok(None),
            Some(f) => f.enter(py).map(Some),
        }
    }

    fn claims<'py>(
        &self,
        py: Python<'py>,
        result: keyfob::Result<Claims>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let claims = result.map_err(|e| to_py_err(py, e))?;
        self.claims.of(py, &claims)
    }
}

#[pymethods]
impl Engine {
    #[new]
    #[pyo3(signature = (signing_key, *, clock = None, **config))]
    fn new(
        py: Python<'_>,
        signing_key: &Bound<'_, PyAny>,
        clock: Option<&Bound<'_, PyAny>>,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config = crate::config::build(signing_key, config)?;
        let max_token_bytes = config.max_token_bytes;
        let in_process = config.store == "memory";
        let claims = ClaimsDict::new(
            py,
            &config.token_type_claim,
            &config.jti_claim,
            &config.user_id_claim,
        )?;
        let summary = format!(
            "algorithm='{}', access_lifetime_s={}, idle_timeout_s={}, refresh_lifetime_s={}",
            config.algorithm,
            config.access_lifetime_s,
            config.idle_timeout_s,
            config.refresh_lifetime_s
        );
        let mut clock_fn = None;
        let core_clock: Option<Arc<dyn keyfob::Clock>> = match clock.filter(|c| !c.is_none()) {
            None => None,
            Some(c) => match c.cast::<ManualClock>() {
                Ok(manual) => Some(Arc::new(manual.get().inner.clone())),
                Err(_) if c.is_callable() => {
                    clock_fn = Some(PythonTime::new(c)?);
                    Some(Arc::new(CallerClock))
                }
                Err(_) => {
                    return Err(PyTypeError::new_err(format!(
                        "clock must be keyfob.ManualClock, a callable returning Unix seconds, \
                         or None, not {}",
                        type_name(c)
                    )))
                }
            },
        };
        // Parsing PEM keys can take a moment: let other threads run.
        let inner = py
            .detach(|| match core_clock {
                Some(clock) => CoreEngine::with_parts(config, clock, None),
                None => CoreEngine::new(config),
            })
            .map_err(|e| to_py_err(py, e))?;
        Ok(Engine {
            inner,
            max_token_bytes,
            in_process,
            claims,
            summary,
            clock_fn,
        })
    }

    /// Log a user in: a new session with its access and refresh tokens. With `client_id`
    /// the session is bound to that value (refresh must present it again); with `dpop` (a
    /// proof over the login request) to the proof's key (refresh and validate then need
    /// proofs from it, and the tokens carry `cnf.jkt`).
    #[pyo3(signature = (user_id, extra = None, *, client_id = None, dpop = None))]
    fn login(
        &self,
        py: Python<'_>,
        user_id: &Bound<'_, PyAny>,
        extra: Option<&Bound<'_, PyAny>>,
        client_id: Option<&Bound<'_, PyAny>>,
        dpop: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<TokenPair> {
        let _time = self.call_time(py)?;
        let user = crate::convert::user_id(user_id)?;
        let extra = extra_claims(extra)?;
        let evidence = Evidence::from_args(client_id, dpop)?;
        py.detach(|| {
            self.inner
                .login_bound(&user, extra.as_ref(), &evidence.presentation())
        })
        .map(TokenPair::from)
        .map_err(|e| to_py_err(py, e))
    }

    /// Authenticate a request with an access token; returns its claims and slides the session.
    /// A DPoP-bound token needs `dpop`, a proof over this request carrying the token's
    /// `ath`; with `bind_validate`, a client-bound session needs its `client_id`.
    #[pyo3(signature = (token, *, client_id = None, dpop = None))]
    fn validate<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
        client_id: Option<&Bound<'py, PyAny>>,
        dpop: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let _time = self.call_time(py)?;
        let t = crate::convert::token(token, "token", self.max_token_bytes)?;
        let evidence = Evidence::from_args(client_id, dpop)?;
        let result = self.run_read(py, evidence.has_dpop(), || {
            self.inner.validate_bound(t, &evidence.presentation())
        });
        self.claims(py, result)
    }

    /// Like `validate`, for a sliding token.
    fn validate_sliding<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let _time = self.call_time(py)?;
        let t = crate::convert::token(token, "token", self.max_token_bytes)?;
        let result = self.run_read(py, false, || self.inner.validate_sliding(t));
        self.claims(py, result)
    }

    /// Check any token (any type) without sliding its session; returns its claims.
    fn verify<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let _time = self.call_time(py)?;
        let t = crate::convert::token(token, "token", self.max_token_bytes)?;
        let result = self.run_read(py, false, || self.inner.verify(t));
        self.claims(py, result)
    }

    /// Exchange a refresh token for a new access token (and a new refresh token when rotating).
    /// A bound session needs what it was bound to: the same `client_id`, and/or a `dpop`
    /// proof over this refresh request from the same key.
    #[pyo3(signature = (token, *, client_id = None, dpop = None))]
    fn refresh(
        &self,
        py: Python<'_>,
        token: &Bound<'_, PyAny>,
        client_id: Option<&Bound<'_, PyAny>>,
        dpop: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<TokenPair> {
        let _time = self.call_time(py)?;
        let t = crate::convert::token(token, "token", self.max_token_bytes)?;
        let evidence = Evidence::from_args(client_id, dpop)?;
        py.detach(|| self.inner.refresh_bound(t, &evidence.presentation()))
            .map(TokenPair::from)
            .map_err(|e| to_py_err(py, e))
    }

    /// Log a user in with one sliding token bound to a new session.
    #[pyo3(signature = (user_id, extra = None))]
    fn login_sliding(
        &self,
        py: Python<'_>,
        user_id: &Bound<'_, PyAny>,
        extra: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<SlidingToken> {
        let _time = self.call_time(py)?;
        let user = crate::convert::user_id(user_id)?;
        let extra = extra_claims(extra)?;
        py.detach(|| self.inner.login_sliding(&user, extra.as_ref()))
            .map(SlidingToken::from)
            .map_err(|e| to_py_err(py, e))
    }

    /// Renew an unexpired sliding token whose session is alive.
    fn refresh_sliding(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<SlidingToken> {
        let _time = self.call_time(py)?;
        let t = crate::convert::token(token, "token", self.max_token_bytes)?;
        py.detach(|| self.inner.refresh_sliding(t))
            .map(SlidingToken::from)
            .map_err(|e| to_py_err(py, e))
    }

    /// Revoke what the token stands for: its session (logout), or a sessionless token's id.
    fn revoke(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<()> {
        let _time = self.call_time(py)?;
        let t = crate::convert::token(token, "token", self.max_token_bytes)?;
        py.detach(|| self.inner.revoke(t))
            .map_err(|e| to_py_err(py, e))
    }

    /// Revoke a session by id; False when it was already revoked.
    fn revoke_session(&self, py: Python<'_>, session_id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let _time = self.call_time(py)?;
        let sid = text(session_id, "session_id")?;
        py.detach(|| self.inner.revoke_session(sid))
            .map_err(|e| to_py_err(py, e))
    }

    /// Revoke every session of a user (and their sessionless tokens); returns how many were live.
    fn revoke_user(&self, py: Python<'_>, user_id: &Bound<'_, PyAny>) -> PyResult<usize> {
        let _time = self.call_time(py)?;
        let user = crate::convert::user_id(user_id)?;
        py.detach(|| self.inner.revoke_user(&user))
            .map_err(|e| to_py_err(py, e))
    }

    /// Drop ended sessions and expired denylist entries now; returns how many went.
    fn sweep(&self, py: Python<'_>) -> PyResult<usize> {
        let _time = self.call_time(py)?;
        py.detach(|| self.inner.sweep())
            .map_err(|e| to_py_err(py, e))
    }

    /// Counts: sessions, revoked_sessions, denied_jtis, user_epochs.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let stats = py
            .detach(|| self.inner.stats())
            .map_err(|e| to_py_err(py, e))?;
        let dict = PyDict::new(py);
        dict.set_item("sessions", stats.sessions)?;
        dict.set_item("revoked_sessions", stats.revoked_sessions)?;
        dict.set_item("denied_jtis", stats.denied_jtis)?;
        dict.set_item("user_epochs", stats.user_epochs)?;
        Ok(dict)
    }

    /// The engine's current time (Unix seconds).
    fn now(&self, py: Python<'_>) -> PyResult<i64> {
        let _time = self.call_time(py)?;
        Ok(self.inner.now())
    }

    /// Sign `payload` (the text of a JSON object, `str` or UTF-8 `bytes`) with this engine's
    /// key and header, adding and checking no claim: simplejwt's `TokenBackend.encode`.
    fn sign_payload(&self, py: Python<'_>, payload: &Bound<'_, PyAny>) -> PyResult<String> {
        let bytes: &[u8] = if let Ok(s) = payload.cast::<PyString>() {
            s.to_str()?.as_bytes()
        } else if let Ok(b) = payload.cast::<PyBytes>() {
            b.as_bytes()
        } else {
            return Err(PyTypeError::new_err(format!(
                "payload must be str or bytes, not {}",
                type_name(payload)
            )));
        };
        self.inner.sign_payload(bytes).map_err(|e| to_py_err(py, e))
    }

    /// Check a token's size, header and signature with this engine's keys and return its
    /// payload bytes, reading no claim and no session: simplejwt's `TokenBackend.decode`.
    fn verify_signature<'py>(
        &self,
        py: Python<'py>,
        token: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let t = crate::convert::token(token, "token", self.max_token_bytes)?;
        let payload = self
            .inner
            .verify_signature(t.as_bytes())
            .map_err(|e| to_py_err(py, e))?;
        Ok(PyBytes::new(py, &payload))
    }

    fn __repr__(&self) -> String {
        format!("Engine({})", self.summary)
    }
}
