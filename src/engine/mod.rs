//! The engine's API: login, validate, refresh, verify, revoke, sweep, stats. Each method
//! reads its arguments, runs the check pipeline (`check.rs`), applies the session rules
//! through the store, and mints tokens (`mint.rs`); client binding is in
//! `client_binding.rs`, sliding tokens in `sliding.rs`, session management and metrics in
//! `sessions.rs`, events in `events.rs`, building an engine in `builder.rs`.

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::claims::{ClaimNames, Claims, PayloadTemplate, TokenType};
use crate::clock::Clock;
use crate::config::Config;
use crate::dpop::Verifier;
use crate::error::{Error, Result};
use crate::jws::Jws;
use crate::metrics::{Op, Recorder};
use crate::session::Id;
use crate::store::{RevokeOutcome, RotateOutcome, SessionStore, Stats, TimedStore};

mod builder;
mod check;
mod client_binding;
mod events;
mod keys;
mod mint;
mod sessions;
mod sliding;

pub use builder::EngineBuilder;
pub use client_binding::Presentation;
pub use events::{Event, EventHandler, EventKind, RevokeReason};
pub use sessions::{LoginOptions, SessionInfo};

use events::{About, EventSink};

use mint::Grant;

/// Tokens handed out by [`Engine::login`] and [`Engine::refresh`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenPair {
    /// The access token.
    pub access: String,
    /// The refresh token: always on login; on refresh only when rotating.
    pub refresh: Option<String>,
    /// The session id (32 hex digits).
    pub session_id: String,
}

/// A sliding token bound to a session, from [`Engine::login_sliding`] /
/// [`Engine::refresh_sliding`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlidingToken {
    /// The token.
    pub token: String,
    /// The session id (32 hex digits).
    pub session_id: String,
}

/// The sliding-session engine. `Send + Sync`: build one and share it (e.g. in an `Arc`).
///
/// Token arguments are anything that is bytes (`&str`, `String`, `&[u8]`): a token that is
/// not UTF-8 is `malformed`, like any other broken token.
///
/// ```
/// use keyfob::{Config, Engine, Error};
///
/// let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!")).unwrap();
/// let pair = engine.login("42", None).unwrap();
/// let claims = engine.validate(&pair.access).unwrap();
/// assert_eq!(claims.user_id(), "42");
///
/// let refreshed = engine.refresh(pair.refresh.as_deref().unwrap()).unwrap();
/// assert!(engine.validate(&refreshed.access).is_ok());
///
/// engine.revoke(refreshed.refresh.as_deref().unwrap()).unwrap(); // logout
/// assert_eq!(engine.validate(&refreshed.access), Err(Error::Revoked));
/// ```
pub struct Engine {
    jws: Jws,
    /// The constant text of the payloads this engine mints.
    template: PayloadTemplate,
    names: ClaimNames,
    store: TimedStore,
    clock: Arc<dyn Clock>,
    access_lifetime: i64,
    refresh_lifetime: i64,
    idle_timeout: i64,
    sliding_lifetime: i64,
    reuse_grace: i64,
    leeway: i64,
    rotate_refresh: bool,
    accept_sessionless: bool,
    touch_on_validate: bool,
    issuer: Option<String>,
    audience: Option<String>,
    dpop: Verifier,
    client_mismatch_revokes: bool,
    bind_validate: bool,
    max_sessions_per_user: Option<usize>,
    session_claims_on_validate: bool,
    metrics: Arc<Recorder>,
    events: EventSink,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("jws", &self.jws)
            .field("idle_timeout", &self.idle_timeout)
            .field("refresh_lifetime", &self.refresh_lifetime)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine on the wall clock with the store `config.store` names (in memory by default).
    pub fn new(config: Config) -> Result<Engine> {
        Engine::builder(config).build()
    }

    /// An engine with a chosen clock (e.g. a [`crate::ManualClock`] in tests) or store.
    pub fn builder(config: Config) -> EngineBuilder {
        EngineBuilder::new(config)
    }

    /// The engine's current time (Unix seconds).
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// Log `user_id` in: create a session and return its access and refresh tokens.
    /// `extra` claims are copied into every token of the session; reserved names are refused.
    pub fn login(&self, user_id: &str, extra: Option<&Map<String, Value>>) -> Result<TokenPair> {
        self.login_bound(user_id, extra, &Presentation::none())
    }

    /// Like [`Engine::login`], binding the session to the client: to the SHA-256 of
    /// `presentation.client_id` (which [`Engine::refresh_bound`] must then present again),
    /// and to the key of the DPoP proof `presentation.dpop` (its RFC 7638 thumbprint, written
    /// as `cnf.jkt` in the tokens; refresh and validate then need a proof from that key).
    /// The proof is checked against the login request's method and URL.
    pub fn login_bound(
        &self,
        user_id: &str,
        extra: Option<&Map<String, Value>>,
        presentation: &Presentation<'_>,
    ) -> Result<TokenPair> {
        self.login_with(
            user_id,
            extra,
            &LoginOptions::default().with_presentation(*presentation),
        )
    }

