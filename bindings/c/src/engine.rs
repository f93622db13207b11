//! `keyfob_engine` and the operations on it: login, validate, verify, refresh, the sliding
//! pair, revocation, sweep and stats.

use std::ffi::c_char;

use crate::args::{
    extra_claims, free_handle, handle, handle_out, into_handle, optional_handle_out, text,
    token_bytes, value_out, write_optional,
};
use crate::clock::keyfob_manual_clock;
use crate::panic::ffi_boundary;
use crate::status::keyfob_status;
use crate::strings::{copy_to_buffer, keyfob_string, keyfob_token_pair};
use keyfob::Result;
use keyfob::{Config, Engine};

/// The sliding-session engine: keys, session store and clock.
///
/// Thread-safe: one engine may be used from any number of threads at once, with no
/// locking by the caller. Create it with `keyfob_engine_new` (or `_new_with_clock`) and
/// free it exactly once, after every thread is done with it, with `keyfob_engine_free`.
pub struct keyfob_engine {
    pub(crate) engine: Engine,
}

/// Counts reported by `keyfob_engine_stats`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct keyfob_stats {
    /// Sessions held (live or revoked, not yet swept).
    pub sessions: usize,
    /// Of those, revoked.
    pub revoked_sessions: usize,
    /// Denied token ids (sessionless tokens revoked before their expiry).
    pub denied_jtis: usize,
    /// Users with a not-before epoch (from `keyfob_engine_revoke_user`).
    pub user_epochs: usize,
}

/// The shape of every call that checks a token and may hand its claims JSON out. The token
/// goes to the engine as bytes: the engine checks UTF-8 only when a token fails (a token that
/// passes is ASCII), which keeps that pass off every successful validate.
///
/// # Safety
/// As the exported caller's contract: `engine` NULL or live, `token` NULL or readable for
/// `token_len` bytes, `claims_out` NULL or writable.
unsafe fn claims_call(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    claims_out: *mut *mut keyfob_string,
    check: fn(&Engine, &[u8]) -> Result<keyfob::Claims>,
) -> Result<()> {
    // SAFETY: forwarded from the caller's contract.
    let out = unsafe { optional_handle_out(claims_out) };
    let engine = &unsafe { handle(engine, "engine") }?.engine;
    let claims = check(engine, unsafe { token_bytes(token, token_len) }?)?;
    if let Some(out) = out {
        *out = keyfob_string::new_handle(claims.to_json());
    }
    Ok(())
}

/// Parse the config JSON (the same fields as Rust's `keyfob::Config`).
///
/// # Safety
/// As `args::text`.
unsafe fn config(json: *const u8, json_len: usize) -> Result<Config> {
    // SAFETY: forwarded contract.
    Config::from_json(unsafe { text(json, json_len, "config_json") }?)
}

/// Create an engine on the wall clock from a JSON config, e.g.
/// `{"signing_key": "<at least 32 bytes>", "idle_timeout_s": 600}`. Unknown fields and
/// impossible values answer `KEYFOB_CONFIG`; a NULL or non-UTF-8 config `KEYFOB_INVALID_ARGUMENT`.
///
/// Ownership: `config_json` is only read during the call. On success `*engine_out` is a new
/// engine the caller owns and frees with `keyfob_engine_free`; on error it is set to NULL.
///
/// # Safety
/// `config_json` must be NULL or readable for `config_json_len` bytes; `engine_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_new(
    config_json: *const u8,
    config_json_len: usize,
    engine_out: *mut *mut keyfob_engine,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(engine_out, "engine_out") }?;
        let engine = Engine::new(unsafe { config(config_json, config_json_len) }?)?;
        *out = into_handle(keyfob_engine { engine });
        Ok(())
    })
}

