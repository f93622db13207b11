//! The check pipeline every token goes through: size, structure, header and signature (the
//! JWS layer), then the claims' times, issuer, audience and type, then the session it names
//! (alive, bound to this client) or, for a sessionless token, the denylist and user epochs.

use serde_json::{Map, Value};

use super::{Engine, Presentation};
use crate::claims::{self, Claims, TokenType};
use crate::error::{Error, Result};
use crate::session::{BindingCheck, ClientCheck, Id};
use crate::store::SessionStore;

/// How a token must relate to a session for an operation.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum SessionCheck {
    /// Alive, and slide the idle deadline.
    Touch,
    /// Alive, no write.
    Peek,
}

impl Engine {
    /// A validate of a `kind` token presented with `presentation`.
    pub(super) fn validate_as(
        &self,
        token: &[u8],
        kind: TokenType,
        presentation: &Presentation<'_>,
    ) -> Result<Claims> {
        let check = self.validate_check();
        self.check_token(token, Some(kind), check, Some(presentation))
    }

    /// Any token, sliding nothing; a rotated-out refresh token is `revoked`.
    pub(super) fn verify_bytes(&self, token: &[u8]) -> Result<Claims> {
        match self.check_token(token, None, SessionCheck::Peek, None) {
            Ok(claims) if claims.token_type() == TokenType::Refresh && self.rotate_refresh => {
                self.check_still_current(&claims).map(|()| claims)
            }
            other => other,
        }
    }

    /// A refresh token is still the session's current one (or the previous one, inside the
    /// grace window).
    fn check_still_current(&self, claims: &Claims) -> Result<()> {
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
        Ok(())
    }

    /// Signature and claims only (no session).
    pub(super) fn check_claims(
        &self,
        token: &[u8],
        want: Option<TokenType>,
        now: i64,
    ) -> Result<Claims> {
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
        then: impl FnOnce(&mut Claims) -> Result<()>,
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
                if let Ok(claims) = &mut result {
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
        if claims.exp() <= now.saturating_sub(self.leeway) {
            return Err(Error::Expired);
        }
        if let Some(nbf) = claims.nbf() {
            if nbf > now.saturating_add(self.leeway) {
                return Err(Error::NotYetValid);
            }
        }
        if let Some(iat) = claims.iat() {
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
        let aud = claims.aud();
        match &self.audience {
            Some(want) => {
                if aud.is_empty() {
                    return Err(Error::MissingClaim("aud".into()));
                }
                if !aud.iter().any(|a| a == want) {
                    return Err(Error::InvalidClaim("aud".into()));
                }
            }
            // As PyJWT (and so simplejwt): a token meant for an audience is not for us.
            None if !aud.is_empty() => return Err(Error::InvalidClaim("aud".into())),
            None => {}
        }
        if let Some(want) = want {
            if claims.token_type() != want {
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
        claims: &mut Claims,
        token: &[u8],
        now: i64,
        check: SessionCheck,
        presentation: Option<&Presentation<'_>>,
    ) -> Result<()> {
        let Some(sid) = claims.session_id()? else {
            return self.check_sessionless(claims);
        };
        let checked = self.check_bound_session(claims, sid, token, now, check, presentation);
        if let Err(e) = &checked {
            self.emit_failure(Some(sid), claims.user_id(), e);
            return checked;
        }
        // Only a validate presents: verify returns the token's own claims.
        if self.session_claims_on_validate && presentation.is_some() {
            if let Some(current) = self.store.session_claims(sid)? {
                *claims = claims.with_extra(&current, &self.names)?;
            }
        }
        Ok(())
    }

    /// The session `sid` is alive and fits what `presentation` shows; slides it for `Touch`.
    #[inline(always)]
    fn check_bound_session(
        &self,
        claims: &Claims,
        sid: Id,
        token: &[u8],
        now: i64,
        check: SessionCheck,
        presentation: Option<&Presentation<'_>>,
    ) -> Result<()> {
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
                Some(BindingCheck::nothing(client_check))
            }
            Some(p) => {
                // The signature held over these bytes, so they are a token: ASCII.
                let token = std::str::from_utf8(token).map_err(|_| Error::TOKEN_NOT_UTF8)?;
                owned = self.binding_check(claims, p, now, Some(token), client_check)?;
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

    /// A token without a session: allowed only with `accept_sessionless`, then checked
    /// against the jti denylist and the user's not-before epoch.
    pub(super) fn check_sessionless(&self, claims: &Claims) -> Result<()> {
        if !self.accept_sessionless {
            return Err(Error::SessionRequired);
        }
        // A sessionless token may live no longer than keyfob's own longest token: `revoke_user`
        // remembers its cut-off exactly that long, so a longer-lived token could outlive it.
        let issued = claims.iat().unwrap_or_else(|| self.clock.now());
        if claims.exp()
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
            if claims.iat().unwrap_or(i64::MIN) <= epoch {
                return Err(Error::Revoked);
            }
        }
        Ok(())
    }

    /// What `validate` does to the session: slide it, unless `touch_on_validate` is off.
    pub(super) fn validate_check(&self) -> SessionCheck {
        if self.touch_on_validate {
            SessionCheck::Touch
        } else {
            SessionCheck::Peek
        }
    }

    /// The longest lifetime of any token this engine mints.
    pub(super) fn longest_lifetime(&self) -> i64 {
        self.access_lifetime
            .max(self.refresh_lifetime)
            .max(self.sliding_lifetime)
    }

    /// An empty user id is allowed, as simplejwt issues tokens for a user whose id field is
    /// empty; `revoke_user` still refuses one.
    pub(super) fn check_login_args(&self, extra: Option<&Map<String, Value>>) -> Result<()> {
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
}
