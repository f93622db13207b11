//! The engine: login, validate, refresh, verify, revoke, sweep, stats.
//! It checks tokens, applies the session rules through the store, and mints tokens.

use std::cell::RefCell;
use std::sync::Arc;

use ring::rand::SystemRandom;
use serde_json::{Map, Value};

use base64_simd::URL_SAFE_NO_PAD;

use crate::binding::Presentation;
use crate::claims::{
    self, key, ClaimNames, Claims, MintFields, MintText, PayloadWriter, TokenType,
};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::dpop::{CheckedProof, Verifier};
use crate::error::{Error, Result};
use crate::jws::Jws;
use crate::keys::KeyRing;
use crate::session::{Binding, ClientCheck, Id, Mismatch, Presented, Session};
use crate::store::{RevokeOutcome, RotateOutcome, SessionStore, StoreStats};

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

/// A sliding token bound to a session, from [`Engine::login_sliding`] / [`Engine::refresh_sliding`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SlidingToken {
    /// The token.
    pub token: String,
    /// The session id (32 hex digits).
    pub session_id: String,
}

/// Counts reported by [`Engine::stats`].
pub type Stats = StoreStats;

/// The sliding-session engine. `Send + Sync`: build one and share it (e.g. in an `Arc`).
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
    mint_text: MintText,
    names: ClaimNames,
    store: Arc<dyn SessionStore>,
    clock: Arc<dyn Clock>,
    rng: SystemRandom,
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

/// How a token must relate to a session for an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum SessionCheck {
    /// Alive, and slide the idle deadline.
    Touch,
    /// Alive, no write.
    Peek,
}

impl Engine {
    /// An engine on the wall clock with the in-memory store.
    pub fn new(config: Config) -> Result<Engine> {
        Engine::with_parts(config, Arc::new(SystemClock), None)
    }

    /// An engine on the given clock (e.g. a [`crate::ManualClock`] in tests).
    pub fn with_clock(config: Config, clock: impl Clock) -> Result<Engine> {
        Engine::with_parts(config, Arc::new(clock), None)
    }

    /// An engine on the given clock and store (`None`: the store the config names).
    pub fn with_parts(
        config: Config,
        clock: Arc<dyn Clock>,
        store: Option<Arc<dyn SessionStore>>,
    ) -> Result<Engine> {
        config.check()?;
        let keys = KeyRing::from_config(&config)?;
        let store = match store {
            Some(s) => s,
            None => crate::store::from_config(&config)?,
        };
        let secs = |v: u64| v as i64; // bounded by Config::check
        let dpop = Verifier::new(
            config.dpop_iat_window_s,
            config.dpop_replay_cache_size,
            config.max_token_bytes,
        );
        let names = ClaimNames::new(
            config.user_id_claim,
            config.token_type_claim,
            config.jti_claim,
        );
        let mint_text = MintText::new(&names, config.issuer.as_deref(), config.audience.as_deref());
        let mut jws = Jws::new(keys, config.max_token_bytes);
        jws.precompute(&mint_text.starts());
        Ok(Engine {
            jws,
            mint_text,
            names,
            store,
            clock,
            rng: SystemRandom::new(),
            access_lifetime: secs(config.access_lifetime_s),
            refresh_lifetime: secs(config.refresh_lifetime_s),
            idle_timeout: secs(config.idle_timeout_s),
            sliding_lifetime: secs(config.sliding_lifetime_s),
            reuse_grace: secs(config.reuse_grace_s),
            leeway: secs(config.leeway_s),
            rotate_refresh: config.rotate_refresh,
            accept_sessionless: config.accept_sessionless,
            touch_on_validate: config.touch_on_validate,
            issuer: config.issuer,
            audience: config.audience,
            dpop,
            client_mismatch_revokes: config.client_mismatch_revokes,
            bind_validate: config.bind_validate,
        })
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
        self.check_login_args(user_id, extra)?;
        let now = self.clock.now();
        let client = presentation.client_digest()?;
        let jkt = match &presentation.dpop {
            None => None,
            Some(req) => {
                if extra.is_some_and(|e| e.contains_key("cnf")) {
                    return Err(Error::InvalidArgument(
                        "extra claim 'cnf' is reserved for a DPoP-bound session".into(),
                    ));
                }
                let proof = self.dpop.check(req, now, None)?;
                self.consume_proof(&proof, now)?;
                Some(proof.jkt)
            }
        };
        let sid = self.store.new_session_id(now)?;
        let refresh_jti = Id::random(&self.rng)?;
        let mut session = Session::new(
            sid,
            user_id.to_owned(),
            refresh_jti,
            now,
            self.idle_timeout,
            self.refresh_lifetime,
        );
        session.binding = Binding { client, jkt };
        let absolute = session.absolute_deadline;
        let refresh = self.mint(&Mint {
            fields: MintFields {
                kind: TokenType::Refresh,
                exp: absolute,
                iat: now,
                jti: refresh_jti,
                user_id,
                sid: Some(sid),
                refresh_exp: None,
            },
            extra,
            cnf: jkt,
        })?;
        let access = self.mint_access(now, absolute, user_id, Some(sid), extra, jkt)?;
        self.store.create(session, now)?;
        Ok(TokenPair {
            access,
            refresh: Some(refresh),
            session_id: sid.to_hex_string(),
        })
    }

