//! The one error type, with stable numeric codes shared by Rust, C and Python.

use std::fmt;

/// Stable numeric error codes. A number, once given, keeps its meaning forever;
/// new codes are appended. `0` is reserved for success in the C ABI.
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// The token is not a well-formed compact JWS (parts, base64, JSON).
    Malformed = 1,
    /// The signature does not match.
    BadSignature = 2,
    /// The header names an algorithm the key is not configured for (including `none`).
    AlgorithmNotAllowed = 3,
    /// The header names a `kid` the key ring does not know.
    UnknownKey = 4,
    /// The token's `exp` has passed.
    Expired = 5,
    /// The token's `nbf` or `iat` lies in the future.
    NotYetValid = 6,
    /// The token is of another type than the operation needs.
    WrongType = 7,
    /// A required claim is absent.
    MissingClaim = 8,
    /// A claim has the wrong type or value.
    InvalidClaim = 9,
    /// The token, its session or its user was revoked.
    Revoked = 10,
    /// The session ended after inactivity.
    SessionIdle = 11,
    /// The session reached its absolute lifetime.
    SessionExpired = 12,
    /// The token names a session the store does not know.
    SessionUnknown = 13,
    /// The token has no session and sessionless tokens are not accepted.
    SessionRequired = 14,
    /// A rotated refresh token was presented again; the session is revoked.
    ReuseDetected = 15,
    /// The caller passed an invalid argument.
    InvalidArgument = 16,
    /// The configuration is invalid.
    Config = 17,
    /// The caller's buffer is too small (C ABI).
    BufferTooSmall = 18,
    /// The session store could not be reached.
    StoreUnavailable = 19,
    /// An internal panic was caught at the API boundary.
    Panic = 20,
    /// The client binding presented does not match the session's.
    ClientMismatch = 21,
    /// A DPoP proof is invalid.
    DpopInvalid = 22,
    /// A DPoP proof was replayed.
    DpopReplayed = 23,
}

impl ErrorCode {
    /// Every code, in numeric order.
    pub const ALL: [ErrorCode; 23] = [
        ErrorCode::Malformed,
        ErrorCode::BadSignature,
        ErrorCode::AlgorithmNotAllowed,
        ErrorCode::UnknownKey,
        ErrorCode::Expired,
        ErrorCode::NotYetValid,
        ErrorCode::WrongType,
        ErrorCode::MissingClaim,
        ErrorCode::InvalidClaim,
        ErrorCode::Revoked,
        ErrorCode::SessionIdle,
        ErrorCode::SessionExpired,
        ErrorCode::SessionUnknown,
        ErrorCode::SessionRequired,
        ErrorCode::ReuseDetected,
        ErrorCode::InvalidArgument,
        ErrorCode::Config,
        ErrorCode::BufferTooSmall,
        ErrorCode::StoreUnavailable,
        ErrorCode::Panic,
        ErrorCode::ClientMismatch,
        ErrorCode::DpopInvalid,
        ErrorCode::DpopReplayed,
    ];