    /// Authenticate a request: an access token, all checks, the session alive;
    /// slides the idle deadline (when `touch_on_validate`).
    pub fn validate(&self, access: impl AsRef<[u8]>) -> Result<Claims> {
        let result = self.validate_as(access.as_ref(), TokenType::Access, &Presentation::none());
        self.metrics.count(Op::Validate, &result);
        result
    }

    /// Like [`Engine::validate`] for a request that presents its client: a session bound to
    /// a DPoP key needs `presentation.dpop`, a proof from that key over this request's
    /// method and URL with `ath` = the access token's hash; with `bind_validate`, a session
    /// bound to a client id needs `presentation.client_id`. A proof sent with an unbound
    /// token is ignored.
    pub fn validate_bound(
        &self,
        access: impl AsRef<[u8]>,
        presentation: &Presentation<'_>,
    ) -> Result<Claims> {
        let result = self.validate_as(access.as_ref(), TokenType::Access, presentation);
        self.metrics.count(Op::Validate, &result);
        result
    }

    /// Like [`Engine::validate`] for a sliding token (simplejwt's single-token mode).
    pub fn validate_sliding(&self, token: impl AsRef<[u8]>) -> Result<Claims> {
        let result = self.validate_as(token.as_ref(), TokenType::Sliding, &Presentation::none());
        self.metrics.count(Op::Validate, &result);
        result
    }

    /// Check any token (any type): signature, claims and session, without sliding anything.
    /// A refresh token that was rotated out (and is not inside the grace window) answers
    /// `revoked`, as simplejwt's blacklist would.
    pub fn verify(&self, token: impl AsRef<[u8]>) -> Result<Claims> {
        let result = self.verify_bytes(token.as_ref());
        self.metrics.count(Op::Verify, &result);
        result
    }

    /// Exchange a refresh token for a new access token (and, rotating, a new refresh token).
    ///
    /// Presenting the previous refresh token within `reuse_grace_s` of its rotation returns
    /// the current refresh token again, byte for byte (for deterministic algorithms), so
    /// concurrent refreshes converge. Any other replay revokes the whole session.
    ///
    /// ```
    /// use keyfob::{Config, Engine, Error};
    ///
    /// let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!")).unwrap();
    /// let first = engine.login("alice", None).unwrap().refresh.unwrap();
    /// let second = engine.refresh(&first).unwrap().refresh.unwrap();
    /// engine.refresh(&second).unwrap();
    /// // `first` was rotated out twice: a replay, so the session is revoked.
    /// assert_eq!(engine.refresh(&first), Err(Error::ReuseDetected));
    /// assert_eq!(engine.refresh(&second).unwrap_err(), Error::ReuseDetected);
    /// ```
    pub fn refresh(&self, refresh: impl AsRef<[u8]>) -> Result<TokenPair> {
        self.refresh_bound(refresh, &Presentation::none())
    }

    /// Like [`Engine::refresh`] for a request that presents its client: a session bound to a
    /// client id needs the same `presentation.client_id` (else `client_mismatch`, and with
    /// `client_mismatch_revokes` the session is revoked); a session bound to a DPoP key needs
    /// `presentation.dpop`, a proof from that key over this request's method and URL.
    /// A sessionless token (with `accept_sessionless`) is upgraded unbound, as by `refresh`.
    pub fn refresh_bound(
        &self,
        refresh: impl AsRef<[u8]>,
        presentation: &Presentation<'_>,
    ) -> Result<TokenPair> {
        let refresh = refresh.as_ref();
        let result = self.refresh_bytes(refresh, presentation);
        self.metrics.count(Op::Refresh, &result);
        result
    }

    fn refresh_bytes(&self, refresh: &[u8], presentation: &Presentation<'_>) -> Result<TokenPair> {
        let now = self.clock.now();
        let claims = self.check_claims(refresh, Some(TokenType::Refresh), now)?;
        let Some(sid) = claims.session_id()? else {
            return self.refresh_sessionless(&claims, now);
        };
        let result = self.refresh_session(&claims, sid, presentation, now);
        match &result {
            Ok(_) if self.listening() => self.emit(
                EventKind::Refresh,
                About {
                    sid: Some(sid),
                    user_id: Some(claims.user_id()),
                    reason: None,
                    details: None,
                },
            ),
            Ok(_) => {}
            Err(e) => self.emit_failure(Some(sid), claims.user_id(), e),
        }
        result
    }