    /// Authenticate a request: an access token, all checks, the session alive;
    /// slides the idle deadline (when `touch_on_validate`).
    pub fn validate(&self, access: &str) -> Result<Claims> {
        self.validate_bytes(access.as_bytes())
    }

    /// [`Engine::validate`] on a token's raw bytes, for the C ABI: a token that validates is
    /// ASCII, so only a failing one needs the UTF-8 check (see `ffi::engine`).
    pub(crate) fn validate_bytes(&self, access: &[u8]) -> Result<Claims> {
        self.validate_as(access, TokenType::Access, &Presentation::none())
    }

    /// Like [`Engine::validate`] for a request that presents its client: a session bound to
    /// a DPoP key needs `presentation.dpop`, a proof from that key over this request's
    /// method and URL with `ath` = the access token's hash; with `bind_validate`, a session
    /// bound to a client id needs `presentation.client_id`. A proof sent with an unbound
    /// token is ignored.
    pub fn validate_bound(&self, access: &str, presentation: &Presentation<'_>) -> Result<Claims> {
        self.validate_as(access.as_bytes(), TokenType::Access, presentation)
    }

    /// Like [`Engine::validate`] for a sliding token (simplejwt's single-token mode).
    pub fn validate_sliding(&self, token: &str) -> Result<Claims> {
        self.validate_sliding_bytes(token.as_bytes())
    }

    /// [`Engine::validate_sliding`] on raw bytes, as [`Engine::validate_bytes`].
    pub(crate) fn validate_sliding_bytes(&self, token: &[u8]) -> Result<Claims> {
        self.validate_as(token, TokenType::Sliding, &Presentation::none())
    }

    /// A validate of a `kind` token presented with `presentation`.
    fn validate_as(
        &self,
        token: &[u8],
        kind: TokenType,
        presentation: &Presentation<'_>,
    ) -> Result<Claims> {
        let check = self.validate_check();
        self.check_token(token, Some(kind), check, Some(presentation))
    }

    /// Check any token (any type): signature, claims and session, without sliding anything.
    /// A refresh token that was rotated out (and is not inside the grace window) answers
    /// `revoked`, as simplejwt's blacklist would.
    pub fn verify(&self, token: &str) -> Result<Claims> {
        self.verify_bytes(token.as_bytes())
    }