    /// The code for a number, if it is one.
    pub fn from_u32(n: u32) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| *c as u32 == n)
    }

    /// The snake_case name, e.g. `"reuse_detected"`.
    pub fn name(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "malformed",
            ErrorCode::BadSignature => "bad_signature",
            ErrorCode::AlgorithmNotAllowed => "algorithm_not_allowed",
            ErrorCode::UnknownKey => "unknown_key",
            ErrorCode::Expired => "expired",
            ErrorCode::NotYetValid => "not_yet_valid",
            ErrorCode::WrongType => "wrong_type",
            ErrorCode::MissingClaim => "missing_claim",
            ErrorCode::InvalidClaim => "invalid_claim",
            ErrorCode::Revoked => "revoked",
            ErrorCode::SessionIdle => "session_idle",
            ErrorCode::SessionExpired => "session_expired",
            ErrorCode::SessionUnknown => "session_unknown",
            ErrorCode::SessionRequired => "session_required",
            ErrorCode::ReuseDetected => "reuse_detected",
            ErrorCode::InvalidArgument => "invalid_argument",
            ErrorCode::Config => "config",
            ErrorCode::BufferTooSmall => "buffer_too_small",
            ErrorCode::StoreUnavailable => "store_unavailable",
            ErrorCode::Panic => "panic",
            ErrorCode::ClientMismatch => "client_mismatch",
            ErrorCode::DpopInvalid => "dpop_invalid",
            ErrorCode::DpopReplayed => "dpop_replayed",
        }
    }

    /// A short human message for the code.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::Malformed => "token is malformed",
            ErrorCode::BadSignature => "token signature is invalid",
            ErrorCode::AlgorithmNotAllowed => "token algorithm is not allowed",
            ErrorCode::UnknownKey => "token key id is unknown",
            ErrorCode::Expired => "token is expired",
            ErrorCode::NotYetValid => "token is not yet valid",
            ErrorCode::WrongType => "token has wrong type",
            ErrorCode::MissingClaim => "token is missing a required claim",
            ErrorCode::InvalidClaim => "token has an invalid claim",
            ErrorCode::Revoked => "token is revoked",
            ErrorCode::SessionIdle => "session ended after inactivity",
            ErrorCode::SessionExpired => "session reached its maximum lifetime",
            ErrorCode::SessionUnknown => "session is unknown",
            ErrorCode::SessionRequired => "token is not bound to a session",
            ErrorCode::ReuseDetected => "refresh token reuse detected; session revoked",
            ErrorCode::InvalidArgument => "invalid argument",
            ErrorCode::Config => "invalid configuration",
            ErrorCode::BufferTooSmall => "buffer too small",
            ErrorCode::StoreUnavailable => "session store unavailable",
            ErrorCode::Panic => "internal panic",
            ErrorCode::ClientMismatch => "client binding does not match",
            ErrorCode::DpopInvalid => "DPoP proof is invalid",
            ErrorCode::DpopReplayed => "DPoP proof was replayed",
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything that can go wrong. Each variant maps to one stable [`ErrorCode`].
/// Messages never contain key material.
///
/// ```
/// use keyfob::{Config, Engine, Error, ErrorCode};
///
/// let engine = Engine::new(Config::with_secret("change-me-to-32-or-more-random-bytes!")).unwrap();
/// let err = engine.validate("not-a-token").unwrap_err();
/// assert!(matches!(err, Error::Malformed(_)));
/// assert_eq!(err.code(), ErrorCode::Malformed);
/// // The same number in C (`KEYFOB_MALFORMED`) and in Python (the exception's `code`).
/// assert_eq!(err.code() as u32, 1);
/// assert_eq!(err.name(), "malformed");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The token is not a well-formed compact JWS; the text says which part.
    Malformed(&'static str),
    /// The signature does not match.
    BadSignature,
    /// The header's algorithm is not the configured one (or is `none`).
    AlgorithmNotAllowed,
    /// The header's `kid` is not in the key ring.
    UnknownKey,
    /// The token's `exp` has passed.
    Expired,
    /// The token's `nbf`/`iat` is in the future beyond the leeway.
    NotYetValid,
    /// The token is of another type than the operation needs.
    WrongType,
    /// A required claim (named) is absent.
    MissingClaim(String),
    /// A claim (named) has the wrong type or value.
    InvalidClaim(String),
    /// The token, its session or its user was revoked.
    Revoked,
    /// The session ended after inactivity.
    SessionIdle,
    /// The session reached its absolute lifetime.
    SessionExpired,
    /// The token names a session the store does not know.
    SessionUnknown,
    /// The token carries no session and sessionless tokens are not accepted.
    SessionRequired,
    /// A rotated refresh token was replayed; the session has been revoked.
    ReuseDetected,
    /// The caller passed an invalid argument; the text says which.
    InvalidArgument(String),
    /// The configuration is invalid; the text names the field.
    Config(String),
    /// The caller's buffer is too small; `needed` bytes are required.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// The session store could not be reached.
    StoreUnavailable(String),
    /// A panic was caught at the API boundary.
    Panic,
    /// The presented client binding does not match the session's.
    ClientMismatch,
    /// A DPoP proof is invalid; the text says why.
    DpopInvalid(String),
    /// A DPoP proof was replayed.
    DpopReplayed,
}

impl Error {
    /// A token given as bytes that are not UTF-8 (what every token method answers for one).
    pub(crate) const TOKEN_NOT_UTF8: Error = Error::Malformed("token is not UTF-8");

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Malformed(_) => ErrorCode::Malformed,
            Error::BadSignature => ErrorCode::BadSignature,
            Error::AlgorithmNotAllowed => ErrorCode::AlgorithmNotAllowed,
            Error::UnknownKey => ErrorCode::UnknownKey,
            Error::Expired => ErrorCode::Expired,
            Error::NotYetValid => ErrorCode::NotYetValid,
            Error::WrongType => ErrorCode::WrongType,
            Error::MissingClaim(_) => ErrorCode::MissingClaim,
            Error::InvalidClaim(_) => ErrorCode::InvalidClaim,
            Error::Revoked => ErrorCode::Revoked,
            Error::SessionIdle => ErrorCode::SessionIdle,
            Error::SessionExpired => ErrorCode::SessionExpired,
            Error::SessionUnknown => ErrorCode::SessionUnknown,
            Error::SessionRequired => ErrorCode::SessionRequired,
            Error::ReuseDetected => ErrorCode::ReuseDetected,
            Error::InvalidArgument(_) => ErrorCode::InvalidArgument,
            Error::Config(_) => ErrorCode::Config,
            Error::BufferTooSmall { .. } => ErrorCode::BufferTooSmall,
            Error::StoreUnavailable(_) => ErrorCode::StoreUnavailable,
            Error::Panic => ErrorCode::Panic,
            Error::ClientMismatch => ErrorCode::ClientMismatch,
            Error::DpopInvalid(_) => ErrorCode::DpopInvalid,
            Error::DpopReplayed => ErrorCode::DpopReplayed,
        }
    }

    /// The snake_case name of the code, e.g. `"expired"`.
    pub fn name(&self) -> &'static str {
        self.code().name()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.code().message();
        match self {
            Error::Malformed(what) => write!(f, "{base}: {what}"),
            Error::MissingClaim(c) => write!(f, "{base}: '{c}'"),
            Error::InvalidClaim(c) => write!(f, "{base}: '{c}'"),
            Error::InvalidArgument(m) | Error::Config(m) | Error::StoreUnavailable(m) => {
                write!(f, "{base}: {m}")
            }
            Error::DpopInvalid(m) => write!(f, "{base}: {m}"),
            Error::BufferTooSmall { needed } => write!(f, "{base}: {needed} bytes needed"),
            _ => f.write_str(base),
        }
    }
}

impl std::error::Error for Error {}

/// `Result` with keyfob's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