/// Create an engine whose time is a manual clock (for tests): it follows every
/// `keyfob_manual_clock_set` / `_advance` on `clock`.
///
/// Ownership: `config_json` is only read during the call; the engine keeps its own
/// reference to the clock's time, so `clock` stays the caller's to free whenever it likes.
/// On success `*engine_out` is a new engine the caller frees with `keyfob_engine_free`;
/// on error it is set to NULL.
///
/// # Safety
/// `config_json` must be NULL or readable for `config_json_len` bytes; `clock` NULL or a
/// live clock; `engine_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_new_with_clock(
    config_json: *const u8,
    config_json_len: usize,
    clock: *const keyfob_manual_clock,
    engine_out: *mut *mut keyfob_engine,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(engine_out, "engine_out") }?;
        let clock = unsafe { handle(clock, "clock") }?.clock.clone();
        let config = unsafe { config(config_json, config_json_len) }?;
        let engine = Engine::builder(config).clock(clock).build()?;
        *out = into_handle(keyfob_engine { engine });
        Ok(())
    })
}

/// Free an engine and every session it holds in memory. NULL is a no-op.
/// Call it once, after every thread has stopped using the engine.
///
/// Ownership: takes back an engine from `keyfob_engine_new` / `_new_with_clock`.
///
/// # Safety
/// `engine` is NULL or a live engine, not used again afterwards by any thread.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_free(engine: *mut keyfob_engine) {
    // SAFETY: the caller passes NULL or a live handle it gives up.
    ffi_boundary!(() => { unsafe { free_handle(engine) } })
}

/// Log a user in: create a session and return its access token, refresh token and
/// session id. `extra_claims_json` (a JSON object, or NULL for none) is copied into every
/// token of the session; reserved claim names answer `KEYFOB_INVALID_ARGUMENT`.
///
/// Ownership: inputs are only read during the call. On success `*pair_out` is a new pair
/// the caller frees with `keyfob_token_pair_free`; on error it is set to NULL.
///
/// # Safety
/// `engine` NULL or live; `user_id` NULL or readable for `user_id_len` bytes;
/// `extra_claims_json` NULL or readable for `extra_claims_json_len` bytes; `pair_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_login(
    engine: *const keyfob_engine,
    user_id: *const u8,
    user_id_len: usize,
    extra_claims_json: *const u8,
    extra_claims_json_len: usize,
    pair_out: *mut *mut keyfob_token_pair,
) -> keyfob_status {
    // SAFETY: the same contract as `keyfob_engine_login_bound`, which runs inside the panic
    // boundary; no presentation is the plain login.
    unsafe {
        crate::keyfob_engine_login_bound(
            engine,
            user_id,
            user_id_len,
            extra_claims_json,
            extra_claims_json_len,
            std::ptr::null(),
            pair_out,
        )
    }
}

/// Authenticate a request with an access token: signature, claims, and a live session,
/// whose idle deadline slides (with `touch_on_validate`, the default). A non-UTF-8 or
/// oversized token answers `KEYFOB_MALFORMED`.
///
/// Ownership: `token` is only read during the call. When `claims_out` is not NULL, on
/// success `*claims_out` is the token's payload JSON, a new string the caller frees with
/// `keyfob_string_free`; on error it is set to NULL. Pass NULL when only the status matters.
///
/// # Safety
/// `engine` NULL or live; `token` NULL or readable for `token_len` bytes; `claims_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_validate(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    claims_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        unsafe { claims_call(engine, token, token_len, claims_out, |e, t| e.validate(t)) }
    })
}

/// `keyfob_engine_validate` answering into the caller's buffer: on success `buf` holds the payload
/// JSON and a NUL. `*needed_out` always receives the size that fits (JSON length + 1) once
/// the token is valid; a smaller `buf_len` answers `KEYFOB_BUFFER_TOO_SMALL` and leaves
/// `buf` untouched (the token was still validated, and its session slid). `buf` may be NULL
/// when `buf_len` is 0, to ask for the size.
///
/// Ownership: the caller owns `buf`; nothing is allocated for it.
///
/// # Safety
/// `engine` NULL or live; `token` NULL or readable for `token_len` bytes; `buf` NULL or
/// writable for `buf_len` bytes; `needed_out` NULL (an invalid argument) or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_validate_into(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    buf: *mut c_char,
    buf_len: usize,
    needed_out: *mut usize,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let needed = unsafe { value_out(needed_out, "needed_out") }?;
        *needed = 0;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let token = unsafe { token_bytes(token, token_len) }?;
        let claims = engine.validate(token)?;
        unsafe { copy_to_buffer(claims.to_json(), buf, buf_len, needed) }
    })
}

