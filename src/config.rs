//! `Config`: the single source of settings for Rust, C (as JSON) and Python (as kwargs).

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use crate::error::{Error, Result};

/// Key material: a secret (HS*) or a PEM/DER key. Never shown by `Debug`.
#[derive(Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(transparent)]
pub struct KeyMaterial(String);

impl KeyMaterial {
    /// Wrap key text (an HMAC secret, or a PEM key).
    pub fn new(key: impl Into<String>) -> Self {
        KeyMaterial(key.into())
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// Whether no key was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyMaterial(<redacted>)")
    }
}

impl From<&str> for KeyMaterial {
    fn from(s: &str) -> Self {
        KeyMaterial::new(s)
    }
}

impl From<String> for KeyMaterial {
    fn from(s: String) -> Self {
        KeyMaterial(s)
    }
}

/// Engine settings. Field names are the same in Rust, in C's JSON and in Python's kwargs.
///
/// ```
/// let cfg = keyfob::Config::from_json(
///     r#"{"signing_key": "a-secret-of-at-least-thirty-two-bytes!!", "idle_timeout_s": 600}"#,
/// ).unwrap();
/// assert_eq!(cfg.access_lifetime_s, 300);
/// assert_eq!(cfg.idle_timeout_s, 600);
/// ```
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// JWS algorithm: "HS256" (default), "HS384", "HS512", "EdDSA", "ES256", "RS256".
    pub algorithm: String,
    /// The signing key: an HMAC secret (≥ 32 bytes) or a PKCS#8 (PKCS#1 for RSA) PEM private key.
    pub signing_key: KeyMaterial,
    /// Optional `kid` of the signing key; when set it is written in every token header.
    pub key_id: Option<String>,
    /// Further keys accepted for verification, by `kid` (HMAC secrets or PEM public keys).
    pub verifying_keys: BTreeMap<String, KeyMaterial>,
    /// Access-token lifetime in seconds.
    pub access_lifetime_s: u64,
    /// Absolute session lifetime in seconds (refresh token `exp`).
    pub refresh_lifetime_s: u64,
    /// Inactivity window in seconds.
    pub idle_timeout_s: u64,
    /// Sliding-token lifetime in seconds.
    pub sliding_lifetime_s: u64,
    /// Accept tokens without a `sid` (checked statelessly plus denylist and user epoch).
    pub accept_sessionless: bool,
    /// Session store: "memory", or a Redis URL (feature `redis`): one server
    /// `redis://[:password@]host:port/db` (`rediss://` for TLS), a primary found through
    /// Sentinel `redis+sentinel://host:port,host:port/master-set/db`, or a Cluster
    /// `redis+cluster://host:port,host:port` (`rediss+...` for TLS).
    pub store: String,
    /// Prefix of every key a shared store writes.
    pub store_prefix: String,
    /// Bound on each connect, read and write to a shared store, in milliseconds; past it a
    /// call fails closed with `store_unavailable`.
    pub store_timeout_ms: u64,
    /// Path to the PEM CA certificate(s) a TLS Redis's certificate must chain to (default:
    /// the system's roots). Needs a `rediss` URL.
    pub store_tls_ca: Option<String>,
    /// Path to a PEM client certificate (chain) for mutual TLS with Redis; with `store_tls_key`.
    pub store_tls_cert: Option<String>,
    /// Path to the PEM private key of `store_tls_cert`.
    pub store_tls_key: Option<String>,
    /// Revocations and rotations return only once this many replicas have them (Redis
    /// `WAIT`), so a failover cannot bring back a revoked session; 0 (default) waits for none.
    pub store_wait_replicas: u64,
    /// How long a revocation or rotation waits for `store_wait_replicas`, in milliseconds;
    /// past it the call fails closed with `store_unavailable`. Below `store_timeout_ms`.
    pub store_wait_timeout_ms: u64,
    /// Rotate refresh tokens on every refresh.
    pub rotate_refresh: bool,
    /// Seconds after a rotation during which the previous refresh token converges.
    pub reuse_grace_s: u64,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway_s: u64,
    /// `iss` to write and require.
    pub issuer: Option<String>,
    /// `aud` to write and require.
    pub audience: Option<String>,
    /// Name of the user-id claim.
    pub user_id_claim: String,
    /// Name of the token-type claim.
    pub token_type_claim: String,
    /// Name of the token-id claim.
    pub jti_claim: String,
    /// Slide the idle deadline on `validate`.
    pub touch_on_validate: bool,
    /// Largest token accepted, in bytes.
    pub max_token_bytes: usize,
    /// A refresh (or bound validate) presenting another client binding value than the
    /// session's revokes the session, as a leaked token is the likely cause.
    pub client_mismatch_revokes: bool,
    /// `validate` also requires the session's client binding value, when it has one.
    pub bind_validate: bool,
    /// A DPoP proof's `iat` may lie this many seconds before or after now.
    pub dpop_iat_window_s: u64,
    /// Most DPoP proof ids remembered at once (for replay detection, each until its `iat`
    /// leaves the window); past it new proofs are refused until old ones expire.
    pub dpop_replay_cache_size: usize,
    /// Most live sessions a user may have: a login past it ends the user's oldest session.
    /// `None` (default): no cap.
    pub max_sessions_per_user: Option<u64>,
    /// `validate` returns the session's current claims (changed by `update_session`) in
    /// place of the token's, at the cost of one more store read per validate.
    pub session_claims_on_validate: bool,
}

