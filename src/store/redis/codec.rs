//! How the Redis store's values travel: ids and digests as hex, a session's hash fields read
//! back (a field that does not parse is a malformed session, so the store fails closed), the
//! binding check's script arguments, and the scripts' reply codes and Redis's failures as
//! keyfob's errors.

use std::collections::HashMap;

use redis::RedisError;

use crate::error::{Error, Result};
use crate::session::{BindingCheck, ClientCheck, Id, Mismatch};

// Reply codes of the scripts (see redis/common.lua).
pub(super) const OK: i64 = 0;
pub(super) const UNKNOWN: i64 = 1;
pub(super) const REVOKED: i64 = 2;
pub(super) const EXPIRED: i64 = 3;
pub(super) const IDLE: i64 = 4;
pub(super) const REUSE: i64 = 5;
pub(super) const CONVERGED: i64 = 6;
pub(super) const CLIENT_MISMATCH: i64 = 7;
pub(super) const PROOF_REQUIRED: i64 = 8;
pub(super) const KEY_DIFFERS: i64 = 9;

/// A script's liveness code as the engine's error.
pub(super) fn code_error(code: i64) -> Error {
    match code {
        UNKNOWN => Error::SessionUnknown,
        REVOKED => Error::Revoked,
        EXPIRED => Error::SessionExpired,
        IDLE => Error::SessionIdle,
        REUSE => Error::ReuseDetected,
        CLIENT_MISMATCH => Mismatch::Client.error(),
        PROOF_REQUIRED => Mismatch::ProofRequired.error(),
        KEY_DIFFERS => Mismatch::KeyDiffers.error(),
        other => Error::StoreUnavailable(format!("Redis script answered code {other}")),
    }
}

pub(super) fn hex(id: Id) -> String {
    id.to_string()
}

pub(super) fn digest_hex(digest: Option<[u8; 32]>) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(64);
    for b in digest.iter().flatten() {
        let _ = write!(out, "{b:02x}");
    }
    out
}

pub(super) fn digest_field(
    fields: &HashMap<String, String>,
    name: &str,
) -> Result<Option<[u8; 32]>> {
    digest(fields.get(name).map(String::as_str), name)
}

/// A digest as stored (64 hex digits; absent or empty for none); `name` says which field.
pub(super) fn digest(text: Option<&str>, name: &str) -> Result<Option<[u8; 32]>> {
    let text = match text {
        None | Some("") => return Ok(None),
        Some(t) => t,
    };
    let mut out = [0u8; 32];
    if text.len() != 64 {
        return Err(corrupt(name));
    }
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(text.get(2 * i..2 * i + 2).unwrap_or("x"), 16)
            .map_err(|_| corrupt(name))?;
    }
    Ok(Some(out))
}

/// The binding check's arguments to the scripts: mode, client digest, key thumbprint.
pub(super) fn binding_args(check: &BindingCheck) -> [String; 3] {
    let mode = match check.client_check {
        ClientCheck::Skip => "0",
        ClientCheck::Require => "1",
        ClientCheck::RequireOrRevoke => "2",
    };
    [
        mode.to_owned(),
        digest_hex(check.presented.client),
        digest_hex(check.presented.jkt),
    ]
}

pub(super) fn corrupt(what: &str) -> Error {
    Error::StoreUnavailable(format!("Redis holds a malformed session ({what})"))
}

pub(super) fn int_field(fields: &HashMap<String, String>, name: &str) -> Result<i64> {
    fields
        .get(name)
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| corrupt(name))
}

pub(super) fn id_field(fields: &HashMap<String, String>, name: &str) -> Result<Id> {
    fields
        .get(name)
        .and_then(|v| Id::parse(v))
        .ok_or_else(|| corrupt(name))
}

/// A Redis failure as keyfob's error: the store is unavailable, and says why.
pub(super) fn unavailable(e: RedisError) -> Error {
    let what = if e.is_timeout() {
        "Redis did not answer within store_timeout_ms".to_owned()
    } else if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
        format!("Redis is unreachable ({e})")
    } else {
        format!("Redis error ({e})")
    };
    Error::StoreUnavailable(what)
}

/// A connection that broke (not one that was slow: a slow Redis is as slow for a retry), or
/// that points at a server demoted to a replica by a failover (READONLY: nothing was
/// applied, and the connections pooled with it point at the old primary too).
pub(super) fn is_broken_connection(e: &RedisError) -> bool {
    !e.is_timeout()
        && (e.is_io_error()
            || e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.code() == Some("READONLY"))
}