    /// [`Engine::verify`] on raw bytes, as [`Engine::validate_bytes`].
    pub(crate) fn verify_bytes(&self, token: &[u8]) -> Result<Claims> {
        let claims = self.check_token(token, None, SessionCheck::Peek, None)?;
        if claims.token_type == TokenType::Refresh && self.rotate_refresh {
            // check_token has refused a `sid` that is no session id.
            if let (Ok(Some(sid)), Some(jti)) = (claims.session_id(), Id::parse(claims.jti())) {
                let session = self.store.get(sid)?.ok_or(Error::SessionUnknown)?;
                let now = self.clock.now();
                let in_grace = session.previous_jti == Some(jti)
                    && now < session.current_iat.saturating_add(self.reuse_grace);
                if session.current_jti != jti && !in_grace {
                    return Err(Error::Revoked);
                }
            }
        }
        Ok(claims)
    }

    /// Exchange a refresh token for a new access token (and, rotating, a new refresh token).
    ///
    /// Presenting the previous refresh token within `reuse_grace_s` of its rotation returns
    /// the current refresh token again, byte for byte (for deterministic algorithms), so
    /// concurrent refreshes converge. Any other replay revokes the whole session.
    pub fn refresh(&self, refresh: &str) -> Result<TokenPair> {
        self.refresh_bound(refresh, &Presentation::none())
    }

    /// Like [`Engine::refresh`] for a request that presents its client: a session bound to a
    /// client id needs the same `presentation.client_id` (else `client_mismatch`, and with
    /// `client_mismatch_revokes` the session is revoked); a session bound to a DPoP key needs
    /// `presentation.dpop`, a proof from that key over this request's method and URL.
    /// A sessionless token (with `accept_sessionless`) is upgraded unbound, as by `refresh`.
    pub fn refresh_bound(
        &self,
        refresh: &str,
        presentation: &Presentation<'_>,
    ) -> Result<TokenPair> {
        let now = self.clock.now();
        let claims = self.check_claims(refresh.as_bytes(), Some(TokenType::Refresh), now)?;
        let extra = Some(&claims.extra);
        let Some(sid) = claims.session_id()? else {
            return self.refresh_sessionless(&claims, now);
        };
        let binding = self.presented(
            &claims,
            presentation,
            now,
            None,
            self.refresh_client_check(),
        )?;
        let cnf = binding.binding.jkt;
        if !self.rotate_refresh {
            self.store
                .touch(sid, now, self.idle_timeout, true, Some(&binding))?;
            let access =
                self.mint_access(now, claims.exp, claims.user_id(), Some(sid), extra, cnf)?;
            return Ok(TokenPair {
                access,
                refresh: None,
                session_id: sid.to_hex_string(),
            });
        }
        let presented =
            Id::parse(claims.jti()).ok_or_else(|| Error::InvalidClaim(self.names.jti.clone()))?;
        let next = Id::random(&self.rng)?;
        let outcome = self.store.rotate(
            sid,
            presented,
            next,
            now,
            self.idle_timeout,
            self.reuse_grace,
            &binding,
        )?;
        let (jti, iat, absolute) = match outcome {
            RotateOutcome::Rotated { absolute_deadline } => (next, now, absolute_deadline),
            RotateOutcome::Converged {
                current_jti,
                current_iat,
                absolute_deadline,
            } => (current_jti, current_iat, absolute_deadline),
        };
        let refresh = self.mint(&Mint {
            fields: MintFields {
                kind: TokenType::Refresh,
                exp: absolute,
                iat,
                jti,
                user_id: claims.user_id(),
                sid: Some(sid),
                refresh_exp: None,
            },
            extra,
            cnf,
        })?;
        let access = self.mint_access(now, absolute, claims.user_id(), Some(sid), extra, cnf)?;
        Ok(TokenPair {
            access,
            refresh: Some(refresh),
            session_id: sid.to_hex_string(),
        })
    }

