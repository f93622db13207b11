//! `keyfob_status`: the C view of [`ErrorCode`], plus the static name and message lookups.

use std::ffi::{c_char, CStr, CString};
use std::sync::OnceLock;

use crate::panic::ffi_boundary;
use keyfob::ErrorCode;

/// What every fallible keyfob function returns: `KEYFOB_OK` (0) on success, otherwise one
/// of the stable error numbers shared with Rust (`keyfob::ErrorCode`) and Python
/// (the `code` of keyfob's exceptions). Numbers never change meaning; new ones are appended.
/// `keyfob_status_name` and `keyfob_status_message` describe any number.
#[repr(u32)]
#[allow(non_camel_case_types, clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum keyfob_status {
    /// Success.
    KEYFOB_OK = 0,
    /// The token is not a well-formed compact JWS (parts, base64, JSON, UTF-8, size).
    KEYFOB_MALFORMED = 1,
    /// The token's signature does not match.
    KEYFOB_BAD_SIGNATURE = 2,
    /// The token's header names an algorithm the key is not configured for (including `none`).
    KEYFOB_ALGORITHM_NOT_ALLOWED = 3,
    /// The token's header names a `kid` the key ring does not know.
    KEYFOB_UNKNOWN_KEY = 4,
    /// The token's `exp` has passed.
    KEYFOB_EXPIRED = 5,
    /// The token's `nbf` or `iat` lies in the future.
    KEYFOB_NOT_YET_VALID = 6,
    /// The token is of another type than the operation needs (e.g. a refresh token to validate).
    KEYFOB_WRONG_TYPE = 7,
    /// A required claim is absent.
    KEYFOB_MISSING_CLAIM = 8,
    /// A claim has the wrong type or value.
    KEYFOB_INVALID_CLAIM = 9,
    /// The token, its session or its user was revoked.
    KEYFOB_REVOKED = 10,
    /// The session ended after inactivity.
    KEYFOB_SESSION_IDLE = 11,
    /// The session reached its absolute lifetime.
    KEYFOB_SESSION_EXPIRED = 12,
    /// The token names a session this engine does not know.
    KEYFOB_SESSION_UNKNOWN = 13,
    /// The token has no session and sessionless tokens are not accepted.
    KEYFOB_SESSION_REQUIRED = 14,
    /// A rotated refresh token was presented again; its session is now revoked.
    KEYFOB_REUSE_DETECTED = 15,
    /// An argument is invalid: a NULL pointer, a non-UTF-8 or empty string, bad JSON.
    KEYFOB_INVALID_ARGUMENT = 16,
    /// The configuration is invalid.
    KEYFOB_CONFIG = 17,
    /// The caller's buffer is too small; the needed length was written out.
    KEYFOB_BUFFER_TOO_SMALL = 18,
    /// The session store could not be reached.
    KEYFOB_STORE_UNAVAILABLE = 19,
    /// An internal panic was caught at the API boundary (a bug in keyfob; please report it).
    KEYFOB_PANIC = 20,
    /// The client binding presented does not match the session's.
    KEYFOB_CLIENT_MISMATCH = 21,
    /// A DPoP proof is invalid.
    KEYFOB_DPOP_INVALID = 22,
    /// A DPoP proof was replayed.
    KEYFOB_DPOP_REPLAYED = 23,
}

impl From<ErrorCode> for keyfob_status {
    fn from(code: ErrorCode) -> Self {
        use keyfob_status::*;
        // `ErrorCode` is non-exhaustive, so a code added to the core still compiles here
        // unmapped; the test below (over `ErrorCode::ALL`) fails until it is mapped.
        match code {
            ErrorCode::Malformed => KEYFOB_MALFORMED,
            ErrorCode::BadSignature => KEYFOB_BAD_SIGNATURE,
            ErrorCode::AlgorithmNotAllowed => KEYFOB_ALGORITHM_NOT_ALLOWED,
            ErrorCode::UnknownKey => KEYFOB_UNKNOWN_KEY,
            ErrorCode::Expired => KEYFOB_EXPIRED,
            ErrorCode::NotYetValid => KEYFOB_NOT_YET_VALID,
            ErrorCode::WrongType => KEYFOB_WRONG_TYPE,
            ErrorCode::MissingClaim => KEYFOB_MISSING_CLAIM,
            ErrorCode::InvalidClaim => KEYFOB_INVALID_CLAIM,
            ErrorCode::Revoked => KEYFOB_REVOKED,
            ErrorCode::SessionIdle => KEYFOB_SESSION_IDLE,
            ErrorCode::SessionExpired => KEYFOB_SESSION_EXPIRED,
            ErrorCode::SessionUnknown => KEYFOB_SESSION_UNKNOWN,
            ErrorCode::SessionRequired => KEYFOB_SESSION_REQUIRED,
            ErrorCode::ReuseDetected => KEYFOB_REUSE_DETECTED,
            ErrorCode::InvalidArgument => KEYFOB_INVALID_ARGUMENT,
            ErrorCode::Config => KEYFOB_CONFIG,
            ErrorCode::BufferTooSmall => KEYFOB_BUFFER_TOO_SMALL,
            ErrorCode::StoreUnavailable => KEYFOB_STORE_UNAVAILABLE,
            ErrorCode::Panic => KEYFOB_PANIC,
            ErrorCode::ClientMismatch => KEYFOB_CLIENT_MISMATCH,
            ErrorCode::DpopInvalid => KEYFOB_DPOP_INVALID,
            ErrorCode::DpopReplayed => KEYFOB_DPOP_REPLAYED,
            // Unreachable while every code is mapped: a bug in keyfob, like a panic.
            _ => KEYFOB_PANIC,
        }
    }
}