/// Like `keyfob_engine_validate`, for a sliding token (from `keyfob_engine_login_sliding`).
///
/// Ownership: as `keyfob_engine_validate`.
///
/// # Safety
/// As `keyfob_engine_validate`.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_validate_sliding(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    claims_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        unsafe { claims_call(engine, token, token_len, claims_out, |e, t| e.validate_sliding(t)) }
    })
}

/// Check any token (access, refresh or sliding): signature, claims and session, sliding
/// nothing. simplejwt's "verify" endpoint.
///
/// Ownership: as `keyfob_engine_validate` (`claims_out` may be NULL).
///
/// # Safety
/// As `keyfob_engine_validate`.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_verify(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    claims_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        unsafe { claims_call(engine, token, token_len, claims_out, |e, t| e.verify(t)) }
    })
}

/// Exchange a refresh token for a new access token and, with rotation on (the default), a
/// new refresh token; the presented one is spent. Presenting a spent refresh token again
/// (outside `reuse_grace_s`) answers `KEYFOB_REUSE_DETECTED` and revokes the session.
///
/// Ownership: `token` is only read during the call. On success `*pair_out` is a new pair
/// the caller frees with `keyfob_token_pair_free` (its refresh token is NULL when rotation
/// is off); on error it is set to NULL.
///
/// # Safety
/// `engine` NULL or live; `token` NULL or readable for `token_len` bytes; `pair_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_refresh(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    pair_out: *mut *mut keyfob_token_pair,
) -> keyfob_status {
    // SAFETY: the same contract as `keyfob_engine_refresh_bound`, which runs inside the panic
    // boundary; no presentation is the plain refresh.
    unsafe {
        crate::keyfob_engine_refresh_bound(engine, token, token_len, std::ptr::null(), pair_out)
    }
}

/// Log a user in with one sliding token (simplejwt's single-token mode) bound to a new
/// session. `extra_claims_json` is a JSON object or NULL.
///
/// Ownership: inputs are only read during the call. On success `*token_out` is a new string
/// the caller frees with `keyfob_string_free`, and so is `*session_id_out` unless
/// `session_id_out` is NULL (not wanted). On error both are set to NULL.
///
/// # Safety
/// `engine` NULL or live; `user_id` NULL or readable for `user_id_len` bytes;
/// `extra_claims_json` NULL or readable for `extra_claims_json_len` bytes;
/// `token_out` and `session_id_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_login_sliding(
    engine: *const keyfob_engine,
    user_id: *const u8,
    user_id_len: usize,
    extra_claims_json: *const u8,
    extra_claims_json_len: usize,
    token_out: *mut *mut keyfob_string,
    session_id_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let sid_out = unsafe { optional_handle_out(session_id_out) };
        let out = unsafe { handle_out(token_out, "token_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let user_id = unsafe { text(user_id, user_id_len, "user_id") }?;
        let extra = unsafe { extra_claims(extra_claims_json, extra_claims_json_len) }?;
        let sliding = engine.login_sliding(user_id, extra.as_ref())?;
        *out = keyfob_string::new_handle(&sliding.token);
        if let Some(sid_out) = sid_out {
            *sid_out = keyfob_string::new_handle(&sliding.session_id);
        }
        Ok(())
    })
}

/// Renew an unexpired sliding token whose session is alive (up to its `refresh_exp`);
/// slides the session.
///
/// Ownership: as `keyfob_engine_login_sliding` (`session_id_out` may be NULL).
///
/// # Safety
/// `engine` NULL or live; `token` NULL or readable for `token_len` bytes;
/// `token_out` and `session_id_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_refresh_sliding(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
    token_out: *mut *mut keyfob_string,
    session_id_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let sid_out = unsafe { optional_handle_out(session_id_out) };
        let out = unsafe { handle_out(token_out, "token_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let sliding = engine.refresh_sliding(unsafe { token_bytes(token, token_len) }?)?;
        *out = keyfob_string::new_handle(&sliding.token);
        if let Some(sid_out) = sid_out {
            *sid_out = keyfob_string::new_handle(&sliding.session_id);
        }
        Ok(())
    })
}

