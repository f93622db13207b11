//! Session management through the C ABI: a login with metadata, a user's sessions and one
//! session as JSON, ending all of a user's sessions but one, changing a session's claims,
//! and the engine's metrics as JSON.

use serde_json::{Map, Value};

use crate::args::{extra_claims, handle, handle_out, optional_text, text, write_optional};
use crate::client_binding::keyfob_presentation;
use crate::engine::keyfob_engine;
use crate::panic::ffi_boundary;
use crate::status::keyfob_status;
use crate::strings::{keyfob_string, keyfob_token_pair};
use keyfob::session::parse_ip;
use keyfob::{Error, LoginOptions, Result, SessionMeta};

/// The metadata JSON of `keyfob_engine_login_with`: an object with any of `label`, `ip`,
/// `user_agent` (strings) and `data` (an object); anything else is an invalid argument.
fn meta(json: Option<&str>) -> Result<SessionMeta> {
    let mut meta = SessionMeta::default();
    let Some(json) = json else { return Ok(meta) };
    let invalid = |why: &str| Error::InvalidArgument(format!("metadata_json {why}"));
    let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(json) else {
        return Err(invalid("must be a JSON object"));
    };
    let text_field = |v: Value, name: &str| match v {
        Value::String(s) => Ok(Some(s)),
        Value::Null => Ok(None),
        _ => Err(invalid(&format!("field '{name}' must be a string"))),
    };
    for (name, v) in fields {
        match name.as_str() {
            "label" => meta.label = text_field(v, &name)?,
            "user_agent" => meta.user_agent = text_field(v, &name)?,
            "ip" => meta.ip = text_field(v, &name)?.map(|ip| parse_ip(&ip)).transpose()?,
            "data" => match v {
                Value::Object(m) => meta.data = m,
                Value::Null => {}
                _ => return Err(invalid("field 'data' must be an object")),
            },
            other => return Err(invalid(&format!("has an unknown field '{other}'"))),
        }
    }
    Ok(meta)
}

/// Log a user in with metadata kept with the session. `metadata_json` (NULL for none) is a
/// JSON object with any of `"label"`, `"ip"` (an IPv4 or IPv6 address), `"user_agent"`
/// (strings of at most 256 bytes) and `"data"` (an object of at most 4096 bytes as JSON);
/// anything else answers `KEYFOB_INVALID_ARGUMENT`. `presentation` (NULL for none) binds
/// the session as `keyfob_engine_login_bound` does. With `max_sessions_per_user` in the
/// config, the user's oldest sessions past the cap end.
///
/// Ownership: inputs are only read during the call. On success `*pair_out` is a new pair
/// the caller frees with `keyfob_token_pair_free`; on error it is set to NULL.
///
/// # Safety
/// `engine` NULL or live; each `(ptr, len)` NULL or readable for `len` bytes;
/// `presentation` NULL or valid for reads; `pair_out` NULL or writable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn keyfob_engine_login_with(
    engine: *const keyfob_engine,
    user_id: *const u8,
    user_id_len: usize,
    extra_claims_json: *const u8,
    extra_claims_json_len: usize,
    metadata_json: *const u8,
    metadata_json_len: usize,
    presentation: *const keyfob_presentation,
    pair_out: *mut *mut keyfob_token_pair,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(pair_out, "pair_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let user_id = unsafe { text(user_id, user_id_len, "user_id") }?;
        let extra = unsafe { extra_claims(extra_claims_json, extra_claims_json_len) }?;
        let json = unsafe { optional_text(metadata_json, metadata_json_len, "metadata_json") }?;
        let presented = unsafe { crate::client_binding::presentation(presentation) }?;
        let options = LoginOptions::default()
            .with_meta(meta(json)?)
            .with_presentation(presented);
        let pair = engine.login_with(user_id, extra.as_ref(), &options)?;
        *out = keyfob_token_pair::new_handle(&pair);
        Ok(())
    })
}

/// A user's live sessions, newest first, as a JSON array of objects with `session_id`,
/// `user_id`, `created_at`, `last_seen`, `idle_deadline`, `absolute_deadline` (Unix
/// seconds), `label`, `ip`, `user_agent` (strings or null), `data` and `claims` (objects).
///
/// Ownership: `user_id` is only read during the call. On success `*json_out` is a new
/// string the caller frees with `keyfob_string_free`; on error it is set to NULL.
///
/// # Safety
/// `engine` NULL or live; `user_id` NULL or readable for `user_id_len` bytes; `json_out`
/// NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_list_sessions(
    engine: *const keyfob_engine,
    user_id: *const u8,
    user_id_len: usize,
    json_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(json_out, "json_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let user_id = unsafe { text(user_id, user_id_len, "user_id") }?;
        let list: Vec<Value> = engine.sessions(user_id)?.iter().map(|s| s.to_json()).collect();
        *out = keyfob_string::new_handle(&Value::Array(list).to_string());
        Ok(())
    })
}

