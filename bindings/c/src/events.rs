//! Events through the C ABI: a function pointer and a context pointer, called with a
//! `keyfob_event` whose strings are borrowed for the call.

use std::ffi::{c_char, c_void};
use std::ptr;
use std::sync::Arc;

use crate::args::handle;
use crate::engine::keyfob_engine;
use crate::panic::ffi_boundary;
use crate::status::keyfob_status;
use crate::strings::CText;
use keyfob::{Event, EventKind, Result};

/// What an event reports (see `keyfob_event`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum keyfob_event_kind {
    /// A session started.
    KEYFOB_EVENT_LOGIN = 1,
    /// A refresh token was exchanged.
    KEYFOB_EVENT_REFRESH = 2,
    /// A rotated-out refresh token was presented again; the session is revoked (a
    /// `KEYFOB_EVENT_SESSION_REVOKED` with reason "reuse" follows).
    KEYFOB_EVENT_REUSE_DETECTED = 3,
    /// A session was ended; `reason` says why.
    KEYFOB_EVENT_SESSION_REVOKED = 4,
    /// A token of a session that ended after inactivity was presented.
    KEYFOB_EVENT_IDLE_EXPIRED = 5,
    /// A request presented another client than its session is bound to.
    KEYFOB_EVENT_CLIENT_MISMATCH = 6,
    /// A DPoP proof was presented a second time.
    KEYFOB_EVENT_DPOP_REPLAYED = 7,
    /// An event this version of the header does not know.
    KEYFOB_EVENT_OTHER = 99,
}

/// One event, as the callback receives it. Every string is NUL-terminated, or NULL when
/// absent, and borrowed: valid only until the callback returns (copy what you keep).
#[repr(C)]
#[derive(Debug)]
pub struct keyfob_event {
    /// What happened.
    pub kind: keyfob_event_kind,
    /// The kind's name: "login", "refresh", "reuse_detected", "session_revoked",
    /// "idle_expired", "client_mismatch", "dpop_replayed".
    pub kind_name: *const c_char,
    /// The session (32 hex digits), or NULL.
    pub session_id: *const c_char,
    /// The session's user, or NULL.
    pub user_id: *const c_char,
    /// For a revoked session, why: "logout", "revoke_user", "reuse", "cap", "admin"; else NULL.
    pub reason: *const c_char,
    /// When, on the engine's clock (Unix seconds).
    pub at: i64,
    /// The session's label, given at login, or NULL.
    pub label: *const c_char,
    /// The IP address the session logged in from, or NULL.
    pub ip: *const c_char,
    /// The user agent the session logged in with, or NULL.
    pub user_agent: *const c_char,
}

/// An event callback: `event` is valid only during the call; `ctx` is the pointer given
/// to `keyfob_engine_set_event_callback`.
pub type keyfob_event_callback =
    Option<unsafe extern "C" fn(event: *const keyfob_event, ctx: *mut c_void)>;

/// The callback and its context. The caller of `keyfob_engine_set_event_callback` promises
/// the context may be used from any thread that calls the engine.
struct Callback {
    call: unsafe extern "C" fn(*const keyfob_event, *mut c_void),
    ctx: *mut c_void,
}

// SAFETY: the context's thread safety is the caller's promise (see the export's docs).
unsafe impl Send for Callback {}
// SAFETY: as above.
unsafe impl Sync for Callback {}

fn kind(kind: EventKind) -> keyfob_event_kind {
    match kind {
        EventKind::Login => keyfob_event_kind::KEYFOB_EVENT_LOGIN,
        EventKind::Refresh => keyfob_event_kind::KEYFOB_EVENT_REFRESH,
        EventKind::ReuseDetected => keyfob_event_kind::KEYFOB_EVENT_REUSE_DETECTED,
        EventKind::SessionRevoked => keyfob_event_kind::KEYFOB_EVENT_SESSION_REVOKED,
        EventKind::IdleExpired => keyfob_event_kind::KEYFOB_EVENT_IDLE_EXPIRED,
        EventKind::ClientMismatch => keyfob_event_kind::KEYFOB_EVENT_CLIENT_MISMATCH,
        EventKind::DpopReplayed => keyfob_event_kind::KEYFOB_EVENT_DPOP_REPLAYED,
        _ => keyfob_event_kind::KEYFOB_EVENT_OTHER,
    }
}

impl Callback {
    fn deliver(&self, event: &Event) {
        let text = |s: Option<&str>| s.map(CText::new);
        let kind_name = CText::new(event.kind.as_str());
        let session_id = text(event.session_id.as_deref());
        let user_id = text(event.user_id.as_deref());
        let reason = text(event.reason.map(|r| r.as_str()));
        let label = text(event.label.as_deref());
        let ip = text(event.ip.as_deref());
        let user_agent = text(event.user_agent.as_deref());
        let ptr_of = |t: &Option<CText>| t.as_ref().map_or(ptr::null(), CText::ptr);
        let c_event = keyfob_event {
            kind: kind(event.kind),
            kind_name: kind_name.ptr(),
            session_id: ptr_of(&session_id),
            user_id: ptr_of(&user_id),
            reason: ptr_of(&reason),
            at: event.at,
            label: ptr_of(&label),
            ip: ptr_of(&ip),
            user_agent: ptr_of(&user_agent),
        };
        // SAFETY: the function pointer and context are the caller's (see the export); the
        // event and its strings outlive the call.
        unsafe { (self.call)(&c_event, self.ctx) }
    }
}

/// Call `callback(event, ctx)` for every event (a login, a refresh, reuse detected, a
/// session revoked and why, an idle session noticed, a client mismatch, a replayed DPoP
/// proof); NULL `callback` stops events. The callback runs on the thread whose call caused
/// the event, after that call's work, with no lock of the engine held, so it may call the
/// engine; it must not unwind (C++ exceptions must not escape it).
///
/// Ownership: keyfob keeps `callback` and `ctx` until they are replaced or the engine is
/// freed; `ctx` stays the caller's and must stay valid, and safe to use from every thread
/// that calls the engine, until then.
///
/// # Safety
/// `engine` NULL or live; `callback` NULL or a function safe to call with any `ctx` given.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_set_event_callback(
    engine: *const keyfob_engine,
    callback: keyfob_event_callback,
    ctx: *mut c_void,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let handler = callback.map(|call| {
            let cb = Callback { call, ctx };
            Arc::new(move |e: &Event| cb.deliver(e)) as keyfob::EventHandler
        });
        engine.set_event_handler(handler);
        Ok(())
    })
}