/// Logout: revoke what a token stands for (its whole session; for an accepted sessionless
/// token, its jti). Every token of the session fails from the next call on, access tokens
/// included. A token whose session is already revoked answers `KEYFOB_REVOKED`.
///
/// Ownership: `token` is only read during the call.
///
/// # Safety
/// `engine` NULL or live; `token` NULL or readable for `token_len` bytes.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_revoke(
    engine: *const keyfob_engine,
    token: *const u8,
    token_len: usize,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        engine.revoke(unsafe { token_bytes(token, token_len) }?)
    })
}

/// Revoke a session by id (32 lowercase hex digits, else `KEYFOB_INVALID_ARGUMENT`; an
/// id this engine does not know answers `KEYFOB_SESSION_UNKNOWN`). When `was_live_out` is
/// not NULL it receives whether the session was live (false: it was already revoked).
///
/// Ownership: `session_id` is only read during the call; nothing is allocated.
///
/// # Safety
/// `engine` NULL or live; `session_id` NULL or readable for `session_id_len` bytes;
/// `was_live_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_revoke_session(
    engine: *const keyfob_engine,
    session_id: *const u8,
    session_id_len: usize,
    was_live_out: *mut bool,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let sid = unsafe { text(session_id, session_id_len, "session_id") }?;
        let was_live = engine.revoke_session(sid)?;
        unsafe { write_optional(was_live_out, was_live) };
        Ok(())
    })
}

/// Revoke every session of a user, and every sessionless token issued to them until now.
/// When `revoked_out` is not NULL it receives how many live sessions were revoked.
///
/// Ownership: `user_id` is only read during the call; nothing is allocated.
///
/// # Safety
/// `engine` NULL or live; `user_id` NULL or readable for `user_id_len` bytes;
/// `revoked_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_revoke_user(
    engine: *const keyfob_engine,
    user_id: *const u8,
    user_id_len: usize,
    revoked_out: *mut usize,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let user_id = unsafe { text(user_id, user_id_len, "user_id") }?;
        let revoked = engine.revoke_user(user_id)?;
        unsafe { write_optional(revoked_out, revoked) };
        Ok(())
    })
}

/// Drop ended sessions and expired denylist entries now (writes also do this, amortized,
/// so calling it is optional). When `removed_out` is not NULL it receives how many went.
///
/// Ownership: nothing is allocated; `*removed_out` is a plain value.
///
/// # Safety
/// `engine` NULL or live; `removed_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_sweep(
    engine: *const keyfob_engine,
    removed_out: *mut usize,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let removed = engine.sweep()?;
        unsafe { write_optional(removed_out, removed) };
        Ok(())
    })
}

/// Fill `*stats_out` with the engine's counts.
///
/// Ownership: the caller owns `*stats_out` (a plain struct, nothing to free).
///
/// # Safety
/// `engine` NULL or live; `stats_out` NULL (an invalid argument) or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_stats(
    engine: *const keyfob_engine,
    stats_out: *mut keyfob_stats,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { value_out(stats_out, "stats_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let s = engine.stats()?;
        *out = keyfob_stats {
            sessions: s.sessions,
            revoked_sessions: s.revoked_sessions,
            denied_jtis: s.denied_jtis,
            user_epochs: s.user_epochs,
        };
        Ok(())
    })
}

/// The engine's current time (Unix seconds) into `*now_out`: the wall clock, or the
/// manual clock it was built with.
///
/// Ownership: nothing is allocated; `*now_out` is a plain value.
///
/// # Safety
/// `engine` NULL or live; `now_out` NULL (an invalid argument) or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_now(
    engine: *const keyfob_engine,
    now_out: *mut i64,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { value_out(now_out, "now_out") }?;
        *out = unsafe { handle(engine, "engine") }?.engine.now();
        Ok(())
    })
}