    /// A refresh token minted without a session (by simplejwt, before a migration), accepted
    /// because `accept_sessionless`: it is upgraded to a session ending when the token would
    /// have, and, rotating, its jti is denied so it cannot be used twice.
    fn refresh_sessionless(&self, claims: &Claims, now: i64) -> Result<TokenPair> {
        self.check_sessionless(claims)?;
        if self.rotate_refresh {
            // One atomic check-and-deny: two racing refreshes cannot both upgrade the token.
            let until = claims.exp.saturating_add(self.leeway);
            if !self.store.deny_jti(claims.jti(), until, now)? {
                return Err(Error::ReuseDetected);
            }
        } else {
            let access = self.mint_access(
                now,
                claims.exp,
                claims.user_id(),
                None,
                Some(&claims.extra),
                None,
            )?;
            return Ok(TokenPair {
                access,
                refresh: None,
                session_id: String::new(),
            });
        }
        let sid = self.store.new_session_id(now)?;
        let jti = Id::random(&self.rng)?;
        let mut session = Session::new(
            sid,
            claims.user_id().to_owned(),
            jti,
            now,
            self.idle_timeout,
            self.refresh_lifetime,
        );
        session.absolute_deadline = session.absolute_deadline.min(claims.exp).max(now + 1);
        session.idle_deadline = session.idle_deadline.min(session.absolute_deadline);
        let absolute = session.absolute_deadline;
        let extra = Some(&claims.extra);
        let refresh = self.mint(&Mint {
            fields: MintFields {
                kind: TokenType::Refresh,
                exp: absolute,
                iat: now,
                jti,
                user_id: claims.user_id(),
                sid: Some(sid),
                refresh_exp: None,
            },
            extra,
            cnf: None,
        })?;
        let access = self.mint_access(now, absolute, claims.user_id(), Some(sid), extra, None)?;
        self.store.create(session, now)?;
        Ok(TokenPair {
            access,
            refresh: Some(refresh),
            session_id: sid.to_hex_string(),
        })
    }

    /// Log in with one sliding token (simplejwt's `SlidingToken`), bound to a new session.
    pub fn login_sliding(
        &self,
        user_id: &str,
        extra: Option<&Map<String, Value>>,
    ) -> Result<SlidingToken> {
        self.check_login_args(user_id, extra)?;
        let now = self.clock.now();
        let sid = self.store.new_session_id(now)?;
        let session = Session::new(
            sid,
            user_id.to_owned(),
            Id::random(&self.rng)?,
            now,
            self.idle_timeout,
            self.refresh_lifetime,
        );
        let token = self.mint_sliding(now, session.absolute_deadline, user_id, sid, extra)?;
        self.store.create(session, now)?;
        Ok(SlidingToken {
            token,
            session_id: sid.to_hex_string(),
        })
    }

    /// Renew an unexpired sliding token whose session is alive; slides the session.
    pub fn refresh_sliding(&self, token: &str) -> Result<SlidingToken> {
        let now = self.clock.now();
        let claims = self.check_claims(token.as_bytes(), Some(TokenType::Sliding), now)?;
        let refresh_exp = claims
            .refresh_exp
            .ok_or_else(|| Error::MissingClaim("refresh_exp".into()))?;
        if refresh_exp <= now.saturating_sub(self.leeway) {
            return Err(Error::Expired);
        }
        let sid = claims.session_id()?.ok_or(Error::SessionRequired)?;
        // Sliding sessions are never bound; the check still refuses a bound one.
        self.store.touch(
            sid,
            now,
            self.idle_timeout,
            true,
            Some(&Presented::default()),
        )?;
        let token =
            self.mint_sliding(now, refresh_exp, claims.user_id(), sid, Some(&claims.extra))?;
        Ok(SlidingToken {
            token,
            session_id: sid.to_hex_string(),
        })
    }

