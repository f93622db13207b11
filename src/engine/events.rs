//! Events: what the engine tells the application about its sessions (a login, a refresh, a
//! stolen refresh token, a session ended and why), through one handler. The handler runs
//! after the operation, on the caller's thread, with no lock of the engine or store held;
//! a panic in it is caught and logged (`log::error!`), never passed on to the caller.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::Engine;
use crate::session::{Id, SessionDetails};
use crate::store::SessionStore;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventKind {
    /// A session started.
    Login,
    /// A refresh token was exchanged.
    Refresh,
    /// A rotated-out refresh token was presented again: the session is revoked (a
    /// `SessionRevoked` with reason `Reuse` follows).
    ReuseDetected,
    /// A session was ended; `reason` says why.
    SessionRevoked,
    /// A token of a session that ended after inactivity was presented.
    IdleExpired,
    /// A request presented another client than the one its session is bound to.
    ClientMismatch,
    /// A DPoP proof was presented a second time.
    DpopReplayed,
}

impl EventKind {
    /// The kind's name: `"login"`, `"refresh"`, `"reuse_detected"`, `"session_revoked"`,
    /// `"idle_expired"`, `"client_mismatch"`, `"dpop_replayed"`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Login => "login",
            EventKind::Refresh => "refresh",
            EventKind::ReuseDetected => "reuse_detected",
            EventKind::SessionRevoked => "session_revoked",
            EventKind::IdleExpired => "idle_expired",
            EventKind::ClientMismatch => "client_mismatch",
            EventKind::DpopReplayed => "dpop_replayed",
        }
    }
}

/// Why a session was ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevokeReason {
    /// `revoke(token)`: the user logged out.
    Logout,
    /// `revoke_user` / `revoke_user_except`.
    RevokeUser,
    /// Refresh-token reuse.
    Reuse,
    /// A login past `max_sessions_per_user` ended the user's oldest session.
    Cap,
    /// `revoke_session(id)`.
    Admin,
}

impl RevokeReason {
    /// The reason's name: `"logout"`, `"revoke_user"`, `"reuse"`, `"cap"`, `"admin"`.
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::RevokeUser => "revoke_user",
            RevokeReason::Reuse => "reuse",
            RevokeReason::Cap => "cap",
            RevokeReason::Admin => "admin",
        }
    }
}

/// One event, as the handler receives it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Event {
    /// What happened.
    pub kind: EventKind,
    /// The session (32 hex digits), when one is concerned.
    pub session_id: Option<String>,
    /// The session's user, when known.
    pub user_id: Option<String>,
    /// For `SessionRevoked`: why.
    pub reason: Option<RevokeReason>,
    /// When, on the engine's clock (Unix seconds).
    pub at: i64,
    /// The session's label, given at login.
    pub label: Option<String>,
    /// The IP address the session logged in from.
    pub ip: Option<String>,
    /// The user agent the session logged in with.
    pub user_agent: Option<String>,
}

/// An event handler: any closure, shared between threads.
pub type EventHandler = Arc<dyn Fn(&Event) + Send + Sync>;

/// Where the handler lives. The flag spares every operation the lock when none is set.
#[derive(Default)]
pub(super) struct EventSink {
    installed: AtomicBool,
    handler: RwLock<Option<EventHandler>>,
}

impl EventSink {
    pub(super) fn set(&self, handler: Option<EventHandler>) {
        let mut slot = self.handler.write();
        self.installed.store(handler.is_some(), Ordering::Release);
        *slot = handler;
    }

    #[inline]
    pub(super) fn is_set(&self) -> bool {
        self.installed.load(Ordering::Acquire)
    }

    fn handler(&self) -> Option<EventHandler> {
        if !self.is_set() {
            return None;
        }
        self.handler.read().clone()
    }
}

/// What an event says about its session.
pub(super) struct About<'a> {
    pub sid: Option<Id>,
    pub user_id: Option<&'a str>,
    pub reason: Option<RevokeReason>,
    /// The session's details when the caller has them (else they are looked up).
    pub details: Option<&'a SessionDetails>,
}

impl Engine {
    /// Replace the event handler (`None`: no events). Takes effect for the next operation.
    pub fn set_event_handler(&self, handler: Option<EventHandler>) {
        self.events.set(handler);
    }

    /// Whether anyone listens: events cost nothing until a handler is set.
    #[inline]
    pub(super) fn listening(&self) -> bool {
        self.events.is_set()
    }

    /// Tell the handler, if one is set. Called with no lock held.
    pub(super) fn emit(&self, kind: EventKind, about: About<'_>) {
        let Some(handler) = self.events.handler() else {
            return;
        };
        let looked_up;
        let details = match (about.details, about.sid) {
            (Some(d), _) => Some(d),
            (None, Some(sid)) => {
                looked_up = self.store.details(sid).ok().flatten();
                looked_up.as_ref()
            }
            (None, None) => None,
        };
        let user_id = match (about.user_id, about.sid) {
            (Some(u), _) => Some(u.to_owned()),
            (None, Some(sid)) => self.store.get(sid).ok().flatten().map(|s| s.user_id),
            (None, None) => None,
        };
        let meta = details.map(|d| &d.meta);
        let event = Event {
            kind,
            session_id: about.sid.map(|s| s.to_hex_string()),
            user_id,
            reason: about.reason,
            at: self.clock.now(),
            label: meta.and_then(|m| m.label.clone()),
            ip: meta.and_then(|m| m.ip.map(|ip| ip.to_string())),
            user_agent: meta.and_then(|m| m.user_agent.clone()),
        };
        if catch_unwind(AssertUnwindSafe(|| handler(&event))).is_err() {
            log::error!(
                target: "keyfob",
                "the event handler panicked on a {} event; the panic was caught",
                kind.as_str()
            );
        }
    }

    /// The event a failed session check stands for, if any: an idle session noticed, a
    /// client mismatch, a replayed proof, a reused refresh token (which also ends the
    /// session).
    pub(super) fn emit_failure(&self, sid: Option<Id>, user_id: &str, err: &crate::Error) {
        use crate::Error;
        if !self.listening() {
            return;
        }
        let about = |reason| About {
            sid,
            user_id: Some(user_id),
            reason,
            details: None,
        };
        match err {
            Error::SessionIdle => self.emit(EventKind::IdleExpired, about(None)),
            Error::ClientMismatch => self.emit(EventKind::ClientMismatch, about(None)),
            Error::DpopReplayed => self.emit(EventKind::DpopReplayed, about(None)),
            Error::ReuseDetected => {
                self.emit(EventKind::ReuseDetected, about(None));
                // A sessionless token used twice is reuse too, with no session to end.
                if sid.is_some() {
                    self.emit(EventKind::SessionRevoked, about(Some(RevokeReason::Reuse)));
                }
            }
            _ => {}
        }
    }
}