/// NUL-terminated copies of the names and messages, indexed by number (0 = success),
/// built once from `ErrorCode` so the texts have a single source.
struct StatusTexts {
    names: Vec<CString>,
    messages: Vec<CString>,
}

fn texts() -> &'static StatusTexts {
    static TEXTS: OnceLock<StatusTexts> = OnceLock::new();
    TEXTS.get_or_init(|| {
        let c = |s: &str| CString::new(s).unwrap_or_default();
        let mut names = vec![c("ok")];
        let mut messages = vec![c("success")];
        for code in ErrorCode::ALL {
            debug_assert_eq!(code as usize, names.len());
            names.push(c(code.name()));
            messages.push(c(code.message()));
        }
        StatusTexts { names, messages }
    })
}

const UNKNOWN: &CStr = match CStr::from_bytes_with_nul(b"unknown\0") {
    Ok(s) => s,
    Err(_) => panic!("literal is NUL-terminated"),
};

fn lookup(table: &[CString], status: u32) -> *const c_char {
    let text = usize::try_from(status)
        .ok()
        .and_then(|i| table.get(i))
        .map_or(UNKNOWN, CString::as_c_str);
    text.as_ptr()
}

/// The snake_case name of a status number, e.g. `"reuse_detected"`; `"ok"` for 0 and
/// `"unknown"` for a number keyfob does not define.
///
/// Ownership: the returned string is static and NUL-terminated; never free it.
#[no_mangle]
pub extern "C" fn keyfob_status_name(status: u32) -> *const c_char {
    ffi_boundary!(*const c_char => { lookup(&texts().names, status) })
}

/// A short English message for a status number, e.g. `"token is expired"`; `"success"` for 0
/// and `"unknown"` for a number keyfob does not define.
///
/// Ownership: the returned string is static and NUL-terminated; never free it.
#[no_mangle]
pub extern "C" fn keyfob_status_message(status: u32) -> *const c_char {
    ffi_boundary!(*const c_char => { lookup(&texts().messages, status) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(p: *const c_char) -> &'static str {
        assert!(!p.is_null());
        // SAFETY: the lookups return pointers into static NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_str().unwrap()
    }

    #[test]
    fn every_error_code_has_the_same_number_as_its_status() {
        for code in ErrorCode::ALL {
            let status = keyfob_status::from(code);
            assert_eq!(status as u32, code as u32, "{code:?} vs {status:?}");
        }
        assert_eq!(keyfob_status::KEYFOB_OK as u32, 0);
        assert!(ErrorCode::ALL.iter().all(|c| *c as u32 != 0));
    }

    #[test]
    fn names_and_messages_come_from_the_error_codes() {
        for code in ErrorCode::ALL {
            assert_eq!(text(keyfob_status_name(code as u32)), code.name());
            assert_eq!(text(keyfob_status_message(code as u32)), code.message());
        }
        assert_eq!(text(keyfob_status_name(0)), "ok");
        assert_eq!(text(keyfob_status_message(0)), "success");
    }

    #[test]
    fn unknown_numbers_are_unknown() {
        for n in [ErrorCode::ALL.len() as u32 + 1, 999, u32::MAX] {
            assert_eq!(text(keyfob_status_name(n)), "unknown");
            assert_eq!(text(keyfob_status_message(n)), "unknown");
        }
    }
}
