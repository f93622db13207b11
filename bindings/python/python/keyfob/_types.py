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