/// Keys show as `<redacted>` (see [`KeyMaterial`]) and a store URL without its password.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("algorithm", &self.algorithm)
            .field("signing_key", &self.signing_key)
            .field("key_id", &self.key_id)
            .field("verifying_keys", &self.verifying_keys)
            .field("access_lifetime_s", &self.access_lifetime_s)
            .field("refresh_lifetime_s", &self.refresh_lifetime_s)
            .field("idle_timeout_s", &self.idle_timeout_s)
            .field("sliding_lifetime_s", &self.sliding_lifetime_s)
            .field("accept_sessionless", &self.accept_sessionless)
            .field("store", &redact_userinfo(&self.store))
            .field("store_prefix", &self.store_prefix)
            .field("store_timeout_ms", &self.store_timeout_ms)
            .field("store_tls_ca", &self.store_tls_ca)
            .field("store_tls_cert", &self.store_tls_cert)
            .field("store_tls_key", &self.store_tls_key)
            .field("store_wait_replicas", &self.store_wait_replicas)
            .field("store_wait_timeout_ms", &self.store_wait_timeout_ms)
            .field("rotate_refresh", &self.rotate_refresh)
            .field("reuse_grace_s", &self.reuse_grace_s)
            .field("leeway_s", &self.leeway_s)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("user_id_claim", &self.user_id_claim)
            .field("token_type_claim", &self.token_type_claim)
            .field("jti_claim", &self.jti_claim)
            .field("touch_on_validate", &self.touch_on_validate)
            .field("max_token_bytes", &self.max_token_bytes)
            .field("client_mismatch_revokes", &self.client_mismatch_revokes)
            .field("bind_validate", &self.bind_validate)
            .field("dpop_iat_window_s", &self.dpop_iat_window_s)
            .field("dpop_replay_cache_size", &self.dpop_replay_cache_size)
            .field("max_sessions_per_user", &self.max_sessions_per_user)
            .field(
                "session_claims_on_validate",
                &self.session_claims_on_validate,
            )
            .finish()
    }
}

/// `redis://user:secret@host/0` → `redis://<redacted>@host/0`.
fn redact_userinfo(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}<redacted>{}", &url[..scheme + 3], &url[at..])
        }
        _ => url.to_string(),
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            algorithm: "HS256".into(),
            signing_key: KeyMaterial::default(),
            key_id: None,
            verifying_keys: BTreeMap::new(),
            access_lifetime_s: 300,
            refresh_lifetime_s: 43_200,
            idle_timeout_s: 1_800,
            sliding_lifetime_s: 300,
            accept_sessionless: false,
            store: "memory".into(),
            store_prefix: "keyfob:".into(),
            store_timeout_ms: 200,
            store_tls_ca: None,
            store_tls_cert: None,
            store_tls_key: None,
            store_wait_replicas: 0,
            store_wait_timeout_ms: 100,
            rotate_refresh: true,
            reuse_grace_s: 0,
            leeway_s: 0,
            issuer: None,
            audience: None,
            user_id_claim: "user_id".into(),
            token_type_claim: "token_type".into(),
            jti_claim: "jti".into(),
            touch_on_validate: true,
            max_token_bytes: 8_192,
            client_mismatch_revokes: true,
            bind_validate: false,
            dpop_iat_window_s: 60,
            dpop_replay_cache_size: 100_000,
            max_sessions_per_user: None,
            session_claims_on_validate: false,
        }
    }
}

/// Whether a `store` value names a Redis server (its password, if any, is never echoed).
pub(crate) fn is_redis_url(store: &str) -> bool {
    [
        "redis://",
        "rediss://",
        "redis+unix://",
        "unix://",
        "redis+sentinel://",
        "rediss+sentinel://",
        "redis+cluster://",
        "rediss+cluster://",
    ]
    .iter()
    .any(|scheme| store.starts_with(scheme))
}

/// Largest lifetime accepted (100 years), so deadlines never overflow.
const MAX_SECONDS: u64 = 100 * 366 * 24 * 3600;

impl Config {
    /// A default config with this HMAC secret.
    pub fn with_secret(secret: impl Into<String>) -> Self {
        Config {
            signing_key: KeyMaterial::new(secret),
            ..Config::default()
        }
    }

    /// Parse from JSON; unknown fields and wrong types are an error naming the field.
    pub fn from_json(json: &str) -> Result<Self> {
        let value: serde_json::Value = serde_json::from_str(json)
            .map_err(|e| Error::Config(format!("not valid JSON: {}", redacted(&e))))?;
        let cfg = Config::deserialize(&value).map_err(|e| field_error(&value, &e))?;
        cfg.check()?;
        Ok(cfg)
    }

