"""keyfob: an embeddable sliding-session engine (JWT access/refresh tokens, sessions with a
sliding idle window and an absolute lifetime, refresh rotation with reuse detection, and
immediate revocation), implemented in Rust.

    >>> import keyfob
    >>> engine = keyfob.Engine("change-me-to-32-or-more-random-bytes!")
    >>> pair = engine.login(42)
    >>> engine.validate(pair.access)["user_id"]
    '42'

Errors are raised as subclasses of :class:`TokenError`, one per stable error code.
``keyfob.drf`` is the drop-in for ``rest_framework_simplejwt``.
"""

from keyfob._keyfob import (
    AlgorithmNotAllowedError,
    BadSignatureError,
    BufferTooSmallError,
    ClientMismatchError,
    ConfigError,
    DpopInvalidError,
    DpopReplayedError,
    Engine,
    ExpiredError,
    InvalidArgumentError,
    InvalidClaimError,
    InvalidTokenError,
    MalformedError,
    ManualClock,
    MissingClaimError,
    NotYetValidError,
    PanicError,
    ReuseDetectedError,
    RevokedError,
    SessionError,
    SessionExpiredError,
    SessionIdleError,
    SessionRequiredError,
    SessionUnknownError,
    SlidingToken,
    StoreUnavailableError,
    TokenError,
    TokenPair,
    UnknownKeyError,
    WrongTypeError,
    __version__,
)

__all__ = [
    "AlgorithmNotAllowedError",
    "BadSignatureError",
    "BufferTooSmallError",
    "ClientMismatchError",
    "ConfigError",
    "DpopInvalidError",
    "DpopReplayedError",
    "Engine",
    "ExpiredError",
    "InvalidArgumentError",
    "InvalidClaimError",
    "InvalidTokenError",
    "MalformedError",
    "ManualClock",
    "MissingClaimError",
    "NotYetValidError",
    "PanicError",
    "ReuseDetectedError",
    "RevokedError",
    "SessionError",
    "SessionExpiredError",
    "SessionIdleError",
    "SessionRequiredError",
    "SessionUnknownError",
    "SlidingToken",
    "StoreUnavailableError",
    "TokenError",
    "TokenPair",
    "UnknownKeyError",
    "WrongTypeError",
    "__version__",
]
