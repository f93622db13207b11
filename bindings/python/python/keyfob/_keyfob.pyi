"""Type stubs for the native module `keyfob._keyfob` (checked by `mypy.stubtest`).

Every docstring here is also the object's docstring at run time (the pyo3 code carries the
same text), so an editor's hover and `help()` say the same; the tests check both match.
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any, ClassVar, TypeAlias, final

from keyfob._types import Claims, Event, Metrics, SessionInfo, Stats

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
    "KeyfobError",
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
    "TokenPair",
    "UnknownKeyError",
    "WrongTypeError",
    "__version__",
    "jwk_thumbprint",
]

__version__: str

_Seconds: TypeAlias = int | timedelta
"""A duration: whole seconds, or a `timedelta` of whole seconds."""

_Milliseconds: TypeAlias = int | timedelta
"""A duration: whole milliseconds, or a `timedelta` of whole milliseconds."""

_Key: TypeAlias = str | bytes
"""Key material: an HMAC secret or a PEM key, as text or UTF-8 bytes."""

@final
class ManualClock:
    """A clock standing at `now` (Unix seconds) that moves only when told to, for tests of
    expiry and idle timeouts. Engines built with `clock=` share its time."""

    def __new__(cls, now: int) -> ManualClock: ...
    def set(self, now: int) -> None:
        """Set the time (Unix seconds)."""

    def advance(self, seconds: _Seconds) -> None:
        """Move the time by `seconds` (an `int` or a `timedelta`; negative goes back)."""

    def now(self) -> int:
        """The current time (Unix seconds)."""

@final
class TokenPair:
    """The access and refresh tokens of one session, as `login` and `refresh` return them
    (immutable; `repr` shows only the start of each token)."""

    @property
    def access(self) -> str:
        """The access token: what a client sends with each request."""

    @property
    def refresh(self) -> str | None:
        """The refresh token, for `Engine.refresh`; None after a refresh with
        `rotate_refresh=False` (the client keeps its refresh token)."""

    @property
    def session_id(self) -> str:
        """The session's id (the tokens' `sid`), for `Engine.revoke_session`."""

    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class SlidingToken:
    """A sliding token (simplejwt's single-token mode) and its session, as `login_sliding`
    and `refresh_sliding` return them (immutable)."""

    @property
    def token(self) -> str:
        """The sliding token: sent with each request, and renewed with
        `Engine.refresh_sliding`."""

    @property
    def session_id(self) -> str:
        """The session's id (the token's `sid`), for `Engine.revoke_session`."""

    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class DpopRequest:
    """A DPoP proof (RFC 9449) with the request it came with: the request's `DPoP` header,
    its HTTP method, and its absolute URL as the client addressed it (query and fragment
    are ignored). Pass it as `dpop=` to `Engine.login`, `refresh` and `validate`."""

    def __new__(cls, proof: str, method: str, url: str) -> DpopRequest: ...
    @property
    def proof(self) -> str:
        """The proof: a JWT signed with the client's private key."""

    @property
    def method(self) -> str:
        """The request's HTTP method, such as "POST"."""

    @property
    def url(self) -> str:
        """The request's absolute URL, such as "https://api.example.com/api/token/"."""

    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

def jwk_thumbprint(jwk: str | dict[str, Any]) -> str:
    """The RFC 7638 SHA-256 thumbprint (base64url) of a public JWK, given as JSON text or a
    dict: the `jkt` a DPoP-bound token carries in its `cnf` claim."""

