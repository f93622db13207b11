//! The engine's view of its store: every call passes through, and its latency goes into the
//! engine's metrics (the frequent calls sampled, see [`crate::metrics::LATENCY_SAMPLE`]).

use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use super::{RevokeOutcome, RotateOutcome, SessionStore, Stats, StoredSession};
use crate::error::Result;
use crate::metrics::{sample_this_call, NearCacheStats, Recorder, StoreOp};
use crate::session::{BindingCheck, Id, Session, SessionDetails};

pub(crate) struct TimedStore {
    inner: Arc<dyn SessionStore>,
    recorder: Arc<Recorder>,
}

impl TimedStore {
    pub(crate) fn new(inner: Arc<dyn SessionStore>, recorder: Arc<Recorder>) -> TimedStore {
        TimedStore { inner, recorder }
    }

    #[inline(always)]
    fn timed<T>(&self, op: StoreOp, call: impl FnOnce(&dyn SessionStore) -> T) -> T {
        if op.is_frequent() && !sample_this_call() {
            return call(&*self.inner);
        }
        let start = Instant::now();
        let out = call(&*self.inner);
        self.recorder.time(op, start.elapsed());
        out
    }
}

impl SessionStore for TimedStore {
    fn new_session_id(&self, now: i64) -> Result<Id> {
        self.timed(StoreOp::NewSessionId, |s| s.new_session_id(now))
    }

    #[inline(always)]
    fn prefetch(&self, sid: Id) {
        self.inner.prefetch(sid)
    }

    fn create(&self, session: Session, now: i64) -> Result<()> {
        self.timed(StoreOp::Create, |s| s.create(session, now))
    }

    fn create_with(&self, session: Session, details: SessionDetails, now: i64) -> Result<()> {
        self.timed(StoreOp::Create, |s| s.create_with(session, details, now))
    }

    fn get(&self, sid: Id) -> Result<Option<Session>> {
        self.timed(StoreOp::Get, |s| s.get(sid))
    }

    fn details(&self, sid: Id) -> Result<Option<SessionDetails>> {
        self.timed(StoreOp::Details, |s| s.details(sid))
    }

    fn session_claims(&self, sid: Id) -> Result<Option<Map<String, Value>>> {
        self.timed(StoreOp::SessionClaims, |s| s.session_claims(sid))
    }

    fn user_sessions(&self, user_id: &str, now: i64) -> Result<Vec<StoredSession>> {
        self.timed(StoreOp::UserSessions, |s| s.user_sessions(user_id, now))
    }

    fn update_claims(
        &self,
        sid: Id,
        changes: &Map<String, Value>,
        now: i64,
    ) -> Result<Map<String, Value>> {
        self.timed(StoreOp::UpdateClaims, |s| {
            s.update_claims(sid, changes, now)
        })
    }

    #[inline(always)]
    fn touch(
        &self,
        sid: Id,
        now: i64,
        idle_timeout: i64,
        slide: bool,
        presented: Option<&BindingCheck>,
    ) -> Result<()> {
        self.timed(StoreOp::Touch, |s| {
            s.touch(sid, now, idle_timeout, slide, presented)
        })
    }

    fn rotate(
        &self,
        sid: Id,
        presented: Id,
        next: Id,
        now: i64,
        idle_timeout: i64,
        grace: i64,
        binding: &BindingCheck,
    ) -> Result<RotateOutcome> {
        self.timed(StoreOp::Rotate, |s| {
            s.rotate(sid, presented, next, now, idle_timeout, grace, binding)
        })
    }

    fn revoke_session(&self, sid: Id) -> Result<RevokeOutcome> {
        self.timed(StoreOp::RevokeSession, |s| s.revoke_session(sid))
    }

    fn revoke_user(&self, user_id: &str, now: i64, remember_until: i64) -> Result<usize> {
        self.timed(StoreOp::RevokeUser, |s| {
            s.revoke_user(user_id, now, remember_until)
        })
    }

    fn revoke_user_except(
        &self,
        user_id: &str,
        keep: Option<Id>,
        now: i64,
        remember_until: i64,
    ) -> Result<Vec<Id>> {
        self.timed(StoreOp::RevokeUser, |s| {
            s.revoke_user_except(user_id, keep, now, remember_until)
        })
    }

    fn user_not_before(&self, user_id: &str) -> Result<Option<i64>> {
        self.timed(StoreOp::UserNotBefore, |s| s.user_not_before(user_id))
    }

    fn deny_jti(&self, jti: &str, until: i64, now: i64) -> Result<bool> {
        self.timed(StoreOp::DenyJti, |s| s.deny_jti(jti, until, now))
    }

    fn is_denied(&self, jti: &str) -> Result<bool> {
        self.timed(StoreOp::IsDenied, |s| s.is_denied(jti))
    }

    fn remember_proof(&self, proof_id: &str, until: i64, now: i64) -> Result<bool> {
        self.timed(StoreOp::RememberProof, |s| {
            s.remember_proof(proof_id, until, now)
        })
    }

    fn sweep(&self, now: i64) -> Result<usize> {
        self.timed(StoreOp::Sweep, |s| s.sweep(now))
    }

    fn stats(&self) -> Result<Stats> {
        self.inner.stats()
    }

    fn live_sessions(&self, now: i64) -> Result<usize> {
        self.inner.live_sessions(now)
    }

    fn near_cache(&self) -> Option<NearCacheStats> {
        self.inner.near_cache()
    }
}
