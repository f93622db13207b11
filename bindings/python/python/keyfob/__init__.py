"""keyfob: an embeddable sliding-session engine (JWT access/refresh tokens, sessions with a
sliding idle window and an absolute lifetime, refresh rotation with reuse detection, and
immediate revocation), implemented in Rust.

    >>> import keyfob
    >>> engine = keyfob.Engine("change-me-to-32-or-more-random-bytes!")
    >>> pair = engine.login(42)
    >>> engine.validate(pair.access)["user_id"]
    '42'

Errors are raised as subclasses of :class:`TokenError`, one per stable error code.
Sessions can be bound to one client: ``login(..., client_id=...)`` and/or
``login(..., dpop=keyfob.DpopRequest(proof, method, url))`` (RFC 9449); see ``Engine.login``.
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
    DpopRequest,
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
    jwk_thumbprint,
)

__all__ = [
    "AlgorithmNotAllowedError",
    "BadSignatureError",
    "BufferTooSmallError",
    "ClientMismatchError",
    "ConfigError",
    "DpopInvalidError",
    "DpopReplayedError",
    "DpopRequest",
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
    "jwk_thumbprint",
]
