//! Sessions as the application sees them: a login with metadata, the list of a user's
//! sessions, one session, ending all of a user's sessions but one, changing a session's
//! claims, and the per-user cap. Also the engine's metrics.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::events::{About, EventKind, RevokeReason};
use super::{parse_session_id, Engine, Presentation, TokenPair};
use crate::error::{Error, Result};
use crate::metrics::{Metrics, Op};
use crate::session::{self, Id, Session, SessionDetails, SessionMeta};
use crate::store::{RevokeOutcome, SessionStore, StoredSession};

/// What a login may say besides the user and the extra claims, for [`Engine::login_with`].
///
/// ```
/// use keyfob::{Config, Engine, LoginOptions};
///
/// let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!")).unwrap();
/// let options = LoginOptions::default()
///     .with_label("Firefox on macOS")
///     .with_ip("203.0.113.7".parse().unwrap())
///     .with_user_agent("Mozilla/5.0");
/// let pair = engine.login_with("alice", None, &options).unwrap();
/// let info = engine.session(&pair.session_id).unwrap().unwrap();
/// assert_eq!(info.label.as_deref(), Some("Firefox on macOS"));
/// ```
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct LoginOptions<'a> {
    /// Metadata kept with the session.
    pub meta: SessionMeta,
    /// The client the session is bound to (see [`Engine::login_bound`]).
    pub presentation: Presentation<'a>,
}

impl<'a> LoginOptions<'a> {
    /// With this metadata.
    pub fn with_meta(mut self, meta: SessionMeta) -> Self {
        self.meta = meta;
        self
    }

    /// With a client label ("Firefox on macOS").
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.meta.label = Some(label.into());
        self
    }

    /// With the address the login came from.
    pub fn with_ip(mut self, ip: IpAddr) -> Self {
        self.meta.ip = Some(ip);
        self
    }

    /// With the login request's user agent.
    pub fn with_user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.meta.user_agent = Some(user_agent.into());
        self
    }

    /// With the application's own data (a JSON object, bounded).
    pub fn with_data(mut self, data: Map<String, Value>) -> Self {
        self.meta.data = data;
        self
    }

    /// Bound to the client `presentation` shows.
    pub fn with_presentation(mut self, presentation: Presentation<'a>) -> Self {
        self.presentation = presentation;
        self
    }
}

/// A live session, from [`Engine::sessions`] and [`Engine::session`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SessionInfo {
    /// The session id (32 hex digits).
    pub session_id: String,
    /// Its user.
    pub user_id: String,
    /// Login time (Unix seconds).
    pub created_at: i64,
    /// The last activity, as coarse as the idle deadline's slide (which moves at most once a
    /// second): `idle_deadline - idle_timeout`. Once the idle deadline has reached the
    /// absolute deadline it moves no more, and this reads `absolute_deadline - idle_timeout`.
    pub last_seen: i64,
    /// The session ends at this moment unless activity moves it.
    pub idle_deadline: i64,
    /// The session ends at this moment whatever happens.
    pub absolute_deadline: i64,
    /// The client label given at login.
    pub label: Option<String>,
    /// The address the login came from.
    pub ip: Option<IpAddr>,
    /// The user agent of the login.
    pub user_agent: Option<String>,
    /// The application's own data given at login.
    pub data: Map<String, Value>,
    /// The claims the session's next tokens carry.
    pub claims: Map<String, Value>,
}

impl SessionInfo {
    /// As a JSON object with the field names above (`ip` as text, absent values `null`):
    /// what the C ABI hands out.
    pub fn to_json(&self) -> Value {
        serde_json::json!({
            "session_id": self.session_id,
            "user_id": self.user_id,
            "created_at": self.created_at,
            "last_seen": self.last_seen,
            "idle_deadline": self.idle_deadline,
            "absolute_deadline": self.absolute_deadline,
            "label": self.label,
            "ip": self.ip.map(|ip| ip.to_string()),
            "user_agent": self.user_agent,
            "data": self.data,
            "claims": self.claims,
        })
    }
}

impl Engine {
    /// Log `user_id` in with `options`: metadata kept with the session (label, IP, user
    /// agent, the application's data; checked against [`SessionMeta::check`]'s bounds) and
    /// the client to bind it to. With `max_sessions_per_user`, the user's oldest sessions
    /// past the cap end (reason `cap`).
    pub fn login_with(
        &self,
        user_id: &str,
        extra: Option<&Map<String, Value>>,
        options: &LoginOptions<'_>,
    ) -> Result<TokenPair> {
        let result = self.login_inner(user_id, extra, options);
        self.metrics.count(Op::Login, &result);
        result
    }

    fn login_inner(
        &self,
        user_id: &str,
        extra: Option<&Map<String, Value>>,
        options: &LoginOptions<'_>,
    ) -> Result<TokenPair> {
        self.check_login_args(extra)?;
        options.meta.check()?;
        let now = self.clock.now();
        let binding = self
            .login_binding(&options.presentation, extra, now)
            .map_err(|e| {
                self.emit_failure(None, user_id, &e);
                e
            })?;
        self.start_session(user_id, extra, now, binding, None, options.meta.clone())
    }