/// One live session as a JSON object (the fields of `keyfob_engine_list_sessions`). A
/// session that is unknown or no longer alive answers `KEYFOB_SESSION_UNKNOWN`; an id that
/// is not 32 lowercase hex digits `KEYFOB_INVALID_ARGUMENT`.
///
/// Ownership: as `keyfob_engine_list_sessions`.
///
/// # Safety
/// `engine` NULL or live; `session_id` NULL or readable for `session_id_len` bytes;
/// `json_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_session_info(
    engine: *const keyfob_engine,
    session_id: *const u8,
    session_id_len: usize,
    json_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(json_out, "json_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let sid = unsafe { text(session_id, session_id_len, "session_id") }?;
        let info = engine.session(sid)?.ok_or(Error::SessionUnknown)?;
        *out = keyfob_string::new_handle(&info.to_json().to_string());
        Ok(())
    })
}

/// Revoke every session of a user but `keep` (a session id, or NULL with length 0 for
/// none: then this is `keyfob_engine_revoke_user`), and every sessionless token issued to
/// them until now. When `revoked_out` is not NULL it receives how many sessions were revoked.
///
/// Ownership: inputs are only read during the call; nothing is allocated.
///
/// # Safety
/// `engine` NULL or live; `user_id` NULL or readable for `user_id_len` bytes; `keep` NULL
/// or readable for `keep_len` bytes; `revoked_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_revoke_user_except(
    engine: *const keyfob_engine,
    user_id: *const u8,
    user_id_len: usize,
    keep: *const u8,
    keep_len: usize,
    revoked_out: *mut usize,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let user_id = unsafe { text(user_id, user_id_len, "user_id") }?;
        let keep = unsafe { optional_text(keep, keep_len, "keep") }?;
        let revoked = engine.revoke_user_except(user_id, keep)?;
        unsafe { write_optional(revoked_out, revoked) };
        Ok(())
    })
}

/// Merge `claims_json` (a JSON object; a `null` value removes that claim) into the
/// session's claims. The session's next refresh mints them into its tokens; with
/// `session_claims_on_validate` in the config, `keyfob_engine_validate` returns them at
/// once. Reserved claim names, `claims_json` over 4096 bytes and a session's claims growing
/// past 65536 bytes as JSON answer `KEYFOB_INVALID_ARGUMENT`; an unknown or ended session its status
/// (`KEYFOB_SESSION_UNKNOWN`, `KEYFOB_REVOKED`, ...).
///
/// Ownership: inputs are only read during the call; nothing is allocated.
///
/// # Safety
/// `engine` NULL or live; `session_id` and `claims_json` NULL or readable for their lengths.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_update_session(
    engine: *const keyfob_engine,
    session_id: *const u8,
    session_id_len: usize,
    claims_json: *const u8,
    claims_json_len: usize,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        let sid = unsafe { text(session_id, session_id_len, "session_id") }?;
        let json = unsafe { text(claims_json, claims_json_len, "claims_json") }?;
        let claims: Map<String, Value> = match serde_json::from_str(json) {
            Ok(Value::Object(m)) => m,
            _ => {
                return Err(Error::InvalidArgument(
                    "claims_json must be a JSON object".into(),
                ))
            }
        };
        engine.update_session(sid, &claims)
    })
}

/// The engine's metrics as a JSON object: `operations` and `errors` (name → count),
/// `store_latency` (store operation → `{"buckets": [[upper bound in seconds, cumulative
/// count], ...], "sum": seconds, "count": n}`), `live_sessions`, and `near_cache`
/// (`{"hits", "misses", "invalidations"}`, or null when the store has none).
///
/// Ownership: on success `*json_out` is a new string the caller frees with
/// `keyfob_string_free`; on error it is set to NULL.
///
/// # Safety
/// `engine` NULL or live; `json_out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn keyfob_engine_metrics(
    engine: *const keyfob_engine,
    json_out: *mut *mut keyfob_string,
) -> keyfob_status {
    ffi_boundary!(Result<()> => {
        // SAFETY: the caller's pointers follow the contract above.
        let out = unsafe { handle_out(json_out, "json_out") }?;
        let engine = &unsafe { handle(engine, "engine") }?.engine;
        *out = keyfob_string::new_handle(&engine.metrics().to_json().to_string());
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_json_is_checked() {
        let m = meta(Some(r#"{"label": "phone", "ip": "::1", "data": {"k": 1}}"#)).unwrap();
        assert_eq!(m.label.as_deref(), Some("phone"));
        assert_eq!(m.ip.unwrap().to_string(), "::1");
        assert!(meta(Some(r#"{"ip": "nope"}"#)).is_err());
        assert!(meta(Some(r#"{"colour": "red"}"#)).is_err());
        assert!(meta(Some("[1]")).is_err());
        assert!(meta(Some(r#"{"label": 3}"#)).is_err());
        assert!(meta(None).unwrap().is_empty());
    }
}