    /// Revoke what a token stands for: its session (logout) or, for a sessionless token,
    /// its jti. Effective on the next call, for access tokens too.
    /// A token of an already revoked session answers `revoked`.
    pub fn revoke(&self, token: &str) -> Result<()> {
        let now = self.clock.now();
        let claims = self.check_claims(token.as_bytes(), None, now)?;
        match claims.session_id()? {
            Some(sid) => match self.store.revoke_session(sid)? {
                RevokeOutcome::Revoked => Ok(()),
                RevokeOutcome::AlreadyRevoked => Err(Error::Revoked),
                RevokeOutcome::Unknown => Err(Error::SessionUnknown),
            },
            None => {
                if !self.accept_sessionless {
                    return Err(Error::SessionRequired);
                }
                let until = claims.exp.saturating_add(self.leeway);
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
        let sid = Id::parse(session_id).ok_or_else(|| {
            Error::InvalidArgument("session id must be 32 lowercase hex digits".into())
        })?;
        match self.store.revoke_session(sid)? {
            RevokeOutcome::Revoked => Ok(true),
            RevokeOutcome::AlreadyRevoked => Ok(false),
            RevokeOutcome::Unknown => Err(Error::SessionUnknown),
        }
    }

    /// Revoke every session of a user, and every sessionless token issued to them until now.
    /// Returns how many live sessions were revoked.
    pub fn revoke_user(&self, user_id: &str) -> Result<usize> {
        if user_id.is_empty() {
            return Err(Error::InvalidArgument("user_id must not be empty".into()));
        }
        let now = self.clock.now();
        let longest = self.longest_lifetime();
        self.store.revoke_user(
            user_id,
            now,
            now.saturating_add(longest).saturating_add(self.leeway),
        )
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

    /// What `validate` does to the session: slide it, unless `touch_on_validate` is off.
    fn validate_check(&self) -> SessionCheck {
        if self.touch_on_validate {
            SessionCheck::Touch
        } else {
            SessionCheck::Peek
        }
    }

    /// The longest lifetime of any token this engine mints.
    fn longest_lifetime(&self) -> i64 {
        self.access_lifetime
            .max(self.refresh_lifetime)
            .max(self.sliding_lifetime)
    }

    fn check_login_args(&self, user_id: &str, extra: Option<&Map<String, Value>>) -> Result<()> {
        if user_id.is_empty() {
            return Err(Error::InvalidArgument("user_id must not be empty".into()));
        }
        if let Some(extra) = extra {
            // `cnf` too: only a DPoP login may say a token is bound to a key.
            if let Some(k) = extra
                .keys()
                .find(|k| self.names.is_reserved(k) || k.as_str() == "cnf")
            {
                return Err(Error::InvalidArgument(format!(
                    "extra claim '{k}' is reserved and cannot be set"
                )));
            }
        }
        Ok(())
    }

    /// Signature and claims only (no session).
    fn check_claims(&self, token: &[u8], want: Option<TokenType>, now: i64) -> Result<Claims> {
        self.check_claims_then(token, want, now, |_| Ok(()))
    }

    /// Signature and claims, then `then` on the claims before they are returned. The claims
    /// are built once, where the caller receives them: checks that ran after the claims came
    /// back would copy them (over 200 bytes) through every `Result` on the way.
    #[inline(always)]
    fn check_claims_then(
        &self,
        token: &[u8],
        want: Option<TokenType>,
        now: i64,
        then: impl FnOnce(&Claims) -> Result<()>,
    ) -> Result<Claims> {
        self.jws.verify(
            token,
            // Read the minted layout and start loading the session while the HMAC runs: at a
            // million sessions, that memory load is what a validate waits for. The prefetch
            // is a hint only; the read is used only after the signature holds.
            |payload| {
                let early = claims::read_early(payload, &self.names);
                let sid = match &early {
                    Some(m) => m.session,
                    None => claims::peek_sid(payload),
                };
                if let Some(sid) = sid {
                    self.store.prefetch(sid);
                }
                early
            },
            |payload, early| {
                // One `Result` returned on every path, so it is built where the caller
                // receives it.
                let mut result = claims::parse_read(payload, early, &self.names);
                if let Ok(claims) = &result {
                    if let Err(e) = self
                        .check_claim_values(claims, want, now)
                        .and_then(|()| then(claims))
                    {
                        result = Err(e);
                    }
                }
                result
            },
        )
    }

    /// The claims' times, issuer, audience and token type.
    fn check_claim_values(&self, claims: &Claims, want: Option<TokenType>, now: i64) -> Result<()> {
        if claims.exp <= now.saturating_sub(self.leeway) {
            return Err(Error::Expired);
        }
        if let Some(nbf) = claims.nbf {
            if nbf > now.saturating_add(self.leeway) {
                return Err(Error::NotYetValid);
            }
        }
        if let Some(iat) = claims.iat {
            if iat > now.saturating_add(self.leeway) {
                return Err(Error::NotYetValid);
            }
        }
        if let Some(iss) = &self.issuer {
            match claims.iss() {
                None => return Err(Error::MissingClaim("iss".into())),
                Some(got) if got != iss => return Err(Error::InvalidClaim("iss".into())),
                _ => {}
            }
        }
        match &self.audience {
            Some(aud) => {
                if claims.aud.is_empty() {
                    return Err(Error::MissingClaim("aud".into()));
                }
                if !claims.aud.iter().any(|a| a == aud) {
                    return Err(Error::InvalidClaim("aud".into()));
                }
            }
            // As PyJWT (and so simplejwt): a token meant for an audience is not for us.
            None if !claims.aud.is_empty() => return Err(Error::InvalidClaim("aud".into())),
            None => {}
        }
        if let Some(want) = want {
            if claims.token_type != want {
                return Err(Error::WrongType);
            }
        }
        Ok(())
    }

    /// Signature, claims and session.
    /// With `presentation` (validate), the session's binding is checked too.
    #[inline(always)]
    fn check_token(
        &self,
        token: &[u8],
        want: Option<TokenType>,
        check: SessionCheck,
        presentation: Option<&Presentation<'_>>,
    ) -> Result<Claims> {
        let now = self.clock.now();
        self.check_claims_then(token, want, now, |claims| {
            self.check_session(claims, token, now, check, presentation)
        })
    }

    /// The session a token names is alive (and, with `presentation`, fits its binding);
    /// a token without one is checked as sessionless.
    #[inline(always)]
    fn check_session(
        &self,
        claims: &Claims,
        token: &[u8],
        now: i64,
        check: SessionCheck,
        presentation: Option<&Presentation<'_>>,
    ) -> Result<()> {
        let Some(sid) = claims.session_id()? else {
            return self.check_sessionless(claims);
        };
        let client_check = if self.bind_validate {
            self.refresh_client_check()
        } else {
            ClientCheck::Skip
        };
        let owned;
        let binding = match presentation {
            None => None,
            // Nothing to check, so nothing to build (every plain validate).
            Some(p) if p.client_id.is_none() && p.dpop.is_none() => {
                Some(Presented::nothing(client_check))
            }
            Some(p) => {
                // The signature held over these bytes, so they are a token: ASCII.
                let token = std::str::from_utf8(token).map_err(|_| Error::TOKEN_NOT_UTF8)?;
                owned = self.presented(claims, p, now, Some(token), client_check)?;
                Some(&owned)
            }
        };
        self.store.touch(
            sid,
            now,
            self.idle_timeout,
            check == SessionCheck::Touch,
            binding,
        )
    }

    /// Accept a checked proof once: in the store (which catches a replay to another process
    /// when the store is shared), then in this engine's bounded cache.
    fn consume_proof(&self, proof: &CheckedProof, now: i64) -> Result<()> {
        // The shared store first: if it cannot be reached, nothing is recorded, so the
        // client's retry with the same proof is not taken for a replay.
        if !self
            .store
            .remember_proof(&proof.replay_id(), proof.last_valid, now)?
        {
            return Err(Error::DpopReplayed);
        }
        self.dpop.consume(proof, now)
    }

    fn refresh_client_check(&self) -> ClientCheck {
        if self.client_mismatch_revokes {
            ClientCheck::RequireOrRevoke
        } else {
            ClientCheck::Require
        }
    }

    /// What `presentation` shows for the session-bound token `claims`, for the store to
    /// compare with the session's binding. A proof counts only for a token bound to a key
    /// (`cnf.jkt`), and only when it is from that key: its id is remembered after that
    /// check, so proofs from keys no session is bound to never fill the replay cache.
    /// `access` is the access token of a resource request (its hash must be the proof's `ath`).
    fn presented(
        &self,
        claims: &Claims,
        presentation: &Presentation<'_>,
        now: i64,
        access: Option<&str>,
        client_check: ClientCheck,
    ) -> Result<Presented> {
        let client = presentation.client_digest()?;
        let jkt = match (token_jkt(claims), &presentation.dpop) {
            (Some(bound), Some(req)) => {
                let proof = self.dpop.check(req, now, access)?;
                if proof.jkt != bound {
                    return Err(Mismatch::KeyDiffers.error());
                }
                self.consume_proof(&proof, now)?;
                Some(proof.jkt)
            }
            // Unbound token: a proof proves nothing. No proof: the store refuses a bound session.
            _ => None,
        };
        Ok(Presented {
            binding: Binding { client, jkt },
            client_check,
        })
    }

    /// A token without a session: allowed only with `accept_sessionless`, then checked
    /// against the jti denylist and the user's not-before epoch.
    fn check_sessionless(&self, claims: &Claims) -> Result<()> {
        if !self.accept_sessionless {
            return Err(Error::SessionRequired);
        }
        // A sessionless token may live no longer than keyfob's own longest token: `revoke_user`
        // remembers its cut-off exactly that long, so a longer-lived token could outlive it.
        let issued = claims.iat.unwrap_or_else(|| self.clock.now());
        if claims.exp
            > issued
                .saturating_add(self.longest_lifetime())
                .saturating_add(self.leeway)
        {
            return Err(Error::InvalidClaim("exp".into()));
        }
        if self.store.is_denied(claims.jti())? {
            return Err(Error::Revoked);
        }
        if let Some(epoch) = self.store.user_not_before(claims.user_id())? {
            if claims.iat.unwrap_or(i64::MIN) <= epoch {
                return Err(Error::Revoked);
            }
        }
        Ok(())
    }

    fn mint_access(
        &self,
        now: i64,
        absolute: i64,
        user_id: &str,
        sid: Option<Id>,
        extra: Option<&Map<String, Value>>,
        cnf: Option<[u8; 32]>,
    ) -> Result<String> {
        self.mint(&Mint {
            fields: MintFields {
                kind: TokenType::Access,
                exp: now.saturating_add(self.access_lifetime).min(absolute),
                iat: now,
                jti: Id::random(&self.rng)?,
                user_id,
                sid,
                refresh_exp: None,
            },
            extra,
            cnf,
        })
    }

    fn mint_sliding(
        &self,
        now: i64,
        absolute: i64,
        user_id: &str,
        sid: Id,
        extra: Option<&Map<String, Value>>,
    ) -> Result<String> {
        self.mint(&Mint {
            fields: MintFields {
                kind: TokenType::Sliding,
                exp: now.saturating_add(self.sliding_lifetime).min(absolute),
                iat: now,
                jti: Id::random(&self.rng)?,
                user_id,
                sid: Some(sid),
                refresh_exp: Some(absolute),
            },
            extra,
            cnf: None,
        })
    }

    /// Write the payload in a fixed order (so re-minting is byte-identical) and sign it.
    fn mint(&self, m: &Mint<'_>) -> Result<String> {
        thread_local! {
            /// The payload being minted: reused, so minting allocates only the token.
            static PAYLOAD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        let reused = PAYLOAD.try_with(|cell| {
            let mut buf = cell.try_borrow_mut().ok()?;
            buf.clear();
            let token = self.mint_into(&mut buf, m);
            // A token with large extra claims does not pin its buffer to the thread.
            if buf.capacity() > 4096 {
                *buf = Vec::new();
            }
            Some(token)
        });
        match reused {
            Ok(Some(token)) => token,
            // Thread teardown, or a mint inside a mint: a buffer of its own.
            _ => self.mint_into(&mut Vec::with_capacity(256), m),
        }
    }

    fn mint_into(&self, buf: &mut Vec<u8>, m: &Mint<'_>) -> Result<String> {
        if m.cnf.is_none() && m.extra.map_or(true, |e| e.is_empty()) {
            self.mint_text.write(buf, &m.fields);
            return self.jws.sign(buf);
        }
        let mut w = PayloadWriter::new(buf);
        m.fields.write_members(&mut w, &self.names);
        if let Some(iss) = &self.issuer {
            w.str(key::ISS, iss);
        }
        if let Some(aud) = &self.audience {
            w.str(key::AUD, aud);
        }
        if let Some(jkt) = m.cnf {
            w.value(
                "cnf",
                &serde_json::json!({ "jkt": URL_SAFE_NO_PAD.encode_to_string(jkt) }),
            );
        }
        if let Some(extra) = m.extra {
            for (k, v) in extra {
                // A bound token's extra claims hold the `cnf` it was minted with: written above.
                if m.cnf.is_none() || k != "cnf" {
                    w.value(k, v);
                }
            }
        }
        w.finish();
        self.jws.sign(buf)
    }
}

struct Mint<'a> {
    fields: MintFields<'a>,
    extra: Option<&'a Map<String, Value>>,
    /// The DPoP key thumbprint the token is bound to (`cnf.jkt`).
    cnf: Option<[u8; 32]>,
}

/// The key a token is bound to: its `cnf.jkt` (a base64url SHA-256), if well-formed.
fn token_jkt(claims: &Claims) -> Option<[u8; 32]> {
    let jkt = claims.extra.get("cnf")?.get("jkt")?.as_str()?;
    URL_SAFE_NO_PAD.decode_to_vec(jkt).ok()?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn engine_is_send_sync() {
        assert_send_sync::<Engine>();
    }

    /// Every token kind keyfob mints starts with a precomputed HMAC prefix, with the default
    /// claim names and with a `kid` header (a prefix that silently stopped matching would
    /// only cost speed, so this is where it shows). Resuming is forced on, so this holds on
    /// CPUs without SHA-NI too; there ring signs alone, which the last check shows. Without
    /// the `resumed-hmac` feature nothing resumes.
    #[test]
    fn minted_tokens_resume_from_a_precomputed_hmac() {
        for kid in [None, Some("k-2026")] {
            let mut config = Config::with_secret("prefix-secret-0123456789abcdef0123456789");
            config.key_id = kid.map(str::to_owned);
            let unforced = Engine::new(config.clone()).unwrap();
            crate::keys::force_resuming_on_this_thread();
            let engine = Engine::new(config).unwrap();
            let pair = engine.login("42", None).unwrap();
            let sliding = engine.login_sliding("42", None).unwrap();
            for token in [&pair.access, pair.refresh.as_ref().unwrap(), &sliding.token] {
                let signing_input = &token[..token.rfind('.').unwrap()];
                assert_eq!(
                    engine.jws.covered(signing_input.as_bytes()),
                    cfg!(feature = "resumed-hmac"),
                    "{kid:?} {token}"
                );
                assert_eq!(
                    unforced.jws.covered(signing_input.as_bytes()),
                    cfg!(feature = "resumed-hmac") && crate::keys::hardware_sha256()
                );
            }
            // And access and refresh tokens are in the layout the template reads.
            assert!(engine.validate(&pair.access).unwrap().is_minted_layout());
            let refresh = pair.refresh.as_ref().unwrap();
            assert!(engine.verify(refresh).unwrap().is_minted_layout());
            assert!(engine.validate(&pair.access).is_ok());
            // At fixed offsets, too (until the year 2286), with the default claim names and
            // with others.
            let mut config = Config::with_secret("prefix-secret-0123456789abcdef0123456789");
            config.user_id_claim = "uid".into();
            let renamed = Engine::new(config).unwrap();
            let other = renamed.login("someone@example.com", None).unwrap();
            for (engine, token) in [
                (&engine, &pair.access),
                (&engine, refresh),
                (&renamed, &other.access),
                (&renamed, other.refresh.as_ref().unwrap()),
            ] {
                let payload = URL_SAFE_NO_PAD
                    .decode_to_vec(token.split('.').nth(1).unwrap())
                    .unwrap();
                assert!(
                    claims::read_at_fixed_offsets(&payload, &engine.names),
                    "{token}"
                );
            }
        }
    }
}
