//! The reference store: one mutex around plain maps, applying the [`crate::session`] rules
//! in the most direct way. No speed, no cleverness: the slow twin the memory store is
//! checked against (see the memory store's property test). It keeps everything until
//! `sweep`, which a real store may drop earlier once it can never matter again.

// A loom build runs the sequence-lock model only.
#![cfg_attr(loom, allow(dead_code))]

use std::collections::HashMap;

use parking_lot::Mutex;

use super::{RevokeOutcome, RotateOutcome, SessionStore, Stats};
use crate::error::{Error, Result};
use crate::session::{self, BindingCheck, Id, Rotation, Session};

#[derive(Default)]
pub(crate) struct ReferenceStore {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    sessions: HashMap<Id, Session>,
    /// Denied jti → until.
    denied: HashMap<String, i64>,
    /// User → (not-before epoch, remembered until).
    epochs: HashMap<String, (i64, i64)>,
}

impl ReferenceStore {
    /// The session as the store holds it, without any rule applied.
    pub(crate) fn peek(&self, sid: Id) -> Option<Session> {
        self.state.lock().sessions.get(&sid).cloned()
    }

    /// Every session of `user_id`, as held.
    pub(crate) fn sessions_of(&self, user_id: &str) -> Vec<Session> {
        let state = self.state.lock();
        let of_user = state.sessions.values().filter(|s| s.user_id == user_id);
        of_user.cloned().collect()
    }

    /// The denied jti's `until`, as held.
    pub(crate) fn denied_until(&self, jti: &str) -> Option<i64> {
        self.state.lock().denied.get(jti).copied()
    }

    /// The user's epoch and how long it is remembered, as held.
    pub(crate) fn epoch(&self, user_id: &str) -> Option<(i64, i64)> {
        self.state.lock().epochs.get(user_id).copied()
    }

    /// Drop a session now, as a store may once it is over.
    pub(crate) fn forget(&self, sid: Id) {
        self.state.lock().sessions.remove(&sid);
    }

    /// Drop a denial now, as a store may once it expired.
    pub(crate) fn forget_denied(&self, jti: &str) {
        self.state.lock().denied.remove(jti);
    }

    /// Drop a user's epoch now, as a store may once it is no longer remembered.
    pub(crate) fn forget_epoch(&self, user_id: &str) {
        self.state.lock().epochs.remove(user_id);
    }
}

/// Apply the binding rule to `s`, revoking it when the mismatch says so.
fn check_binding(s: &mut Session, presented: &BindingCheck) -> Result<()> {
    session::check_binding(&s.binding, presented).map_err(|m| {
        if m.revokes(presented) {
            s.revoked = true;
        }
        m.error()
    })
}

fn slide(s: &mut Session, now: i64, idle_timeout: i64) {
    let new = session::slide(now, idle_timeout, s.absolute_deadline);
    if session::touch_needed(s.idle_deadline, new) {
        s.idle_deadline = new;
    }
}

impl SessionStore for ReferenceStore {
    fn new_session_id(&self, _now: i64) -> Result<Id> {
        Id::random()
    }

    fn create(&self, session: Session, _now: i64) -> Result<()> {
        self.state.lock().sessions.insert(session.sid, session);
        Ok(())
    }

    fn get(&self, sid: Id) -> Result<Option<Session>> {
        Ok(self.peek(sid))
    }

    fn touch(
        &self,
        sid: Id,
        now: i64,
        idle_timeout: i64,
        slide_it: bool,
        presented: Option<&BindingCheck>,
    ) -> Result<()> {
        let mut state = self.state.lock();
        let s = state.sessions.get_mut(&sid).ok_or(Error::SessionUnknown)?;
        if let Some(presented) = presented {
            check_binding(s, presented)?;
        }
        s.check_alive(now)?;
        if slide_it {
            slide(s, now, idle_timeout);
        }
        Ok(())
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
        let mut state = self.state.lock();
        let s = state.sessions.get_mut(&sid).ok_or(Error::SessionUnknown)?;
        check_binding(s, binding)?;
        let decision = session::decide_rotation(
            s.current_jti,
            s.previous_jti,
            s.current_iat,
            presented,
            now,
            grace,
        );
        if decision == Rotation::Reuse {
            s.revoked = true;
            return Err(Error::ReuseDetected);
        }
        s.check_alive(now)?;
        if decision == Rotation::Rotate {
            s.previous_jti = Some(s.current_jti);
            s.current_jti = next;
            s.current_iat = now;
        }
        slide(s, now, idle_timeout);
        Ok(match decision {
            Rotation::Rotate => RotateOutcome::Rotated {
                absolute_deadline: s.absolute_deadline,
                claims: None,
            },
            _ => RotateOutcome::Converged {
                current_jti: s.current_jti,
                current_iat: s.current_iat,
                absolute_deadline: s.absolute_deadline,
                claims: None,
            },
        })
    }

    fn revoke_session(&self, sid: Id) -> Result<RevokeOutcome> {
        let mut state = self.state.lock();
        Ok(match state.sessions.get_mut(&sid) {
            None => RevokeOutcome::Unknown,
            Some(s) if s.revoked => RevokeOutcome::AlreadyRevoked,
            Some(s) => {
                s.revoked = true;
                RevokeOutcome::Revoked
            }
        })
    }

    fn revoke_user(&self, user_id: &str, now: i64, remember_until: i64) -> Result<usize> {
        let mut state = self.state.lock();
        state
            .epochs
            .insert(user_id.to_owned(), (now, remember_until));
        let mut n = 0;
        for s in state.sessions.values_mut() {
            if s.user_id == user_id && !s.revoked {
                s.revoked = true;
                n += 1;
            }
        }
        Ok(n)
    }

    fn user_not_before(&self, user_id: &str) -> Result<Option<i64>> {
        Ok(self.epoch(user_id).map(|(epoch, _)| epoch))
    }

    fn deny_jti(&self, jti: &str, until: i64, _now: i64) -> Result<bool> {
        let mut state = self.state.lock();
        if state.denied.contains_key(jti) {
            return Ok(false);
        }
        state.denied.insert(jti.to_owned(), until);
        Ok(true)
    }

    fn is_denied(&self, jti: &str) -> Result<bool> {
        Ok(self.denied_until(jti).is_some())
    }

    fn sweep(&self, now: i64) -> Result<usize> {
        let mut state = self.state.lock();
        let before = state.sessions.len() + state.denied.len() + state.epochs.len();
        state.sessions.retain(|_, s| !s.is_dead(now));
        state.denied.retain(|_, until| *until > now);
        state.epochs.retain(|_, (_, until)| *until > now);
        Ok(before - (state.sessions.len() + state.denied.len() + state.epochs.len()))
    }

    fn stats(&self) -> Result<Stats> {
        let state = self.state.lock();
        Ok(Stats {
            sessions: state.sessions.len(),
            revoked_sessions: state.sessions.values().filter(|s| s.revoked).count(),
            denied_jtis: state.denied.len(),
            user_epochs: state.epochs.len(),
        })
    }
}