@final
class Engine:
    """The sliding-session engine: it issues access, refresh and sliding tokens, keeps each
    login as a session with an idle timeout and an absolute lifetime, and validates,
    refreshes and revokes them. Thread-safe: build one per process and share it.

    `Engine(signing_key, *, clock=None, on_event=None, **config)`: `signing_key` is an
    HMAC secret (at least 32 bytes) or a PEM private key (PKCS#8; PKCS#1 for RSA), as `str`
    or UTF-8 `bytes`; `clock` a `ManualClock` for tests, or a callable returning Unix
    seconds read as each call starts (`time.time`: freezegun and time-machine then move the
    engine; default: the system clock). Every other keyword is a configuration field, named
    as in Rust and in the C interface's JSON (shown with its default):

    - `algorithm="HS256"`: "HS256", "HS384", "HS512", "EdDSA", "ES256" or "RS256".
    - `key_id=None`: the signing key's `kid`, written into every token's header.
    - `verifying_keys={}`: further keys accepted for verification, by `kid` (HMAC secrets
      or PEM public keys), such as the keys used before a key rotation.
    - `access_lifetime_s=300`: the lifetime of an access token.
    - `refresh_lifetime_s=43200`: a session's absolute lifetime (the refresh token's `exp`).
    - `idle_timeout_s=1800`: a session ends after this long without a validate or refresh.
    - `sliding_lifetime_s=300`: the lifetime of a sliding token.
    - `accept_sessionless=False`: accept tokens without a `sid` (minted by simplejwt or
      PyJWT with this key), checked statelessly plus the revocations of `revoke` and
      `revoke_user`.
    - `store="memory"`: where sessions live: "memory" (in this process) or a Redis URL
      shared by every process: `redis://[:password@]host:port/db` (`rediss://` for TLS),
      `redis+sentinel://host:port,host:port/master-set/db` (a primary found through
      Sentinel) or `redis+cluster://host:port,host:port` (`rediss+...` for TLS).
    - `store_prefix="keyfob:"`: the prefix of every key a shared store writes.
    - `store_timeout_ms=200`: the bound on each connect, read and write to a shared store;
      past it the call raises `StoreUnavailableError`.
    - `store_tls_ca=None`, `store_tls_cert=None`, `store_tls_key=None`: paths to PEM
      files: the CA a TLS Redis's certificate must chain to (default: the system's
      roots), and a client certificate with its key for mutual TLS.
    - `store_wait_replicas=0`: revocations and rotations return only once this many
      replicas have them (Redis `WAIT`); fewer within `store_wait_timeout_ms=100` raises
      `StoreUnavailableError`.
    - `rotate_refresh=True`: every refresh returns a new refresh token, and presenting a
      rotated one again revokes the session.
    - `reuse_grace_s=0`: for this long after a rotation, the previous refresh token gets
      the current one again instead of counting as reuse (concurrent refreshes converge).
    - `leeway_s=0`: the clock skew tolerated on `exp`, `nbf` and `iat`.
    - `issuer=None`, `audience=None`: the `iss` and `aud` to write into tokens and require.
    - `user_id_claim="user_id"`, `token_type_claim="token_type"`, `jti_claim="jti"`:
      the names of those claims.
    - `touch_on_validate=True`: `validate` slides the session's idle deadline.
    - `max_token_bytes=8192`: longer tokens raise `MalformedError` unread.
    - `client_mismatch_revokes=True`: a refresh (or bound validate) presenting another
      `client_id` than its session's revokes the session.
    - `bind_validate=False`: `validate` also requires the session's `client_id`.
    - `dpop_iat_window_s=60`: how old a DPoP proof may be.
    - `dpop_replay_cache_size=100000`: the most DPoP proof ids remembered for replay
      detection; when full of live ids, new proofs are refused.
    - `max_sessions_per_user=None`: a login past this many live sessions of its user ends
      the user's oldest session.
    - `session_claims_on_validate=False`: `validate` returns the session's current claims
      (see `update_session`).

    `on_event` is called with an event dict after each login, refresh, detected reuse,
    ended session and noticed idle expiry (see `set_event_handler`).

    Durations (`*_s`) take whole seconds as an `int` or a `timedelta`, `*_ms` milliseconds.
    An unknown keyword or an impossible value raises `ConfigError` naming the field (never
    showing a key); a value of the wrong type raises `TypeError`.

    Token arguments must be `str` (else `TypeError`). A refused token raises a subclass of
    `InvalidTokenError`; a shared store that cannot be reached, `StoreUnavailableError`.
    Nothing a caller passes crashes the process.
    """

    def __new__(
        cls,
        signing_key: _Key,
        *,
        clock: ManualClock | Callable[[], float] | None = None,
        on_event: Callable[[Event], object] | None = None,
        algorithm: str = "HS256",
        key_id: str | None = None,
        verifying_keys: dict[str, _Key] = ...,
        access_lifetime_s: _Seconds = 300,
        refresh_lifetime_s: _Seconds = 43200,
        idle_timeout_s: _Seconds = 1800,
        sliding_lifetime_s: _Seconds = 300,
        accept_sessionless: bool = False,
        store: str = "memory",
        store_prefix: str = "keyfob:",
        store_timeout_ms: _Milliseconds = 200,
        store_tls_ca: str | None = None,
        store_tls_cert: str | None = None,
        store_tls_key: str | None = None,
        store_wait_replicas: int = 0,
        store_wait_timeout_ms: _Milliseconds = 100,
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
        max_sessions_per_user: int | None = None,
        session_claims_on_validate: bool = False,
    ) -> Engine: ...
    def login(
        self,
        user_id: str | int,
        extra: dict[str, Any] | None = None,
        *,
        client_id: str | None = None,
        dpop: DpopRequest | None = None,
        label: str | None = None,
        ip: str | None = None,
        user_agent: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TokenPair:
        """Log a user in: a new session, and its access and refresh tokens.

        `user_id` is a `str` or an `int` (written in decimal, as simplejwt writes `user.pk`).
        `extra` holds further claims for both tokens (JSON values; a reserved claim name
        raises `InvalidArgumentError`). `client_id` binds the session to that value: refresh
        must present it again. `dpop`, a proof over this login request, binds the session
        to the proof's key: refresh and validate then need proofs from that key, and the
        tokens carry `cnf.jkt`.

        `label` (a client name such as "Firefox on macOS"), `ip` (an IPv4 or IPv6 address)
        and `user_agent` are kept with the session, as is `data`, the application's own
        JSON-serialisable dict; `sessions()` shows them. Text over 256 bytes, `data` over
        4096 bytes as JSON and an `ip` that is no address raise `InvalidArgumentError`
        (a `ValueError`). With `max_sessions_per_user`, the user's oldest sessions past the
        cap end.
        """

    def validate(
        self, token: str, *, client_id: str | None = None, dpop: DpopRequest | None = None
    ) -> Claims:
        """Authenticate a request by its access token: check the token and its session, slide
        the session's idle deadline, and return the token's claims.

        A DPoP-bound token needs `dpop`, a proof over this request carrying the token's
        `ath`; with `bind_validate`, a client-bound session needs its `client_id`. Raises a
        subclass of `InvalidTokenError` when the token is refused.
        """

    def validate_sliding(self, token: str) -> Claims:
        """`validate` for a sliding token: check it and its session, slide the session, and
        return the token's claims."""

    def verify(self, token: str) -> Claims:
        """Check a token of any type and its session without sliding anything, and return its
        claims (simplejwt's verify endpoint). Needs no client binding."""

    def refresh(
        self, token: str, *, client_id: str | None = None, dpop: DpopRequest | None = None
    ) -> TokenPair:
        """Exchange a refresh token for a new access token and, with `rotate_refresh`, a new
        refresh token; slides the session's idle deadline.

        Presenting a refresh token that was already rotated away revokes the whole session
        (`ReuseDetectedError`), unless within `reuse_grace_s`. A bound session needs what it
        was bound to: the same `client_id`, and/or a `dpop` proof over this request from the
        same key.
        """

    def login_sliding(
        self, user_id: str | int, extra: dict[str, Any] | None = None
    ) -> SlidingToken:
        """Log a user in with one sliding token (simplejwt's single-token mode) bound to a new
        session. `user_id` and `extra` as for `login`."""

    def refresh_sliding(self, token: str) -> SlidingToken:
        """Renew an unexpired sliding token whose session is alive."""

    def revoke(self, token: str) -> None:
        """Revoke what a token stands for: its whole session (logout: the session's access
        tokens fail from the next call on), or a sessionless token's id. Needs no client
        binding; revoking twice raises `RevokedError`."""

    def revoke_session(self, session_id: str) -> bool:
        """Revoke a session by its id. Returns False when it was already revoked; raises
        `SessionUnknownError` when no such session is stored."""

    def revoke_user(self, user_id: str | int, keep: str | None = None) -> int:
        """Revoke every session of a user, and their sessionless tokens issued until now.
        `keep`, a session id, is spared ("sign out my other devices"). Returns how many
        sessions were live."""

    def sessions(self, user_id: str | int) -> list[SessionInfo]:
        """The user's live sessions, newest first, each with its id, times (`created_at`,
        `last_seen`, `idle_deadline`, `absolute_deadline`), login metadata (`label`, `ip`,
        `user_agent`, `data`) and current `claims`."""

    def session(self, session_id: str) -> SessionInfo | None:
        """One live session by id, or None when it is unknown or has ended. An id that is
        not 32 lowercase hex digits raises `InvalidArgumentError`."""

    def update_session(self, session_id: str, claims: dict[str, Any]) -> None:
        """Merge `claims` into the session's claims; a value of None removes that claim. The
        session's next refresh mints them into its tokens, and with
        `session_claims_on_validate` `validate` returns them at once. Reserved claim names,
        `claims` over 4096 bytes as JSON and a session's claims growing past 65536 bytes
        raise `InvalidArgumentError`; an unknown or ended session raises its `SessionError`
        (`SessionUnknownError`, `RevokedError`, ...)."""

    def metrics(self) -> Metrics:
        """The engine's counters since its creation: calls per operation (`operations`),
        failures per error name (`errors`), the store's latency per store operation
        (`store_latency`, cumulative buckets in seconds), `live_sessions`, and the near
        cache's counts (`near_cache`, None when the store has none)."""

    def set_event_handler(self, handler: Callable[[Event], object] | None) -> None:
        """Call `handler(event)` after each login, refresh, detected reuse, ended session
        (with its `reason`), noticed idle expiry, client mismatch and replayed DPoP proof;
        None stops events. It runs on the thread of the call that caused the event, after
        that call's work and with no lock held, so it may call the engine. What it raises is
        logged on the "keyfob" logger and never reaches the caller."""

    def sweep(self) -> int:
        """Drop ended sessions and expired revocations now, and return how many went. Not
        needed for bounded memory: writes also sweep, a little at a time."""

    def sign_payload(self, payload: str | bytes) -> str:
        """Sign `payload`, the text of a JSON object (`str` or UTF-8 `bytes`), with this
        engine's key and header, adding and checking no claim (simplejwt's
        `TokenBackend.encode`). A token made this way passes `validate` only if its claims
        would: a live session, the right type, an unexpired `exp`."""

    def verify_signature(self, token: str) -> bytes:
        """Check a token's size, header and signature with this engine's keys and return its
        payload bytes, reading no claim and no session (simplejwt's `TokenBackend.decode`)."""

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public keys of the signing key and every verifying key as a JWK Set (RFC 7517),
        `{"keys": [{"kty", "kid", "use": "sig", "alg", ...}]}`, the signing key first.
        Raises `ConfigError` for HMAC keys (secrets, never published) and for a signing key
        without a `key_id`."""

    def stats(self) -> Stats:
        """What the store holds: sessions, revoked_sessions, denied_jtis, user_epochs."""

    def now(self) -> int:
        """The engine's current time (Unix seconds), from its clock."""

class KeyfobError(Exception):
    """Base of every error keyfob raises. `code` is the stable number of the error (the
    same in Rust and C), `name` its snake_case name; every code has its own subclass. On
    this class and the groups `InvalidTokenError` and `SessionError`, which are never
    raised themselves, `code` is 0 and `name` the class name in snake_case without
    `_error`."""

    code: ClassVar[int]
    """The stable error number (0 on the base and group classes)."""
    name: ClassVar[str]
    """The error's snake_case name, such as "reuse_detected"."""

class InvalidTokenError(KeyfobError):
    """A presented token was refused: it is bad itself, its session refuses it
    (`SessionError`), or the caller is not the client its session is bound to. A web API
    answers 401."""

class SessionError(InvalidTokenError):
    """The token is well formed, but its session or a revocation refuses it: the user must
    log in again."""

class MalformedError(InvalidTokenError):
    """The token is not a well-formed JWS: not three base64url parts, bad JSON, a duplicate
    claim, a `crit` header, larger than `max_token_bytes`, or not ASCII."""

class BadSignatureError(InvalidTokenError):
    """The token's signature does not match its contents."""

class AlgorithmNotAllowedError(InvalidTokenError):
    """The token's `alg` is not the algorithm configured for its key (`none` never is)."""

class UnknownKeyError(InvalidTokenError):
    """The token's `kid` names no key this engine knows."""

class ExpiredError(InvalidTokenError):
    """The token's `exp` has passed (beyond `leeway_s`)."""

class NotYetValidError(InvalidTokenError):
    """The token's `nbf` or `iat` lies in the future (beyond `leeway_s`)."""

class WrongTypeError(InvalidTokenError):
    """The token is of another type than the call takes (a refresh token given to
    `validate`, an access token to `refresh`, ...)."""

class MissingClaimError(InvalidTokenError):
    """The token lacks a claim the engine requires."""

class InvalidClaimError(InvalidTokenError):
    """A claim has the wrong type or value (a string `exp`, another `iss` or `aud`)."""

class RevokedError(SessionError):
    """The token's session was revoked (logout, `revoke_session`, `revoke_user`)."""

class SessionIdleError(SessionError):
    """The session ended after `idle_timeout_s` without use."""

class SessionExpiredError(SessionError):
    """The session reached `refresh_lifetime_s`, its absolute lifetime."""

class SessionUnknownError(SessionError):
    """No session has the token's `sid`: it ended and was swept, or it lives in another
    store (another process's memory store, say)."""

class SessionRequiredError(SessionError):
    """The token has no `sid` and the engine does not accept sessionless tokens."""

class ReuseDetectedError(SessionError):
    """A refresh token that was already rotated away was presented again: the whole session
    is revoked."""

class InvalidArgumentError(KeyfobError, ValueError):
    """An argument has an impossible value (an empty user id, a reserved claim in `extra`,
    a session id that is not 32 hex digits, a relative DPoP URL)."""

class ConfigError(KeyfobError, ValueError):
    """The engine's configuration is impossible: an unknown keyword, a zero lifetime, a
    short HMAC key, a key that does not fit the algorithm. The message names the field and
    never shows a key."""

class BufferTooSmallError(KeyfobError):
    """A caller's buffer is too small for the result (the C interface's buffers; the Python
    module has none)."""

class StoreUnavailableError(KeyfobError):
    """The session store could not be reached within `store_timeout_ms`: the token could
    not be checked, so it is not accepted."""

class PanicError(KeyfobError):
    """keyfob hit an internal error (a bug) and the call did not complete."""

class ClientMismatchError(InvalidTokenError):
    """The `client_id` presented (or its absence) is not the one the session is bound to;
    by default this revokes the session (`client_mismatch_revokes`)."""

class DpopInvalidError(InvalidTokenError):
    """The DPoP proof is missing, malformed, signed by another key, or made for another
    request or token; the message says which. Nothing is rotated or revoked."""

class DpopReplayedError(InvalidTokenError):
    """The DPoP proof was already used once."""
