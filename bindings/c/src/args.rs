//! Turning C arguments into Rust values: every NULL, length and encoding check lives here,
//! so each export reads as "check arguments, call the engine, write outputs".

use std::ptr;

use serde_json::{Map, Value};

use keyfob::{Error, Result};

/// The largest `max_token_bytes` a config accepts; longer tokens are refused before any scan.
const MAX_TOKEN_BYTES: usize = 1 << 20;

fn invalid(what: &str, why: &str) -> Error {
    Error::InvalidArgument(format!("{what} {why}"))
}

/// `(ptr, len)` as a byte slice. NULL is an invalid argument, whatever `len` is.
///
/// # Safety
/// A non-NULL `ptr` must point to `len` readable bytes that stay valid for `'a`.
pub(crate) unsafe fn bytes<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a [u8]> {
    if ptr.is_null() {
        return Err(invalid(what, "must not be NULL"));
    }
    if len > isize::MAX as usize {
        return Err(invalid(what, "is longer than any object can be"));
    }
    // SAFETY: non-NULL, length bounded, validity promised by the caller.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// A string argument (user id, session id, JSON): UTF-8 without NUL bytes, else an
/// invalid argument.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn text<'a>(ptr: *const u8, len: usize, what: &str) -> Result<&'a str> {
    // SAFETY: forwarded contract.
    let raw = unsafe { bytes(ptr, len, what) }?;
    let s = std::str::from_utf8(raw).map_err(|_| invalid(what, "is not UTF-8"))?;
    if s.contains('\0') {
        return Err(invalid(what, "contains a NUL byte"));
    }
    Ok(s)
}

/// A token argument: NULL is an invalid argument, a token too long to be one is malformed.
/// The bytes go to the engine as they are: it answers a token that is not UTF-8 as
/// malformed, checking only when the token fails (a token that passes is ASCII).
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn token_bytes<'a>(ptr: *const u8, len: usize) -> Result<&'a [u8]> {
    if len > MAX_TOKEN_BYTES && !ptr.is_null() {
        return Err(Error::Malformed("token is larger than max_token_bytes"));
    }
    // SAFETY: forwarded contract.
    unsafe { bytes(ptr, len, "token") }
}

/// An optional string argument: NULL (with length 0) means absent; otherwise as [`text`].
/// NULL with a length is an invalid argument: the caller meant to pass something.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn optional_text<'a>(
    ptr: *const u8,
    len: usize,
    what: &str,
) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        if len != 0 {
            return Err(invalid(what, "is NULL but its length is not 0"));
        }
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { text(ptr, len, what) }.map(Some)
}

/// An optional DPoP proof: NULL (with length 0) means none; a proof that cannot be one
/// (too long, not UTF-8) is `dpop_invalid`, like any other broken proof, since it is
/// attacker input.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn optional_proof<'a>(ptr: *const u8, len: usize) -> Result<Option<&'a str>> {
    if ptr.is_null() {
        if len != 0 {
            return Err(invalid("dpop_proof", "is NULL but its length is not 0"));
        }
        return Ok(None);
    }
    if len > MAX_TOKEN_BYTES {
        return Err(Error::DpopInvalid(
            "the proof is larger than max_token_bytes".into(),
        ));
    }
    // SAFETY: forwarded contract.
    let raw = unsafe { bytes(ptr, len, "dpop_proof") }?;
    std::str::from_utf8(raw)
        .map(Some)
        .map_err(|_| Error::DpopInvalid("the proof is not UTF-8".into()))
}

/// Optional extra claims: NULL means none; otherwise a JSON object.
///
/// # Safety
/// As [`bytes`].
pub(crate) unsafe fn extra_claims(
    ptr: *const u8,
    len: usize,
) -> Result<Option<Map<String, Value>>> {
    // SAFETY: forwarded contract. NULL with a length is refused, as for every optional text.
    let Some(json) = (unsafe { optional_text(ptr, len, "extra_claims_json") })? else {
        return Ok(None);
    };
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => Ok(Some(map)),
        Ok(_) => Err(invalid("extra_claims_json", "must be a JSON object")),
        Err(e) => Err(Error::InvalidArgument(format!(
            "extra_claims_json is not valid JSON: {e}"
        ))),
    }
}

/// A shared reference from a handle pointer; NULL is an invalid argument.
///
/// # Safety
/// A non-NULL `ptr` must come from the matching keyfob constructor and not be freed yet.
pub(crate) unsafe fn handle<'a, T>(ptr: *const T, what: &str) -> Result<&'a T> {
    // SAFETY: forwarded contract.
    unsafe { ptr.as_ref() }.ok_or_else(|| invalid(what, "must not be NULL"))
}

/// A required out-parameter for an owned handle, set to NULL at once so the caller never
/// sees a stale value after an error.
///
/// # Safety
/// A non-NULL `out` must be valid for writes.
pub(crate) unsafe fn handle_out<'a, T>(out: *mut *mut T, what: &str) -> Result<&'a mut *mut T> {
    // SAFETY: forwarded contract.
    let slot = unsafe { out.as_mut() }.ok_or_else(|| invalid(what, "must not be NULL"))?;
    *slot = ptr::null_mut();
    Ok(slot)
}

/// An optional out-parameter for a handle (NULL: the caller does not want it),
/// set to NULL at once when present.
///
/// # Safety
/// A non-NULL `out` must be valid for writes.
pub(crate) unsafe fn optional_handle_out<'a, T>(out: *mut *mut T) -> Option<&'a mut *mut T> {
    // SAFETY: forwarded contract.
    let slot = unsafe { out.as_mut() }?;
    *slot = ptr::null_mut();
    Some(slot)
}

/// A required out-parameter for a plain value.
///
/// # Safety
/// A non-NULL `out` must be valid for writes.
pub(crate) unsafe fn value_out<'a, T>(out: *mut T, what: &str) -> Result<&'a mut T> {
    // SAFETY: forwarded contract.
    unsafe { out.as_mut() }.ok_or_else(|| invalid(what, "must not be NULL"))
}

/// Write `value` to an optional out-parameter: NULL means the caller does not want it.
///
/// # Safety
/// A non-NULL `out` must be valid for writes.
pub(crate) unsafe fn write_optional<T>(out: *mut T, value: T) {
    // SAFETY: forwarded contract.
    if let Some(slot) = unsafe { out.as_mut() } {
        *slot = value;
    }
}

/// Move a value to the heap and hand its pointer to C.
pub(crate) fn into_handle<T>(value: T) -> *mut T {
    Box::into_raw(Box::new(value))
}

/// Take back and drop a handle given out by [`into_handle`]; NULL is a no-op.
///
/// # Safety
/// A non-NULL `ptr` must come from [`into_handle`] for the same `T`, and not be freed yet.
pub(crate) unsafe fn free_handle<T>(ptr: *mut T) {
    if !ptr.is_null() {
        // SAFETY: forwarded contract.
        drop(unsafe { Box::from_raw(ptr) });
    }
}
