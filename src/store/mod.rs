//! Where sessions live: the [`SessionStore`] seam and its stores, [`MemoryStore`] (the default,
//! in this process) and `RedisStore` (feature `redis`, shared by every process).
//!
//! Most programs never name a store: `config.store` picks one. Give one to
//! [`EngineBuilder::store`](crate::EngineBuilder::store) to share it between engines. The
//! rest of this module is for writing a store: operations are semantic — each one is a single
//! atomic step that a shared store (Redis: one Lua script) can implement as such. The engine
//! knows nothing of how a store keeps its data; the rules themselves live in
//! [`crate::session`].

mod memory;
#[cfg(feature = "redis")]
mod redis;
#[cfg(test)]
mod reference;

#[cfg(feature = "redis")]
pub use self::redis::RedisStore;
pub use memory::MemoryStore;

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::metrics::NearCacheStats;
use crate::session::{BindingCheck, Id, Session, SessionDetails};

mod timed;

pub(crate) use timed::TimedStore;

/// The store `config.store` names: `"memory"`, or a Redis URL (feature `redis`).
pub(crate) fn from_config(config: &Config) -> Result<Arc<dyn SessionStore>> {
    if config.store == "memory" {
        return Ok(Arc::new(MemoryStore::try_new()?));
    }
    #[cfg(feature = "redis")]
    if crate::config::is_redis_url(&config.store) {
        return Ok(Arc::new(RedisStore::from_config(config)?));
    }
    Err(Error::Config("store: unsupported store".into()))
}

/// Outcome of a successful [`SessionStore::rotate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token was current; `next` is now current.
    Rotated {
        /// The session's absolute deadline.
        absolute_deadline: i64,
        /// The session's claims ([`SessionDetails::claims`]) when the store keeps any;
        /// `None`: the tokens carry on with the claims they were minted with.
        claims: Option<Map<String, Value>>,
    },
    /// The presented token was the previous one, inside the grace window.
    Converged {
        /// The current refresh token's jti, to be re-minted.
        current_jti: Id,
        /// The current refresh token's `iat`.
        current_iat: i64,
        /// The session's absolute deadline.
        absolute_deadline: i64,
        /// As for `Rotated`.
        claims: Option<Map<String, Value>>,
    },
}

/// A live session and what the store keeps beside it, from [`SessionStore::user_sessions`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    /// The session's state.
    pub session: Session,
    /// Its metadata and claims.
    pub details: SessionDetails,
}

/// What a store that cannot keep session details answers to the calls that need them.
fn details_unsupported() -> Error {
    Error::InvalidArgument("this session store keeps no session details".into())
}

/// Outcome of [`SessionStore::revoke_session`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeOutcome {
    /// The session was live and is now revoked.
    Revoked,
    /// The session had been revoked before.
    AlreadyRevoked,
    /// No such session (never existed, or swept after it ended).
    Unknown,
}

/// Counts a store reports, from [`Engine::stats`](crate::Engine::stats).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Sessions held (live or revoked, not yet swept).
    pub sessions: usize,
    /// Of those, revoked.
    pub revoked_sessions: usize,
    /// Denied token ids (sessionless tokens revoked before their expiry).
    pub denied_jtis: usize,
    /// Users with a not-before epoch.
    pub user_epochs: usize,
}

