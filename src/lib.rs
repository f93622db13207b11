//! # keyfob
//!
//! An embeddable sliding-session engine. keyfob issues and validates JWT access and
//! refresh tokens, keeps each login as a *session* with a sliding inactivity window and an
//! absolute lifetime, rotates refresh tokens and detects their reuse, and revokes tokens,
//! sessions and users immediately — access tokens included.
//!
//! ```
//! use keyfob::{Config, Engine};
//!
//! let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!")).unwrap();
//! let pair = engine.login("alice", None).unwrap();
//! assert_eq!(engine.validate(&pair.access).unwrap().user_id(), "alice");
//! ```
//!
//! The same engine is reachable from C (`include/keyfob.h`) and Python (`keyfob`).
#![deny(missing_docs)]
#![forbid(unsafe_op_in_unsafe_fn)]

mod binding;
mod claims;
mod clock;
mod config;
mod dpop;
mod engine;
mod error;
pub mod ffi;
mod jws;
mod keys;
pub mod session;
pub mod store;

pub use binding::Presentation;
pub use claims::{Claims, TokenType};
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::{Config, KeyMaterial};
pub use dpop::{jwk_thumbprint, DpopRequest};
pub use engine::{Engine, SlidingToken, Stats, TokenPair};
pub use error::{Error, ErrorCode, Result};
pub use keys::{Algorithm, KeyRing, MIN_HMAC_KEY_BYTES};

/// The resumed HMAC, for the fuzz targets in `fuzz/` (built by cargo-fuzz, with
/// `--cfg fuzzing`). Not part of the API.
#[cfg(all(fuzzing, feature = "resumed-hmac"))]
#[doc(hidden)]
pub use keys::fuzzing as __fuzz_hmac;

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Test seam for the JWS layer alone (RFC test vectors whose payloads are not keyfob
/// claims). Not part of the API: no stability promise.
#[doc(hidden)]
pub mod __jws {
    use crate::{Algorithm, Config, KeyRing, Result};

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