    /// A refresh of the session `sid`, which `claims` (a checked refresh token) names.
    fn refresh_session(
        &self,
        claims: &Claims,
        sid: Id,
        presentation: &Presentation<'_>,
        now: i64,
    ) -> Result<TokenPair> {
        let check =
            self.binding_check(claims, presentation, now, None, self.refresh_client_check())?;
        let grant = Grant {
            user_id: claims.user_id(),
            sid: Some(sid),
            ends: claims.exp(),
            extra: Some(claims.extra()),
            cnf: check.presented.jkt,
        };
        if !self.rotate_refresh {
            self.store
                .touch(sid, now, self.idle_timeout, true, Some(&check))?;
            let current = self.store.session_claims(sid)?;
            let grant = Grant {
                extra: current.as_ref().or(grant.extra),
                ..grant
            };
            return Ok(TokenPair {
                access: self.mint_access(now, &grant)?,
                refresh: None,
                session_id: sid.to_hex_string(),
            });
        }
        let presented =
            Id::parse(claims.jti()).ok_or_else(|| Error::InvalidClaim(self.names.jti.clone()))?;
        let next = Id::random()?;
        let outcome = self.store.rotate(
            sid,
            presented,
            next,
            now,
            self.idle_timeout,
            self.reuse_grace,
            &check,
        )?;
        let (jti, iat, ends, current) = match outcome {
            RotateOutcome::Rotated {
                absolute_deadline,
                claims,
            } => (next, now, absolute_deadline, claims),
            RotateOutcome::Converged {
                current_jti,
                current_iat,
                absolute_deadline,
                claims,
            } => (current_jti, current_iat, absolute_deadline, claims),
        };
        let grant = Grant {
            ends,
            extra: current.as_ref().or(grant.extra),
            ..grant
        };
        let (refresh, access) = self.mint_refresh_and_access(&grant, jti, iat, now)?;
        Ok(TokenPair {
            refresh: Some(refresh),
            access,
            session_id: sid.to_hex_string(),
        })
    }

    /// Revoke what a token stands for: its session (logout) or, for a sessionless token,
    /// its jti. Effective on the next call, for access tokens too.
    /// A token of an already revoked session answers `revoked`.
    pub fn revoke(&self, token: impl AsRef<[u8]>) -> Result<()> {
        let token = token.as_ref();
        let result = self.revoke_bytes(token);
        self.metrics.count(Op::Revoke, &result);
        result
    }

    fn revoke_bytes(&self, token: &[u8]) -> Result<()> {
        let now = self.clock.now();
        let claims = self.check_claims(token, None, now)?;
        match claims.session_id()? {
            Some(sid) => match self.store.revoke_session(sid)? {
                RevokeOutcome::Revoked => {
                    self.emit(
                        EventKind::SessionRevoked,
                        About {
                            sid: Some(sid),
                            user_id: Some(claims.user_id()),
                            reason: Some(RevokeReason::Logout),
                            details: None,
                        },
                    );
                    Ok(())
                }
                RevokeOutcome::AlreadyRevoked => Err(Error::Revoked),
                RevokeOutcome::Unknown => Err(Error::SessionUnknown),
            },
            None => {
                if !self.accept_sessionless {
                    return Err(Error::SessionRequired);
                }
                let until = claims.exp().saturating_add(self.leeway);
                if self.store.deny_jti(claims.jti(), until, now)? {
                    Ok(())
                } else {
                    Err(Error::Revoked)
                }
            }
        }
    }

    /// Revoke a session by id. Returns whether it was live (false: already revoked).
    pub fn revoke_session(&self, session_id: &str) -> Result<bool> {
        let result = self.revoke_session_inner(session_id);
        self.metrics.count(Op::RevokeSession, &result);
        result
    }

    fn revoke_session_inner(&self, session_id: &str) -> Result<bool> {
        let sid = parse_session_id(session_id)?;
        match self.store.revoke_session(sid)? {
            RevokeOutcome::Revoked => {
                self.emit(
                    EventKind::SessionRevoked,
                    About {
                        sid: Some(sid),
                        user_id: None,
                        reason: Some(RevokeReason::Admin),
                        details: None,
                    },
                );
                Ok(true)
            }
            RevokeOutcome::AlreadyRevoked => Ok(false),
            RevokeOutcome::Unknown => Err(Error::SessionUnknown),
        }
    }

    /// Revoke every session of a user, and every sessionless token issued to them until now.
    /// Returns how many live sessions were revoked.
    pub fn revoke_user(&self, user_id: &str) -> Result<usize> {
        self.revoke_user_except(user_id, None)
    }

    /// Drop ended sessions and expired denylist entries now. Writes also do this,
    /// amortized, so calling it is optional. Returns how many entries went.
    pub fn sweep(&self) -> Result<usize> {
        self.store.sweep(self.clock.now())
    }

    /// Counts of sessions, revoked sessions, denied jtis and user epochs.
    pub fn stats(&self) -> Result<Stats> {
        self.store.stats()
    }
}

/// A session id as the API takes it: 32 lowercase hex digits.
fn parse_session_id(session_id: &str) -> Result<Id> {
    Id::parse(session_id)
        .ok_or_else(|| Error::InvalidArgument("session id must be 32 lowercase hex digits".into()))
}

#[cfg(test)]
mod tests;
