//! Minting: starting a session (at login, or upgrading a sessionless refresh token) and
//! writing its tokens. Every payload is written in one fixed
//! order, so re-minting the same claims gives the same bytes (what lets concurrent refreshes
//! converge on one refresh token).

use std::cell::RefCell;

use base64_simd::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::{Engine, TokenPair};
use crate::claims::{key, Claims, PayloadFields, PayloadWriter, TokenType};
use crate::error::{Error, Result};
use crate::session::{ClientBinding, Id, Session, SessionDetails, SessionMeta};
use crate::store::SessionStore;

/// What every token minted for one session (or one sessionless refresh) carries.
#[derive(Clone, Copy)]
pub(super) struct Grant<'a> {
    pub user_id: &'a str,
    /// The session; `None` for a sessionless token refreshed without rotation.
    pub sid: Option<Id>,
    /// No token outlives this moment: the session's absolute deadline (or the sliding
    /// token's refresh deadline, or the sessionless token's own expiry).
    pub ends: i64,
    pub extra: Option<&'a Map<String, Value>>,
    /// The DPoP key thumbprint the tokens are bound to (`cnf.jkt`).
    pub cnf: Option<[u8; 32]>,
}

impl Engine {
    /// A new session for `user_id` at `now`, bound to `binding`, ending by `ends_by` at the
    /// latest (a sessionless token upgraded to a session keeps its own expiry). Not stored yet.
    pub(super) fn new_session(
        &self,
        user_id: &str,
        now: i64,
        binding: ClientBinding,
        ends_by: Option<i64>,
    ) -> Result<Session> {
        let sid = self.store.new_session_id(now)?;
        let mut session = Session::new(
            sid,
            user_id.to_owned(),
            Id::random()?,
            now,
            self.idle_timeout,
            self.refresh_lifetime,
        );
        if let Some(end) = ends_by {
            session.absolute_deadline = session
                .absolute_deadline
                .min(end)
                .max(now.saturating_add(1));
            session.idle_deadline = session.idle_deadline.min(session.absolute_deadline);
        }
        session.binding = binding;
        Ok(session)
    }

    /// Start a session: mint its first refresh and access tokens, then store it with `meta`
    /// and `extra` as its claims; then apply the per-user cap and tell the event handler.
    pub(super) fn start_session(
        &self,
        user_id: &str,
        extra: Option<&Map<String, Value>>,
        now: i64,
        binding: ClientBinding,
        ends_by: Option<i64>,
        meta: SessionMeta,
    ) -> Result<TokenPair> {
        let session = self.new_session(user_id, now, binding, ends_by)?;
        let sid = session.sid;
        let grant = Grant {
            user_id,
            sid: Some(sid),
            ends: session.absolute_deadline,
            extra,
            cnf: binding.jkt,
        };
        let refresh = self.mint_refresh(&grant, session.current_jti, now)?;
        let access = self.mint_access(now, &grant)?;
        let details = SessionDetails {
            meta,
            claims: extra.cloned().unwrap_or_default(),
        };
        if self.listening() {
            let kept = details.clone();
            self.store.create_with(session, details, now)?;
            self.after_login(user_id, sid, now, Some(&kept))?;
        } else {
            self.store.create_with(session, details, now)?;
            self.after_login(user_id, sid, now, None)?;
        }
        Ok(TokenPair {
            access,
            refresh: Some(refresh),
            session_id: sid.to_hex_string(),
        })
    }

    /// A refresh token minted without a session (by simplejwt, before a migration), accepted
    /// because `accept_sessionless`: it is upgraded to a session ending when the token would
    /// have, and, rotating, its jti is denied so it cannot be used twice.
    pub(super) fn refresh_sessionless(&self, claims: &Claims, now: i64) -> Result<TokenPair> {
        self.check_sessionless(claims)?;
        if !self.rotate_refresh {
            let grant = Grant {
                user_id: claims.user_id(),
                sid: None,
                ends: claims.exp(),
                extra: Some(claims.extra()),
                cnf: None,
            };
            return Ok(TokenPair {
                access: self.mint_access(now, &grant)?,
                refresh: None,
                session_id: String::new(),
            });
        }
        // One atomic check-and-deny: two racing refreshes cannot both upgrade the token.
        let until = claims.exp().saturating_add(self.leeway);
        if !self.store.deny_jti(claims.jti(), until, now)? {
            return Err(Error::ReuseDetected);
        }
        self.start_session(
            claims.user_id(),
            Some(claims.extra()),
            now,
            ClientBinding::default(),
            Some(claims.exp()),
            SessionMeta::default(),
        )
    }