/// Where sessions, the jti denylist and per-user epochs live. Every method is one atomic step.
pub trait SessionStore: Send + Sync + 'static {
    /// An id for a session about to be created at `now`, with at least 96 bits from the OS
    /// random source. The default is [`Id::random`]. A store may encode where it will keep
    /// the session in the remaining bits (and hold that place until `create` or a sweep);
    /// `create` must still accept any id.
    fn new_session_id(&self, now: i64) -> Result<Id> {
        let _ = now;
        Id::random()
    }

    /// A hint that `sid` is about to be looked up (its token's signature is being checked):
    /// start loading it. It must not change any result; by default it does nothing.
    fn prefetch(&self, _sid: Id) {}

    /// Insert a new session.
    fn create(&self, session: Session, now: i64) -> Result<()>;

    /// Insert a new session with its details (kept away from what `touch` reads). The
    /// default drops the details: for a store written before they existed.
    fn create_with(&self, session: Session, details: SessionDetails, now: i64) -> Result<()> {
        let _ = details;
        self.create(session, now)
    }

    /// A session's details, if the store holds the session.
    fn details(&self, sid: Id) -> Result<Option<SessionDetails>> {
        let _ = sid;
        Ok(None)
    }

    /// The session's claims ([`SessionDetails::claims`]), if the store keeps any for it.
    fn session_claims(&self, sid: Id) -> Result<Option<Map<String, Value>>> {
        Ok(self
            .details(sid)?
            .map(|d| d.claims)
            .filter(|c| !c.is_empty()))
    }

    /// Every session of `user_id` alive at `now` ([`Session::check_alive`]), with its
    /// details, in any order. A shared store finds them through a per-user index, never
    /// by scanning every session.
    fn user_sessions(&self, user_id: &str, now: i64) -> Result<Vec<StoredSession>> {
        let _ = (user_id, now);
        Err(details_unsupported())
    }

    /// Merge `changes` into the session's claims ([`crate::session::merge_claims`]) as one
    /// step, if the session is alive at `now`; returns the claims as they now are. A merge
    /// whose outcome would be over [`crate::session::MAX_CLAIMS_BYTES`] as JSON is refused
    /// (`invalid_argument`) and changes nothing.
    fn update_claims(
        &self,
        sid: Id,
        changes: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>> {
        let _ = (sid, changes, now);
        Err(details_unsupported())
    }

    /// [`SessionStore::revoke_user`], sparing the session `keep`; returns the ids of the
    /// sessions it revoked (live until then).
    fn revoke_user_except(
        &self,
        user_id: &str,
        keep: Option<Id>,
        now: i64,
        remember_until: i64,
    ) -> Result<Vec<Id>> {
        let _ = (user_id, keep, now, remember_until);
        Err(details_unsupported())
    }

    /// How many sessions are alive at `now`. The default counts from [`SessionStore::stats`].
    fn live_sessions(&self, now: i64) -> Result<usize> {
        let _ = now;
        let st = self.stats()?;
        Ok(st.sessions.saturating_sub(st.revoked_sessions))
    }

    /// The counts of a cache in front of the store, when it has one.
    fn near_cache(&self) -> Option<NearCacheStats> {
        None
    }

    /// A copy of a session, if the store holds it.
    fn get(&self, sid: Id) -> Result<Option<Session>>;

    /// Check the session is alive at `now` ([`crate::session::check_alive`]); when `slide`,
    /// move its idle deadline ([`crate::session::slide`]), writing only when it moves.
    /// With `presented`, first check it against the session's binding
    /// ([`crate::session::check_binding`]), revoking when the mismatch says so.
    fn touch(
        &self,
        sid: Id,
        now: i64,
        idle_timeout: i64,
        slide: bool,
        presented: Option<&BindingCheck>,
    ) -> Result<()>;

    /// Apply [`crate::session::decide_rotation`] to `presented` as one compare-and-swap.
    /// A replay (neither current nor previous-in-grace) revokes the session and returns
    /// `reuse_detected` whatever the session's state, so every racing replay hears the same
    /// verdict. Otherwise check alive, then rotate to `next` or converge, sliding the idle
    /// deadline. Before all that, `binding` is checked against the session's binding
    /// ([`crate::session::check_binding`]): a mismatch rotates nothing (and revokes when the
    /// mismatch says so).
    #[allow(clippy::too_many_arguments)]
    fn rotate(
        &self,
        sid: Id,
        presented: Id,
        next: Id,
        now: i64,
        idle_timeout: i64,
        grace: i64,
        binding: &BindingCheck,
    ) -> Result<RotateOutcome>;

    /// Revoke one session.
    fn revoke_session(&self, sid: Id) -> Result<RevokeOutcome>;

    /// Revoke every session of `user_id` and record `now` as the user's not-before epoch,
    /// remembered until `remember_until`. Returns how many sessions were revoked.
    fn revoke_user(&self, user_id: &str, now: i64, remember_until: i64) -> Result<usize>;

    /// The user's not-before epoch: tokens issued at or before it are revoked.
    fn user_not_before(&self, user_id: &str) -> Result<Option<i64>>;

    /// Deny a token id until `until` (its expiry). Returns false when it was denied already,
    /// so "check and deny" is one atomic step.
    fn deny_jti(&self, jti: &str, until: i64, now: i64) -> Result<bool>;

    /// Whether a token id is denied.
    fn is_denied(&self, jti: &str) -> Result<bool>;

    /// Record a DPoP proof id until `until`; false when it was recorded already (a replay).
    /// A store shared between processes records it where every process sees it, so a proof
    /// replayed to another worker is caught. The default, for a store private to one engine,
    /// records nothing: the engine's own bounded replay cache already covers that case.
    fn remember_proof(&self, proof_id: &str, until: i64, now: i64) -> Result<bool> {
        let _ = (proof_id, until, now);
        Ok(true)
    }

    /// Drop everything that can never matter again at `now`; returns how many entries went.
    fn sweep(&self, now: i64) -> Result<usize>;

    /// Current counts.
    fn stats(&self) -> Result<Stats>;
}
