"""keyfob: an embeddable sliding-session engine (JWT access/refresh tokens, sessions with a
sliding idle window and an absolute lifetime, refresh rotation with reuse detection, and
immediate revocation), implemented in Rust.

    >>> import keyfob
    >>> engine = keyfob.Engine("change-me-to-32-or-more-random-bytes!")
    >>> pair = engine.login(42)
    >>> engine.validate(pair.access)["user_id"]
    '42'

`Engine` is the whole API; `help(keyfob.Engine)` lists its settings and methods.
`validate`, `validate_sliding` and `verify` return the token's claims as a dict, typed
`Claims`; `stats` returns a `Stats`, `sessions` a list of `SessionInfo`, `metrics` a
`Metrics`, and an event handler receives `Event`s. Sessions can be bound to one client:
`login(..., client_id=...)` and/or `login(..., dpop=keyfob.DpopRequest(proof, method, url))`
(RFC 9449).

Every error is a `KeyfobError`, with a subclass per stable error code (`.code`, `.name`):

    KeyfobError
    ├── InvalidTokenError          a presented token was refused (a web API answers 401)
    │   ├── MalformedError, BadSignatureError, AlgorithmNotAllowedError, UnknownKeyError,
    │   │   ExpiredError, NotYetValidError, WrongTypeError, MissingClaimError,
    │   │   InvalidClaimError                      the token itself is bad
    │   ├── SessionError           its session or a revocation refuses it
    │   │   └── RevokedError, SessionIdleError, SessionExpiredError, SessionUnknownError,
    │   │       SessionRequiredError, ReuseDetectedError
    │   └── ClientMismatchError, DpopInvalidError, DpopReplayedError
    │                                          the caller is not the session's client
    ├── InvalidArgumentError, ConfigError      also ValueError
    └── StoreUnavailableError, BufferTooSmallError, PanicError

There is no `keyfob.TokenError`: that name belongs to simplejwt, and to
`keyfob.drf.exceptions.TokenError`, its drop-in.

`keyfob.drf` is the drop-in for `rest_framework_simplejwt`.
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
    KeyfobError,
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
    TokenPair,
    UnknownKeyError,
    WrongTypeError,
    __version__,
    jwk_thumbprint,
)
from keyfob._types import Claims, Event, Histogram, Metrics, NearCache, SessionInfo, Stats

__all__ = [
    "AlgorithmNotAllowedError",
    "BadSignatureError",
    "BufferTooSmallError",
    "Claims",
    "ClientMismatchError",
    "ConfigError",
    "DpopInvalidError",
    "DpopReplayedError",
    "DpopRequest",
    "Engine",
    "Event",
    "ExpiredError",
    "Histogram",
    "InvalidArgumentError",
    "InvalidClaimError",
    "InvalidTokenError",
    "KeyfobError",
    "MalformedError",
    "ManualClock",
    "Metrics",
    "MissingClaimError",
    "NearCache",
    "NotYetValidError",
    "PanicError",
    "ReuseDetectedError",
    "RevokedError",
    "SessionError",
    "SessionExpiredError",
    "SessionIdleError",
    "SessionInfo",
    "SessionRequiredError",
    "SessionUnknownError",
    "SlidingToken",
    "Stats",
    "StoreUnavailableError",
    "TokenPair",
    "UnknownKeyError",
    "WrongTypeError",
    "__version__",
    "jwk_thumbprint",
]
