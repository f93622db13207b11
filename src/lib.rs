//! # keyfob
//!
//! An embeddable sliding-session engine. keyfob issues and validates JWT access and
//! refresh tokens, keeps each login as a *session* with a sliding inactivity window and an
//! absolute lifetime, rotates refresh tokens and detects their reuse, and revokes tokens,
//! sessions and users immediately — access tokens included.
//!
//! ```
//! use keyfob::{Config, Engine, Error};
//!
//! let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!")).unwrap();
//! let pair = engine.login("alice", None).unwrap();
//! assert_eq!(engine.validate(&pair.access).unwrap().user_id(), "alice");
//!
//! // Logout: every token of the session stops working at once.
//! engine.revoke(pair.refresh.as_deref().unwrap()).unwrap();
//! assert_eq!(engine.validate(&pair.access), Err(Error::Revoked));
//! ```
//!
//! The same engine is reachable from C (`include/keyfob.h`, the `keyfob-c` crate) and Python
//! (the `keyfob` package).
//!
//! ## Where to start
//!
//! - [`Config`] says everything an engine does (lifetimes, keys, store, claim names); it
//!   reads from JSON, and [`Config::with_secret`] gives the defaults with an HMAC secret.
//! - [`Engine`] is the whole API: [`Engine::login`], [`Engine::validate`],
//!   [`Engine::refresh`], [`Engine::verify`], [`Engine::revoke`] and the rest. Build it with
//!   [`Engine::new`], or [`Engine::builder`] for a [`ManualClock`] or a shared store.
//! - [`Claims`] is what a checked token says; [`Error`] what went wrong, each with a stable
//!   [`ErrorCode`] shared with C and Python.
//! - Sessions bound to their client (a client id, a DPoP key) go through the `_bound`
//!   methods with a [`Presentation`].
//! - Sessions live in a [`SessionStore`]: a [`MemoryStore`] by default, or Redis (feature
//!   `redis`, `config.store = "redis://host:port/db"`). Writing another store is the job of
//!   the [`store`] and [`session`] modules.
//!
//! ## Features
//!
//! - `redis`: the shared Redis store, `RedisStore`.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

// The public interface is:
pub use crate::claims::{Claims, TokenType};
pub use crate::clock::{Clock, ManualClock, SystemClock};
pub use crate::config::{Config, KeyMaterial};
pub use crate::dpop::{jwk_thumbprint, DpopRequest};
pub use crate::engine::{
    Engine, EngineBuilder, Event, EventHandler, EventKind, LoginOptions, Presentation,
    RevokeReason, SessionInfo, SlidingToken, TokenPair,
};
pub use crate::error::{Error, ErrorCode, Result};
pub use crate::keys::{Algorithm, Jwk, JwkParams, Jwks, MIN_HMAC_KEY_BYTES};
pub use crate::metrics::{Histogram, Metrics, NearCacheStats, LATENCY_SAMPLE};
pub use crate::session::SessionMeta;
#[cfg(feature = "redis")]
pub use crate::store::RedisStore;
pub use crate::store::{MemoryStore, SessionStore, Stats};
pub mod session;
pub mod store;

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The resumed HMAC, for the fuzz targets in `fuzz/` (built by cargo-fuzz, with
/// `--cfg fuzzing`). Not part of the API.
#[cfg(all(fuzzing, feature = "resumed-hmac"))]
#[doc(hidden)]
pub use keys::fuzzing as __fuzz_hmac;

mod arch;
mod claims;
mod clock;
mod config;
mod dpop;
mod engine;
mod error;
mod id;
mod jws;
mod keys;
mod metrics;
mod random;
mod swar;

/// Items for keyfob's own language bindings and tests: no stability promise, not part of
/// the API.
#[doc(hidden)]
pub mod internal {
    use crate::keys::KeyRing;
    use crate::{Algorithm, Claims, Config, Result};

    /// Whether `claims` came in exactly the layout keyfob mints (six claims, in order, no
    /// others), so every claim is in the typed accessors: a speed hint for a binding building
    /// a claims mapping; `false` says nothing either way.
    pub fn is_minted_layout(claims: &Claims) -> bool {
        claims.is_minted_layout()
    }

    /// The JWS layer alone, for RFC test vectors whose payloads are not keyfob claims.
    pub mod jws {
        use super::*;

        /// Check a compact JWS's size, header and signature with the key ring `config`
        /// describes; returns the decoded payload without interpreting it.
        pub fn verify(config: &Config, token: &str) -> Result<Vec<u8>> {
            let jws = crate::jws::Jws::new(KeyRing::from_config(config)?, config.max_token_bytes);
            jws.verify(
                token.as_bytes(),
                |_| None::<()>,
                |payload, _| Ok(payload.to_vec()),
            )
        }

        /// Like [`verify`] with a raw HMAC secret (which `Config` cannot hold when not UTF-8).
        pub fn verify_hmac(algorithm: Algorithm, secret: &[u8], token: &str) -> Result<Vec<u8>> {
            let jws = crate::jws::Jws::new(KeyRing::hmac(algorithm, secret)?, 8192);
            jws.verify(
                token.as_bytes(),
                |_| None::<()>,
                |payload, _| Ok(payload.to_vec()),
            )
        }

        /// The raw signature `config`'s signing key makes over `signing_input`.
        pub fn sign(config: &Config, signing_input: &[u8]) -> Result<Vec<u8>> {
            let keys = KeyRing::from_config(config)?;
            let mut sig = vec![0u8; keys.signature_len()];
            let n = keys.sign_into(signing_input, &mut sig)?;
            sig.truncate(n);
            Ok(sig)
        }
    }
}
