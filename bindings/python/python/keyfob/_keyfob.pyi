"""Type stubs for the native module ``keyfob._keyfob`` (checked by ``mypy.stubtest``)."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar, TypeAlias, TypedDict, final

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

__version__: str

_Seconds: TypeAlias = int | timedelta
"""A duration: whole seconds, or a ``timedelta`` of whole seconds."""

_Milliseconds: TypeAlias = int | timedelta
"""A duration: whole milliseconds, or a ``timedelta`` of whole milliseconds."""

_Key: TypeAlias = str | bytes
"""Key material: an HMAC secret or a PEM key, as text or UTF-8 bytes."""

class _Stats(TypedDict):
    sessions: int
    revoked_sessions: int
    denied_jtis: int
    user_epochs: int

@final
class ManualClock:
    """A clock that moves only when told to. Engines built with it share its time."""

    def __new__(cls, now: int) -> ManualClock: ...
    def set(self, now: int) -> None: ...
    def advance(self, seconds: _Seconds) -> None: ...
    def now(self) -> int: ...

@final
class TokenPair:
    """Access and refresh tokens of one session (immutable)."""

    @property
    def access(self) -> str: ...
    @property
    def refresh(self) -> str | None: ...
    @property
    def session_id(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SlidingToken:
    """A sliding token and its session (immutable)."""

    @property
    def token(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class DpopRequest:
    """A DPoP proof (the request's ``DPoP`` header) with the method and absolute URL of the
    request it came with, as the server received them (query and fragment are ignored)."""

    def __new__(cls, proof: str, method: str, url: str) -> DpopRequest: ...
    @property
    def proof(self) -> str: ...
    @property
    def method(self) -> str: ...
    @property
    def url(self) -> str: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def jwk_thumbprint(jwk: str | dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint (base64url) of a public JWK: a DPoP-bound token's
    ``cnf.jkt``."""

@final
class Engine:
    """The sliding-session engine. Thread-safe: build one per process and share it."""

    def __new__(
        cls,
        signing_key: _Key,
        *,
        clock: ManualClock | Callable[[], float] | None = None,
        algorithm: str = "HS256",
        key_id: str | None = None,
        verifying_keys: dict[str, _Key] = ...,
        access_lifetime_s: _Seconds = 300,
        refresh_lifetime_s: _Seconds = 43200,
        idle_timeout_s: _Seconds = 1800,
        sliding_lifetime_s: _Seconds = 300,
        accept_sessionless: bool = False,
        store: str = "memory",
        store_prefix: str = ...,
        store_timeout_ms: _Milliseconds = ...,
        rotate_refresh: bool = True,
        reuse_grace_s: _Seconds = 0,
        leeway_s: _Seconds = 0,
        issuer: str | None = None,
        audience: str | None = None,
        user_id_claim: str = "user_id",
        token_type_claim: str = "token_type",
        jti_claim: str = "jti",
        touch_on_validate: bool = True,
        max_token_bytes: int = 8192,
        client_mismatch_revokes: bool = True,
        bind_validate: bool = False,
        dpop_iat_window_s: _Seconds = 60,
        dpop_replay_cache_size: int = 100000,
    ) -> Engine: ...
    def login(
        self,
        user_id: str | int,
        extra: dict[str, Any] | None = None,
        *,
        client_id: str | None = None,
        dpop: DpopRequest | None = None,
    ) -> TokenPair: ...
    def validate(
        self, token: str, *, client_id: str | None = None, dpop: DpopRequest | None = None
    ) -> dict[str, Any]: ...
    def validate_sliding(self, token: str) -> dict[str, Any]: ...
    def verify(self, token: str) -> dict[str, Any]: ...
    def refresh(
        self, token: str, *, client_id: str | None = None, dpop: DpopRequest | None = None
    ) -> TokenPair: ...
    def login_sliding(
        self, user_id: str | int, extra: dict[str, Any] | None = None
    ) -> SlidingToken: ...
    def refresh_sliding(self, token: str) -> SlidingToken: ...
    def revoke(self, token: str) -> None: ...
    def revoke_session(self, session_id: str) -> bool: ...
    def revoke_user(self, user_id: str | int) -> int: ...
    def sweep(self) -> int: ...
    def stats(self) -> _Stats: ...
    def now(self) -> int: ...
    def sign_payload(self, payload: str | bytes) -> str:
        """Sign the text of a JSON object with this engine's key and header, adding and
        checking no claim (simplejwt's ``TokenBackend.encode``)."""
    def verify_signature(self, token: str) -> bytes:
        """Check a token's size, header and signature and return its payload bytes, reading
        no claim and no session (simplejwt's ``TokenBackend.decode``)."""

class TokenError(Exception):
    """Base of every keyfob error: ``code`` is the stable number, ``name`` the snake_case name."""

    code: ClassVar[int]
    name: ClassVar[str]

class InvalidTokenError(TokenError):
    """The token itself is bad (codes 1-9)."""

class SessionError(TokenError):
    """The token is well formed, but its session or a revocation refuses it (codes 10-15)."""

class MalformedError(InvalidTokenError): ...
class BadSignatureError(InvalidTokenError): ...
class AlgorithmNotAllowedError(InvalidTokenError): ...
class UnknownKeyError(InvalidTokenError): ...
class ExpiredError(InvalidTokenError): ...
class NotYetValidError(InvalidTokenError): ...
class WrongTypeError(InvalidTokenError): ...
class MissingClaimError(InvalidTokenError): ...
class InvalidClaimError(InvalidTokenError): ...
class RevokedError(SessionError): ...
class SessionIdleError(SessionError): ...
class SessionExpiredError(SessionError): ...
class SessionUnknownError(SessionError): ...
class SessionRequiredError(SessionError): ...
class ReuseDetectedError(SessionError): ...
class InvalidArgumentError(TokenError, ValueError): ...
class ConfigError(TokenError, ValueError): ...
class BufferTooSmallError(TokenError): ...
class StoreUnavailableError(TokenError): ...
class PanicError(TokenError): ...
class ClientMismatchError(TokenError): ...
class DpopInvalidError(TokenError): ...
class DpopReplayedError(TokenError): ...
