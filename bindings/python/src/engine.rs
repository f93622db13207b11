//! `keyfob.Engine`: the core engine behind a frozen Python class. Arguments are converted
//! while holding the GIL. Engine work on a remote store (Redis) runs detached from the
//! interpreter, so other threads run while it waits; on the in-process store a call is
//! shorter than a GIL handoff and keeps the GIL (see `Engine::run_read`). Calls whose work grows
//! with the store (`revoke_user`, `sweep`, `stats`) and key parsing always detach.

use keyfob::{Claims, Engine as CoreEngine, LoginOptions};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};

use crate::claims::ClaimsDict;
use crate::client_binding::Evidence;
use crate::clock::{CallTime, CallerClock, ManualClock, PythonTime};
use crate::convert::{extra_claims, text, type_name};
use crate::errors::to_py_err;
use crate::sessions;
use crate::tokens::{SlidingToken, TokenPair};

/// The clock a new engine reads, other than the system clock.
enum CoreClock {
    Manual(keyfob::ManualClock),
    /// Python's own clock, read as each call starts (see `clock::CallerClock`).
    Caller,
}

/// The sliding-session engine: it issues access, refresh and sliding tokens, keeps each
/// login as a session with an idle timeout and an absolute lifetime, and validates,
/// refreshes and revokes them. Thread-safe: build one per process and share it.
///
/// `Engine(signing_key, *, clock=None, on_event=None, **config)`: `signing_key` is an
/// HMAC secret (at least 32 bytes) or a PEM private key (PKCS#8; PKCS#1 for RSA), as `str`
/// or UTF-8 `bytes`; `clock` a `ManualClock` for tests, or a callable returning Unix
/// seconds read as each call starts (`time.time`: freezegun and time-machine then move the
/// engine; default: the system clock). Every other keyword is a configuration field, named
/// as in Rust and in the C interface's JSON (shown with its default):
///
/// - `algorithm="HS256"`: "HS256", "HS384", "HS512", "EdDSA", "ES256" or "RS256".
/// - `key_id=None`: the signing key's `kid`, written into every token's header.
/// - `verifying_keys={}`: further keys accepted for verification, by `kid` (HMAC secrets
///   or PEM public keys), such as the keys used before a key rotation.
/// - `access_lifetime_s=300`: the lifetime of an access token.
/// - `refresh_lifetime_s=43200`: a session's absolute lifetime (the refresh token's `exp`).
/// - `idle_timeout_s=1800`: a session ends after this long without a validate or refresh.
/// - `sliding_lifetime_s=300`: the lifetime of a sliding token.
/// - `accept_sessionless=False`: accept tokens without a `sid` (minted by simplejwt or
///   PyJWT with this key), checked statelessly plus the revocations of `revoke` and
///   `revoke_user`.
/// - `store="memory"`: where sessions live: "memory" (in this process) or a Redis URL
///   shared by every process: `redis://[:password@]host:port/db` (`rediss://` for TLS),
///   `redis+sentinel://host:port,host:port/master-set/db` (a primary found through
///   Sentinel) or `redis+cluster://host:port,host:port` (`rediss+...` for TLS).
/// - `store_prefix="keyfob:"`: the prefix of every key a shared store writes.
/// - `store_timeout_ms=200`: the bound on each connect, read and write to a shared store;
///   past it the call raises `StoreUnavailableError`.
/// - `store_tls_ca=None`, `store_tls_cert=None`, `store_tls_key=None`: paths to PEM
///   files: the CA a TLS Redis's certificate must chain to (default: the system's
///   roots), and a client certificate with its key for mutual TLS.
/// - `store_wait_replicas=0`: revocations and rotations return only once this many
///   replicas have them (Redis `WAIT`); fewer within `store_wait_timeout_ms=100` raises
///   `StoreUnavailableError`.
/// - `rotate_refresh=True`: every refresh returns a new refresh token, and presenting a
///   rotated one again revokes the session.
/// - `reuse_grace_s=0`: for this long after a rotation, the previous refresh token gets
///   the current one again instead of counting as reuse (concurrent refreshes converge).
/// - `leeway_s=0`: the clock skew tolerated on `exp`, `nbf` and `iat`.
/// - `issuer=None`, `audience=None`: the `iss` and `aud` to write into tokens and require.
/// - `user_id_claim="user_id"`, `token_type_claim="token_type"`, `jti_claim="jti"`:
///   the names of those claims.
/// - `touch_on_validate=True`: `validate` slides the session's idle deadline.
/// - `max_token_bytes=8192`: longer tokens raise `MalformedError` unread.
/// - `client_mismatch_revokes=True`: a refresh (or bound validate) presenting another
///   `client_id` than its session's revokes the session.
/// - `bind_validate=False`: `validate` also requires the session's `client_id`.
/// - `dpop_iat_window_s=60`: how old a DPoP proof may be.
/// - `dpop_replay_cache_size=100000`: the most DPoP proof ids remembered for replay
///   detection; when full of live ids, new proofs are refused.
/// - `max_sessions_per_user=None`: a login past this many live sessions of its user ends
///   the user's oldest session.
/// - `session_claims_on_validate=False`: `validate` returns the session's current claims
///   (see `update_session`).
///
/// `on_event` is called with an event dict after each login, refresh, detected reuse,
/// ended session and noticed idle expiry (see `set_event_handler`).
///
/// Durations (`*_s`) take whole seconds as an `int` or a `timedelta`, `*_ms` milliseconds.
/// An unknown keyword or an impossible value raises `ConfigError` naming the field (never
/// showing a key); a value of the wrong type raises `TypeError`.
///
/// Token arguments must be `str` (else `TypeError`). A refused token raises a subclass of
/// `InvalidTokenError`; a shared store that cannot be reached, `StoreUnavailableError`.
/// Nothing a caller passes crashes the process.
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
    #[pyo3(signature = (signing_key, *, clock = None, on_event = None, **config))]
    fn new(
        py: Python<'_>,
        signing_key: &Bound<'_, PyAny>,
        clock: Option<&Bound<'_, PyAny>>,
        on_event: Option<&Bound<'_, PyAny>>,
        config: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Self> {
        let config = crate::config::build(signing_key, config)?;
        let handler = sessions::event_handler(on_event)?;
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
        let core_clock: Option<CoreClock> = match clock.filter(|c| !c.is_none()) {
            None => None,
            Some(c) => match c.cast::<ManualClock>() {
                Ok(manual) => Some(CoreClock::Manual(manual.get().inner.clone())),
                Err(_) if c.is_callable() => {
                    clock_fn = Some(PythonTime::new(c)?);
                    Some(CoreClock::Caller)
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
                Some(CoreClock::Manual(clock)) => CoreEngine::builder(config).clock(clock).build(),
                Some(CoreClock::Caller) => CoreEngine::builder(config).clock(CallerClock).build(),
                None => CoreEngine::new(config),
            })
            .map_err(|e| to_py_err(py, e))?;
        inner.set_event_handler(handler);
        Ok(Engine {
            inner,
            max_token_bytes,
            in_process,
            claims,
            summary,
            clock_fn,
        })
    }

    /// Log a user in: a new session, and its access and refresh tokens.
    ///
    /// `user_id` is a `str` or an `int` (written in decimal, as simplejwt writes `user.pk`).
    /// `extra` holds further claims for both tokens (JSON values; a reserved claim name
    /// raises `InvalidArgumentError`). `client_id` binds the session to that value: refresh
    /// must present it again. `dpop`, a proof over this login request, binds the session
    /// to the proof's key: refresh and validate then need proofs from that key, and the
    /// tokens carry `cnf.jkt`.
    ///
    /// `label` (a client name such as "Firefox on macOS"), `ip` (an IPv4 or IPv6 address)
    /// and `user_agent` are kept with the session, as is `data`, the application's own
    /// JSON-serialisable dict; `sessions()` shows them. Text over 256 bytes, `data` over
    /// 4096 bytes as JSON and an `ip` that is no address raise `InvalidArgumentError`
    /// (a `ValueError`). With `max_sessions_per_user`, the user's oldest sessions past the
    /// cap end.
    #[pyo3(signature = (user_id, extra = None, *, client_id = None, dpop = None,
        label = None, ip = None, user_agent = None, data = None))]
    #[allow(clippy::too_many_arguments)]
    fn login(
        &self,
        py: Python<'_>,
        user_id: &Bound<'_, PyAny>,
        extra: Option<&Bound<'_, PyAny>>,
        client_id: Option<&Bound<'_, PyAny>>,
        dpop: Option<&Bound<'_, PyAny>>,
        label: Option<&Bound<'_, PyAny>>,
        ip: Option<&Bound<'_, PyAny>>,
        user_agent: Option<&Bound<'_, PyAny>>,
        data: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<TokenPair> {
        let _time = self.call_time(py)?;
        let user = crate::convert::user_id(user_id)?;
        let extra = extra_claims(extra)?;
        let evidence = Evidence::from_args(client_id, dpop)?;
        let meta = sessions::meta(py, label, ip, user_agent, data)?;
        py.detach(|| {
            let options = LoginOptions::default()
                .with_meta(meta)
                .with_presentation(evidence.presentation());
            self.inner.login_with(&user, extra.as_ref(), &options)
        })
        .map(TokenPair::from)
        .map_err(|e| to_py_err(py, e))
    }

    /// Authenticate a request by its access token: check the token and its session, slide
    /// the session's idle deadline, and return the token's claims.
    ///
    /// A DPoP-bound token needs `dpop`, a proof over this request carrying the token's
    /// `ath`; with `bind_validate`, a client-bound session needs its `client_id`. Raises a
    /// subclass of `InvalidTokenError` when the token is refused.
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

    /// `validate` for a sliding token: check it and its session, slide the session, and
    /// return the token's claims.
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

    /// Check a token of any type and its session without sliding anything, and return its
    /// claims (simplejwt's verify endpoint). Needs no client binding.
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

    /// Exchange a refresh token for a new access token and, with `rotate_refresh`, a new
    /// refresh token; slides the session's idle deadline.
    ///
    /// Presenting a refresh token that was already rotated away revokes the whole session
    /// (`ReuseDetectedError`), unless within `reuse_grace_s`. A bound session needs what it
    /// was bound to: the same `client_id`, and/or a `dpop` proof over this request from the
    /// same key.
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

    /// Log a user in with one sliding token (simplejwt's single-token mode) bound to a new
    /// session. `user_id` and `extra` as for `login`.
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

    /// Revoke what a token stands for: its whole session (logout: the session's access
    /// tokens fail from the next call on), or a sessionless token's id. Needs no client
    /// binding; revoking twice raises `RevokedError`.
    fn revoke(&self, py: Python<'_>, token: &Bound<'_, PyAny>) -> PyResult<()> {
        let _time = self.call_time(py)?;
        let t = crate::convert::token(token, "token", self.max_token_bytes)?;
        py.detach(|| self.inner.revoke(t))
            .map_err(|e| to_py_err(py, e))
    }

    /// Revoke a session by its id. Returns False when it was already revoked; raises
    /// `SessionUnknownError` when no such session is stored.
    fn revoke_session(&self, py: Python<'_>, session_id: &Bound<'_, PyAny>) -> PyResult<bool> {
        let _time = self.call_time(py)?;
        let sid = text(session_id, "session_id")?;
        py.detach(|| self.inner.revoke_session(sid))
            .map_err(|e| to_py_err(py, e))
    }

    /// Revoke every session of a user, and their sessionless tokens issued until now.
    /// `keep`, a session id, is spared ("sign out my other devices"). Returns how many
    /// sessions were live.
    #[pyo3(signature = (user_id, keep = None))]
    fn revoke_user(
        &self,
        py: Python<'_>,
        user_id: &Bound<'_, PyAny>,
        keep: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<usize> {
        let _time = self.call_time(py)?;
        let user = crate::convert::user_id(user_id)?;
        let keep = keep
            .filter(|k| !k.is_none())
            .map(|k| text(k, "keep"))
            .transpose()?;
        py.detach(|| self.inner.revoke_user_except(&user, keep))
            .map_err(|e| to_py_err(py, e))
    }

    /// The user's live sessions, newest first, each with its id, times (`created_at`,
    /// `last_seen`, `idle_deadline`, `absolute_deadline`), login metadata (`label`, `ip`,
    /// `user_agent`, `data`) and current `claims`.
    fn sessions<'py>(
        &self,
        py: Python<'py>,
        user_id: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyList>> {
        let _time = self.call_time(py)?;
        let user = crate::convert::user_id(user_id)?;
        let list = py
            .detach(|| self.inner.sessions(&user))
            .map_err(|e| to_py_err(py, e))?;
        sessions::session_list(py, &list)
    }

    /// One live session by id, or None when it is unknown or has ended. An id that is
    /// not 32 lowercase hex digits raises `InvalidArgumentError`.
    fn session<'py>(
        &self,
        py: Python<'py>,
        session_id: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let _time = self.call_time(py)?;
        let sid = text(session_id, "session_id")?;
        let info = py
            .detach(|| self.inner.session(sid))
            .map_err(|e| to_py_err(py, e))?;
        info.map(|s| sessions::session_dict(py, &s)).transpose()
    }

    /// Merge `claims` into the session's claims; a value of None removes that claim. The
    /// session's next refresh mints them into its tokens, and with
    /// `session_claims_on_validate` `validate` returns them at once. Reserved claim names,
    /// `claims` over 4096 bytes as JSON and a session's claims growing past 65536 bytes
    /// raise `InvalidArgumentError`; an unknown or ended session raises its `SessionError`
    /// (`SessionUnknownError`, `RevokedError`, ...).
    fn update_session(
        &self,
        py: Python<'_>,
        session_id: &Bound<'_, PyAny>,
        claims: &Bound<'_, PyAny>,
    ) -> PyResult<()> {
        let _time = self.call_time(py)?;
        let sid = text(session_id, "session_id")?;
        let claims = sessions::json_object(Some(claims), "claims")?;
        py.detach(|| self.inner.update_session(sid, &claims))
            .map_err(|e| to_py_err(py, e))
    }

    /// The engine's counters since its creation: calls per operation (`operations`),
    /// failures per error name (`errors`), the store's latency per store operation
    /// (`store_latency`, cumulative buckets in seconds), `live_sessions`, and the near
    /// cache's counts (`near_cache`, None when the store has none).
    fn metrics<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let _time = self.call_time(py)?;
        let m = py.detach(|| self.inner.metrics());
        sessions::metrics_dict(py, &m)
    }

    /// Call `handler(event)` after each login, refresh, detected reuse, ended session
    /// (with its `reason`), noticed idle expiry, client mismatch and replayed DPoP proof;
    /// None stops events. It runs on the thread of the call that caused the event, after
    /// that call's work and with no lock held, so it may call the engine. What it raises is
    /// logged on the "keyfob" logger and never reaches the caller.
    fn set_event_handler(&self, handler: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inner
            .set_event_handler(sessions::event_handler(Some(handler))?);
        Ok(())
    }

    /// Drop ended sessions and expired revocations now, and return how many went. Not
    /// needed for bounded memory: writes also sweep, a little at a time.
    fn sweep(&self, py: Python<'_>) -> PyResult<usize> {
        let _time = self.call_time(py)?;
        py.detach(|| self.inner.sweep())
            .map_err(|e| to_py_err(py, e))
    }

    /// The public keys of the signing key and every verifying key as a JWK Set (RFC 7517),
    /// `{"keys": [{"kty", "kid", "use": "sig", "alg", ...}]}`, the signing key first.
    /// Raises `ConfigError` for HMAC keys (secrets, never published) and for a signing key
    /// without a `key_id`.
    fn jwks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let json = self
            .inner
            .jwks()
            .map(|set| set.to_json())
            .map_err(|e| to_py_err(py, e))?;
        crate::convert::claims_dict(py, &json)
    }

    /// What the store holds: sessions, revoked_sessions, denied_jtis, user_epochs.
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

    /// The engine's current time (Unix seconds), from its clock.
    fn now(&self, py: Python<'_>) -> PyResult<i64> {
        let _time = self.call_time(py)?;
        Ok(self.inner.now())
    }

    /// Sign `payload`, the text of a JSON object (`str` or UTF-8 `bytes`), with this
    /// engine's key and header, adding and checking no claim (simplejwt's
    /// `TokenBackend.encode`). A token made this way passes `validate` only if its claims
    /// would: a live session, the right type, an unexpired `exp`.
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
    /// payload bytes, reading no claim and no session (simplejwt's `TokenBackend.decode`).
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