    /// After a session is stored: end the user's oldest sessions past the cap, then tell
    /// the handler. Two logins racing past the cap may each end one session.
    pub(super) fn after_login(
        &self,
        user_id: &str,
        sid: Id,
        now: i64,
        details: Option<&SessionDetails>,
    ) -> Result<()> {
        let mut ended = Vec::new();
        if let Some(cap) = self.max_sessions_per_user {
            let mut others: Vec<Session> = self
                .store
                .user_sessions(user_id, now)?
                .into_iter()
                .map(|s| s.session)
                .filter(|s| s.sid != sid)
                .collect();
            if others.len() >= cap {
                others.sort_by_key(|s| (s.created_at, s.sid));
                for old in &others[..others.len() + 1 - cap] {
                    if self.store.revoke_session(old.sid)? == RevokeOutcome::Revoked {
                        ended.push(old.sid);
                    }
                }
            }
        }
        if self.listening() {
            self.emit(
                EventKind::Login,
                About {
                    sid: Some(sid),
                    user_id: Some(user_id),
                    reason: None,
                    details,
                },
            );
            for old in ended {
                self.emit(
                    EventKind::SessionRevoked,
                    About {
                        sid: Some(old),
                        user_id: Some(user_id),
                        reason: Some(RevokeReason::Cap),
                        details: None,
                    },
                );
            }
        }
        Ok(())
    }

    /// The user's live sessions, newest first (by login time; sessions of the same second
    /// in a stable order).
    pub fn sessions(&self, user_id: &str) -> Result<Vec<SessionInfo>> {
        let result = self.sessions_inner(user_id);
        self.metrics.count(Op::Sessions, &result);
        result
    }

    fn sessions_inner(&self, user_id: &str) -> Result<Vec<SessionInfo>> {
        let now = self.clock.now();
        let mut list = self.store.user_sessions(user_id, now)?;
        list.sort_by_key(|s| std::cmp::Reverse((s.session.created_at, s.session.sid)));
        Ok(list.into_iter().map(|s| self.info(s)).collect())
    }

    /// One live session by id; `None` when it is unknown or no longer alive.
    pub fn session(&self, session_id: &str) -> Result<Option<SessionInfo>> {
        let result = self.session_inner(session_id);
        self.metrics.count(Op::Session, &result);
        result
    }

    fn session_inner(&self, session_id: &str) -> Result<Option<SessionInfo>> {
        let sid = parse_session_id(session_id)?;
        let Some(session) = self.store.get(sid)? else {
            return Ok(None);
        };
        if session.check_alive(self.clock.now()).is_err() {
            return Ok(None);
        }
        let details = self.store.details(sid)?.unwrap_or_default();
        Ok(Some(self.info(StoredSession { session, details })))
    }

    /// Revoke every session of a user but `keep` (a session id: "sign out my other
    /// devices"), and every sessionless token issued to them until now. Returns how many
    /// sessions were revoked.
    pub fn revoke_user_except(&self, user_id: &str, keep: Option<&str>) -> Result<usize> {
        let result = self.revoke_user_inner(user_id, keep);
        self.metrics.count(Op::RevokeUser, &result);
        result
    }

    fn revoke_user_inner(&self, user_id: &str, keep: Option<&str>) -> Result<usize> {
        if user_id.is_empty() {
            return Err(Error::InvalidArgument("user_id must not be empty".into()));
        }
        let keep = keep.map(parse_session_id).transpose()?;
        let now = self.clock.now();
        let until = now
            .saturating_add(self.longest_lifetime())
            .saturating_add(self.leeway);
        let revoked = self.store.revoke_user_except(user_id, keep, now, until)?;
        if self.listening() {
            for &sid in &revoked {
                self.emit(
                    EventKind::SessionRevoked,
                    About {
                        sid: Some(sid),
                        user_id: Some(user_id),
                        reason: Some(RevokeReason::RevokeUser),
                        details: None,
                    },
                );
            }
        }
        Ok(revoked.len())
    }

    /// Merge `claims` into the session's claims (a `null` value removes one). The session's
    /// next refresh mints them into its tokens; with `session_claims_on_validate`,
    /// `validate` returns them at once. Reserved claim names, `claims` over
    /// [`MAX_DATA_BYTES`](crate::session::MAX_DATA_BYTES) and a merge over
    /// [`MAX_CLAIMS_BYTES`](crate::session::MAX_CLAIMS_BYTES) (both as JSON) are refused; an
    /// unknown or ended session is `session_unknown` / `revoked` / `session_idle` /
    /// `session_expired`.
    pub fn update_session(&self, session_id: &str, claims: &Map<String, Value>) -> Result<()> {
        let result = self.update_session_inner(session_id, claims);
        self.metrics.count(Op::UpdateSession, &result);
        result
    }

    fn update_session_inner(&self, session_id: &str, claims: &Map<String, Value>) -> Result<()> {
        let sid = parse_session_id(session_id)?;
        self.check_login_args(Some(claims))?;
        session::meta::check_json_size("claims", claims)?;
        self.store.update_claims(sid, claims, self.clock.now())?;
        Ok(())
    }

    /// A snapshot of the engine's counters, the store's latency, live sessions and (when the
    /// store has one) its near cache's counts. `live_sessions` is 0 when the store cannot
    /// be reached.
    pub fn metrics(&self) -> Metrics {
        let live = self
            .store
            .live_sessions(self.clock.now())
            .map_or(0, |n| n as u64);
        self.metrics.snapshot(live, self.store.near_cache())
    }

    fn info(&self, s: StoredSession) -> SessionInfo {
        let StoredSession { session, details } = s;
        let SessionMeta {
            label,
            ip,
            user_agent,
            data,
        } = details.meta;
        SessionInfo {
            session_id: session.sid.to_hex_string(),
            last_seen: last_seen(&session, self.idle_timeout),
            user_id: session.user_id,
            created_at: session.created_at,
            idle_deadline: session.idle_deadline,
            absolute_deadline: session.absolute_deadline,
            label,
            ip,
            user_agent,
            data,
            claims: details.claims,
        }
    }
}

/// When the idle deadline last moved: it is always `min(activity + idle_timeout, absolute)`.
fn last_seen(s: &Session, idle_timeout: i64) -> i64 {
    s.idle_deadline
        .saturating_sub(idle_timeout)
        .max(s.created_at)
}
