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
        let (refresh, access) =
            self.mint_refresh_and_access(&grant, session.current_jti, now, now)?;
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

    /// The refresh token `jti`, issued at `iat`, and a new access token at `now`, for one
    /// grant: minted together, so their signatures are computed side by side.
    pub(super) fn mint_refresh_and_access(
        &self,
        grant: &Grant<'_>,
        jti: Id,
        iat: i64,
        now: i64,
    ) -> Result<(String, String)> {
        let refresh = refresh_fields(grant, jti, iat);
        let access = self.access_fields(now, grant)?;
        self.with_payloads(|refresh_buf, access_buf| {
            self.write_payload(refresh_buf, &refresh, grant);
            self.write_payload(access_buf, &access, grant);
            self.jws.sign_two(refresh_buf, access_buf)
        })
    }

    /// A new access token at `now`.
    pub(super) fn mint_access(&self, now: i64, grant: &Grant<'_>) -> Result<String> {
        self.mint(&self.access_fields(now, grant)?, grant)
    }

    /// A new sliding token at `now`, refreshable until the grant ends.
    pub(super) fn mint_sliding(&self, now: i64, grant: &Grant<'_>) -> Result<String> {
        let fields =
            self.new_token_fields(TokenType::Sliding, now, self.sliding_lifetime, grant)?;
        self.mint(&fields, grant)
    }

    /// The members of a new access token at `now`.
    fn access_fields<'g>(&self, now: i64, grant: &Grant<'g>) -> Result<PayloadFields<'g>> {
        self.new_token_fields(TokenType::Access, now, self.access_lifetime, grant)
    }

    /// The members of a new `kind` token at `now` (access or sliding), with a fresh jti,
    /// living `lifetime` seconds but not past the grant; a sliding token also carries when
    /// the grant ends.
    fn new_token_fields<'g>(
        &self,
        kind: TokenType,
        now: i64,
        lifetime: i64,
        grant: &Grant<'g>,
    ) -> Result<PayloadFields<'g>> {
        Ok(PayloadFields {
            kind,
            exp: now.saturating_add(lifetime).min(grant.ends),
            iat: now,
            jti: Id::random()?,
            user_id: grant.user_id,
            sid: grant.sid,
            refresh_exp: (kind == TokenType::Sliding).then_some(grant.ends),
        })
    }

    /// Write the payload in a fixed order (so re-minting is byte-identical) and sign it.
    fn mint(&self, fields: &PayloadFields<'_>, grant: &Grant<'_>) -> Result<String> {
        self.with_payloads(|buf, _| {
            self.write_payload(buf, fields, grant);
            self.jws.sign(buf)
        })
    }

    /// Run `f` with two empty payload buffers: this thread's, reused, so minting allocates
    /// only the tokens.
    fn with_payloads<R>(&self, f: impl FnOnce(&mut Vec<u8>, &mut Vec<u8>) -> R) -> R {
        thread_local! {
            static PAYLOADS: RefCell<[Vec<u8>; 2]> = const {
                RefCell::new([Vec::new(), Vec::new()])
            };
        }
        let mut f = Some(f);
        let reused = PAYLOADS.try_with(|cell| {
            let mut bufs = cell.try_borrow_mut().ok()?;
            let [a, b] = &mut *bufs;
            a.clear();
            b.clear();
            let out = f.take().map(|f| f(a, b));
            // A token with large extra claims does not pin its buffer to the thread.
            for buf in bufs.iter_mut().filter(|buf| buf.capacity() > 4096) {
                *buf = Vec::new();
            }
            out
        });
        match (reused, f) {
            (Ok(Some(out)), _) => out,
            // Thread teardown, or a mint inside a mint: buffers of its own.
            (_, Some(f)) => f(&mut Vec::with_capacity(256), &mut Vec::with_capacity(256)),
            (_, None) => unreachable!("`f` ran, and its result was returned"),
        }
    }

    /// Write the payload of `fields` (and the grant's claims) into `buf`.
    fn write_payload(&self, buf: &mut Vec<u8>, fields: &PayloadFields<'_>, grant: &Grant<'_>) {
        if grant.cnf.is_none() && grant.extra.map_or(true, |e| e.is_empty()) {
            self.template.write(buf, fields);
            return;
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
    }
}

/// The members of the refresh token `jti`, issued at `iat`, living until the grant ends.
fn refresh_fields<'g>(grant: &Grant<'g>, jti: Id, iat: i64) -> PayloadFields<'g> {
    PayloadFields {
        kind: TokenType::Refresh,
        exp: grant.ends,
        iat,
        jti,
        user_id: grant.user_id,
        sid: grant.sid,
        refresh_exp: None,
    }
}
