//! Simplejwt's single-token mode: a sliding token bound to a session, minted at login and
//! renewed while the session lives.

use serde_json::{Map, Value};

use super::events::{About, EventKind};
use super::mint::Grant;
use super::{Engine, SlidingToken};
use crate::claims::TokenType;
use crate::error::{Error, Result};
use crate::metrics::Op;
use crate::session::{BindingCheck, ClientBinding, SessionDetails};
use crate::store::SessionStore;

impl Engine {
    /// Log in with one sliding token (simplejwt's `SlidingToken`), bound to a new session.
    ///
    /// ```
    /// use keyfob::{Config, Engine};
    ///
    /// let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!")).unwrap();
    /// let sliding = engine.login_sliding("alice", None).unwrap();
    /// assert_eq!(engine.validate_sliding(&sliding.token).unwrap().user_id(), "alice");
    /// let renewed = engine.refresh_sliding(&sliding.token).unwrap();
    /// assert_eq!(renewed.session_id, sliding.session_id);
    /// ```
    pub fn login_sliding(
        &self,
        user_id: &str,
        extra: Option<&Map<String, Value>>,
    ) -> Result<SlidingToken> {
        let result = self.login_sliding_inner(user_id, extra);
        self.metrics.count(Op::Login, &result);
        result
    }

    fn login_sliding_inner(
        &self,
        user_id: &str,
        extra: Option<&Map<String, Value>>,
    ) -> Result<SlidingToken> {
        self.check_login_args(extra)?;
        let now = self.clock.now();
        let session = self.new_session(user_id, now, ClientBinding::default(), None)?;
        let sid = session.sid;
        let token = self.mint_sliding(
            now,
            &Grant {
                user_id,
                sid: Some(sid),
                ends: session.absolute_deadline,
                extra,
                cnf: None,
            },
        )?;
        let details = SessionDetails {
            claims: extra.cloned().unwrap_or_default(),
            ..SessionDetails::default()
        };
        self.store.create_with(session, details, now)?;
        self.after_login(user_id, sid, now, None)?;
        Ok(SlidingToken {
            token,
            session_id: sid.to_hex_string(),
        })
    }

    /// Renew an unexpired sliding token whose session is alive; slides the session.
    pub fn refresh_sliding(&self, token: impl AsRef<[u8]>) -> Result<SlidingToken> {
        let token = token.as_ref();
        let result = self.refresh_sliding_bytes(token);
        self.metrics.count(Op::Refresh, &result);
        result
    }

    fn refresh_sliding_bytes(&self, token: &[u8]) -> Result<SlidingToken> {
        let now = self.clock.now();
        let claims = self.check_claims(token, Some(TokenType::Sliding), now)?;
        let refresh_exp = claims
            .refresh_exp()
            .ok_or_else(|| Error::MissingClaim("refresh_exp".into()))?;
        if refresh_exp <= now.saturating_sub(self.leeway) {
            return Err(Error::Expired);
        }
        let sid = claims.session_id()?.ok_or(Error::SessionRequired)?;
        // Sliding sessions are never bound; the check still refuses a bound one.
        let touched = self.store.touch(
            sid,
            now,
            self.idle_timeout,
            true,
            Some(&BindingCheck::default()),
        );
        if let Err(e) = touched {
            self.emit_failure(Some(sid), claims.user_id(), &e);
            return Err(e);
        }
        let current = self.store.session_claims(sid)?;
        let token = self.mint_sliding(
            now,
            &Grant {
                user_id: claims.user_id(),
                sid: Some(sid),
                ends: refresh_exp,
                extra: current.as_ref().or(Some(claims.extra())),
                cnf: None,
            },
        )?;
        self.emit(
            EventKind::Refresh,
            About {
                sid: Some(sid),
                user_id: Some(claims.user_id()),
                reason: None,
                details: None,
            },
        );
        Ok(SlidingToken {
            token,
            session_id: sid.to_hex_string(),
        })
    }
}