    /// Check values that the types cannot (zero lifetimes, names, sizes).
    /// Keys are checked against the algorithm when the engine builds its key ring.
    pub fn check(&self) -> Result<()> {
        for (name, v) in [
            ("access_lifetime_s", self.access_lifetime_s),
            ("refresh_lifetime_s", self.refresh_lifetime_s),
            ("idle_timeout_s", self.idle_timeout_s),
            ("sliding_lifetime_s", self.sliding_lifetime_s),
        ] {
            if v == 0 {
                return Err(Error::Config(format!("{name} must be greater than zero")));
            }
            if v > MAX_SECONDS {
                return Err(Error::Config(format!("{name} is too large")));
            }
        }
        for (name, v) in [
            ("reuse_grace_s", self.reuse_grace_s),
            ("leeway_s", self.leeway_s),
        ] {
            if v > MAX_SECONDS {
                return Err(Error::Config(format!("{name} is too large")));
            }
        }
        for (name, v) in [
            ("user_id_claim", &self.user_id_claim),
            ("token_type_claim", &self.token_type_claim),
            ("jti_claim", &self.jti_claim),
        ] {
            if v.is_empty() {
                return Err(Error::Config(format!("{name} must not be empty")));
            }
            if crate::claims::is_fixed_claim(v) {
                return Err(Error::Config(format!(
                    "{name} must not be a standard claim name (got '{v}')"
                )));
            }
        }
        let names = [&self.user_id_claim, &self.token_type_claim, &self.jti_claim];
        if names[0] == names[1] || names[0] == names[2] || names[1] == names[2] {
            return Err(Error::Config(
                "user_id_claim, token_type_claim and jti_claim must differ".into(),
            ));
        }
        if !(256..=1 << 20).contains(&self.max_token_bytes) {
            return Err(Error::Config(
                "max_token_bytes must be between 256 and 1048576".into(),
            ));
        }
        if is_redis_url(&self.store) {
            if !cfg!(feature = "redis") {
                return Err(Error::Config(
                    "store: a Redis store needs keyfob built with the \"redis\" feature".into(),
                ));
            }
        } else if self.store != "memory" {
            // A URL of another scheme may carry a password: never echo it.
            let shown = if self.store.contains("://") {
                "a URL"
            } else {
                &self.store
            };
            return Err(Error::Config(format!(
                "store: unsupported store '{shown}' (supported: \"memory\", \"redis://host:port/db\", \
                 \"rediss://\", \"redis+sentinel://\", \"redis+cluster://\")"
            )));
        }
        if !(1..=60_000).contains(&self.store_timeout_ms) {
            return Err(Error::Config(
                "store_timeout_ms must be between 1 and 60000".into(),
            ));
        }
        if self.store_wait_replicas > 64 {
            return Err(Error::Config(
                "store_wait_replicas must be between 0 and 64".into(),
            ));
        }
        if self.store_wait_replicas > 0
            && !(1..self.store_timeout_ms).contains(&self.store_wait_timeout_ms)
        {
            return Err(Error::Config(
                "store_wait_timeout_ms must be at least 1 and below store_timeout_ms".into(),
            ));
        }
        if !(1..=3_600).contains(&self.dpop_iat_window_s) {
            return Err(Error::Config(
                "dpop_iat_window_s must be between 1 and 3600".into(),
            ));
        }
        if !(1..=10_000_000).contains(&self.dpop_replay_cache_size) {
            return Err(Error::Config(
                "dpop_replay_cache_size must be between 1 and 10000000".into(),
            ));
        }
        if let Some(cap) = self.max_sessions_per_user {
            if !(1..=1_000_000).contains(&cap) {
                return Err(Error::Config(
                    "max_sessions_per_user must be between 1 and 1000000 (or null)".into(),
                ));
            }
        }
        if self.signing_key.is_empty() {
            return Err(Error::Config("signing_key is required".into()));
        }
        Ok(())
    }
}

/// serde's messages quote the offending value, which may be key material put in the wrong
/// field: keep the shape of the complaint, never the value.
fn redacted(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    if msg.starts_with("unknown field") {
        return msg;
    }
    match msg.find("expected ") {
        Some(i) => format!("invalid value, {}", &msg[i..]),
        None => "invalid value".into(),
    }
}

/// Name the field a deserialization error comes from by retrying each field alone.
fn field_error(value: &serde_json::Value, e: &serde_json::Error) -> Error {
    if let Some(fields) = value.as_object() {
        for (name, v) in fields {
            let mut single = serde_json::Map::new();
            single.insert(name.clone(), v.clone());
            if let Err(e) = Config::deserialize(&serde_json::Value::Object(single)) {
                return Error::Config(format!("{name}: {}", redacted(&e)));
            }
        }
    }
    Error::Config(redacted(e))
}