    /// The refresh token `jti`, issued at `iat`, living until the grant ends.
    pub(super) fn mint_refresh(&self, grant: &Grant<'_>, jti: Id, iat: i64) -> Result<String> {
        self.mint(
            &PayloadFields {
                kind: TokenType::Refresh,
                exp: grant.ends,
                iat,
                jti,
                user_id: grant.user_id,
                sid: grant.sid,
                refresh_exp: None,
            },
            grant,
        )
    }

    /// A new access token at `now`.
    pub(super) fn mint_access(&self, now: i64, grant: &Grant<'_>) -> Result<String> {
        self.mint(
            &PayloadFields {
                kind: TokenType::Access,
                exp: now.saturating_add(self.access_lifetime).min(grant.ends),
                iat: now,
                jti: Id::random()?,
                user_id: grant.user_id,
                sid: grant.sid,
                refresh_exp: None,
            },
            grant,
        )
    }

    /// A new sliding token at `now`, refreshable until the grant ends.
    pub(super) fn mint_sliding(&self, now: i64, grant: &Grant<'_>) -> Result<String> {
        self.mint(
            &PayloadFields {
                kind: TokenType::Sliding,
                exp: now.saturating_add(self.sliding_lifetime).min(grant.ends),
                iat: now,
                jti: Id::random()?,
                user_id: grant.user_id,
                sid: grant.sid,
                refresh_exp: Some(grant.ends),
            },
            grant,
        )
    }

    /// Write the payload in a fixed order (so re-minting is byte-identical) and sign it.
    fn mint(&self, fields: &PayloadFields<'_>, grant: &Grant<'_>) -> Result<String> {
        thread_local! {
            /// The payload being minted: reused, so minting allocates only the token.
            static PAYLOAD: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
        }
        let reused = PAYLOAD.try_with(|cell| {
            let mut buf = cell.try_borrow_mut().ok()?;
            buf.clear();
            let token = self.mint_into(&mut buf, fields, grant);
            // A token with large extra claims does not pin its buffer to the thread.
            if buf.capacity() > 4096 {
                *buf = Vec::new();
            }
            Some(token)
        });
        match reused {
            Ok(Some(token)) => token,
            // Thread teardown, or a mint inside a mint: a buffer of its own.
            _ => self.mint_into(&mut Vec::with_capacity(256), fields, grant),
        }
    }

    fn mint_into(
        &self,
        buf: &mut Vec<u8>,
        fields: &PayloadFields<'_>,
        grant: &Grant<'_>,
    ) -> Result<String> {
        if grant.cnf.is_none() && grant.extra.map_or(true, |e| e.is_empty()) {
            self.template.write(buf, fields);
            return self.jws.sign(buf);
        }
        let mut w = PayloadWriter::new(buf);
        fields.write_members(&mut w, &self.names);
        if let Some(iss) = &self.issuer {
            w.str(key::ISS, iss);
        }
        if let Some(aud) = &self.audience {
            w.str(key::AUD, aud);
        }
        if let Some(jkt) = grant.cnf {
            w.value(
                "cnf",
                &serde_json::json!({ "jkt": URL_SAFE_NO_PAD.encode_to_string(jkt) }),
            );
        }
        if let Some(extra) = grant.extra {
            for (k, v) in extra {
                // A bound token's extra claims hold the `cnf` it was minted with: written above.
                if grant.cnf.is_none() || k != "cnf" {
                    w.value(k, v);
                }
            }
        }
        w.finish();
        self.jws.sign(buf)
    }
}
