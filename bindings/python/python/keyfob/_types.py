"""The shapes of the dicts the engine returns, for type checkers (at run time they are
plain dicts)."""

from __future__ import annotations

from typing import TypedDict


class _RequiredClaims(TypedDict):
    exp: int | float
    """Expiry, Unix seconds (a JSON number: keyfob writes whole seconds). Always present."""


class Claims(_RequiredClaims, total=False):
    """The claims of a checked token: the dict `json.loads` gives for its payload.

    keyfob's own tokens carry `token_type`, `exp`, `iat`, `jti`, `user_id` and `sid`, under
    the names the engine is configured with (`token_type_claim`, `jti_claim`,
    `user_id_claim`; the keys below are the defaults). Sliding tokens add `refresh_exp`,
    DPoP-bound tokens `cnf`, an engine with an `issuer` or `audience` `iss` or `aud`. The
    `extra` claims given at login are there too: a type checker reads them with
    `claims.get(name)`, typed `object`. Tokens minted elsewhere (PyJWT, simplejwt) carry
    what their issuer wrote, such as an integer `user_id` or no `sid`.
    """

    token_type: str
    """"access", "refresh" or "sliding"."""
    iat: int | float
    """Issued at, Unix seconds."""
    nbf: int | float
    """Not before, Unix seconds (keyfob does not write it; checked when present)."""
    jti: str
    """The token's id: 32 lowercase hex digits in keyfob's tokens."""
    user_id: str | int
    """The user, as given to `login` (an `int` is written in decimal)."""
    sid: str
    """The session's id: 32 lowercase hex digits."""
    refresh_exp: int | float
    """Sliding tokens: when the session ends at the latest, Unix seconds."""
    iss: str
    """The issuer, with `issuer=` configured."""
    aud: str | list[str]
    """The audience, with `audience=` configured."""
    cnf: dict[str, str]
    """DPoP-bound tokens: `{"jkt": <the RFC 7638 thumbprint of the client's key>}`."""


class Stats(TypedDict):
    """What the engine's store holds (`Engine.stats()`)."""

    sessions: int
    """Sessions stored, live or revoked, until swept."""
    revoked_sessions: int
    """Revoked sessions still stored (so their tokens keep failing as revoked)."""
    denied_jtis: int
    """Ids of revoked sessionless tokens, kept until those tokens expire."""
    user_epochs: int
    """Users with a not-before time from `revoke_user`, kept as long as a token from before
    it could still be valid."""


class SessionInfo(TypedDict):
    """A live session (`Engine.sessions()`, `Engine.session()`)."""

    session_id: str
    """The session's id: 32 lowercase hex digits."""
    user_id: str
    """Its user."""
    created_at: int
    """Login time, Unix seconds."""
    last_seen: int
    """The last activity, as coarse as the idle deadline's slide (at most once a second):
    `idle_deadline - idle_timeout_s`, never before `created_at`."""
    idle_deadline: int
    """The session ends at this moment unless activity moves it."""
    absolute_deadline: int
    """The session ends at this moment whatever happens."""
    label: str | None
    """The client label given at login ("Firefox on macOS")."""
    ip: str | None
    """The address the login came from."""
    user_agent: str | None
    """The login's user agent."""
    data: dict[str, object]
    """The application's own data given at login."""
    claims: dict[str, object]
    """The claims the session's next tokens carry (`Engine.update_session` changes them)."""


class Event(TypedDict):
    """What the event handler (`on_event=`, `Engine.set_event_handler`) receives."""

    kind: str
    """"login", "refresh", "reuse_detected", "session_revoked", "idle_expired",
    "client_mismatch" or "dpop_replayed"."""
    session_id: str | None
    """The session concerned, when one is."""
    user_id: str | None
    """The session's user, when known."""
    reason: str | None
    """For "session_revoked": "logout", "revoke_user", "reuse", "cap" or "admin"."""
    at: int
    """When, on the engine's clock (Unix seconds)."""
    label: str | None
    """The session's label, given at login."""
    ip: str | None
    """The address the session logged in from."""
    user_agent: str | None
    """The user agent the session logged in with."""


class Histogram(TypedDict):
    """A latency histogram of one store operation, in seconds."""

    buckets: list[tuple[float, int]]
    """`(upper bound, calls at or under it)`, cumulative; `count` is the +Inf bucket."""
    sum: float
    """Total time of the timed calls."""
    count: int
    """How many calls were timed."""


class NearCache(TypedDict):
    """A near cache's counts, when the store has one."""

    hits: int
    """Lookups answered by the cache."""
    misses: int
    """Lookups that went to the store."""
    invalidations: int
    """Entries dropped because the store said they changed."""


class Metrics(TypedDict):
    """The engine's metrics (`Engine.metrics()`), counted from its creation."""

    operations: dict[str, int]
    """Calls per operation ("login", "validate", "refresh", "verify", "revoke",
    "revoke_session", "revoke_user", "sessions", "session", "update_session"), failed ones
    included."""
    errors: dict[str, int]
    """Failed calls per error name ("expired", "revoked", ...), only names seen so far."""
    store_latency: dict[str, Histogram]
    """By store operation ("touch", "rotate", "create", "user_sessions", ...). The frequent
    ones ("touch", "rotate", "create", "new_session_id") are timed one call in 16 per
    thread, the others every time."""
    live_sessions: int
    """Sessions alive now (0 when the store cannot be reached)."""
    near_cache: NearCache | None
    """The near cache's counts, or None when the store has none."""
