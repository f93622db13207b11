"""simplejwt's token classes, backed by the keyfob engine.

``AccessToken(raw)`` / ``RefreshToken(raw)`` / ``SlidingToken(raw)`` / ``UntypedToken(raw)``
check a token (raising ``keyfob.drf.exceptions.TokenError`` with simplejwt's message) and
give its claims by ``token[claim]``. ``RefreshToken.for_user(user)`` starts a new token:
add claims with ``token[name] = value``, then ``str(token)`` logs the user in (one keyfob
session) and ``token.access_token`` is the access token of that login.
"""

from __future__ import annotations

import base64
import hashlib
import json
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, ClassVar

from django.utils.translation import gettext_lazy as _

import keyfob

from .engine import get_engine
from .exceptions import TOKEN_HAS_WRONG_TYPE, TOKEN_IS_INVALID, TokenError, raise_token_error
from .settings import api_settings

if TYPE_CHECKING:
    from typing_extensions import Self

# The client binding value (KEYFOB["CLIENT_BINDING"]) of the request being authenticated,
# set by JWTAuthentication around the token check.
REQUEST_CLIENT_ID: ContextVar[str | None] = ContextVar("keyfob_request_client_id", default=None)

# Errors raised after a token's signature and claims passed: its session is the problem.
SESSION_ERRORS = (
    keyfob.RevokedError,
    keyfob.ReuseDetectedError,
    keyfob.SessionIdleError,
    keyfob.SessionExpiredError,
    keyfob.SessionUnknownError,
    keyfob.SessionRequiredError,
)


def engine_call(op: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an engine method; its errors come out as simplejwt's (``TokenError`` etc.)."""
    try:
        return op(*args, **kwargs)
    except keyfob.KeyfobError as e:
        raise_token_error(e)


def get_md5_hash_password(password: str) -> str:
    """The password fingerprint simplejwt writes for CHECK_REVOKE_TOKEN (same value)."""
    return hashlib.md5(password.encode()).hexdigest().upper()


def decode_payload(raw: str) -> dict[str, Any]:
    """The claims of a token *without checking anything*: only for tokens we minted or
    whose signature the engine has just accepted."""
    try:
        part = raw.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError) as e:
        raise TokenError(TOKEN_IS_INVALID) from e
    if not isinstance(claims, dict):
        raise TokenError(TOKEN_IS_INVALID)
    return claims


class Token:
    """A checked token (built from its text) or a new one (built by ``for_user``)."""

    token_type: ClassVar[str | None] = None

    def __init__(self, token: str | bytes | None = None, verify: bool = True) -> None:
        self.token: str | None = None
        self._payload: dict[str, Any] | None = None
        self._user_id: str | None = None
        self._extra: dict[str, Any] = {}
        if token is None:
            return
        if isinstance(token, bytes):
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError as e:
                raise TokenError(TOKEN_IS_INVALID) from e
        if not isinstance(token, str):
            raise TokenError(TOKEN_IS_INVALID)
        self.token = token
        self._payload = self._check(token) if verify else decode_payload(token)

    # -- checking ---------------------------------------------------------------------------

    def _check(self, raw: str) -> dict[str, Any]:
        try:
            claims = get_engine().verify(raw)
        except SESSION_ERRORS as e:
            # The signature and claims passed; simplejwt, knowing no sessions, would now
            # check the type: so a token of the wrong type says so first.
            if decode_payload(raw).get(api_settings.TOKEN_TYPE_CLAIM) != self.token_type:
                raise TokenError(TOKEN_HAS_WRONG_TYPE, e) from e
            raise_token_error(e)
        except keyfob.KeyfobError as e:
            raise_token_error(e)
        if claims.get(api_settings.TOKEN_TYPE_CLAIM) != self.token_type:
            raise TokenError(TOKEN_HAS_WRONG_TYPE)
        return claims

    # -- minting ----------------------------------------------------------------------------

    def _mint(self, user_id: str, extra: dict[str, Any] | None) -> str:
        raise TypeError(
            f"{type(self).__name__} cannot be created directly; use RefreshToken.for_user"
        )

    def _minted(self) -> str:
        if self.token is None:
            if self._user_id is None:
                raise TokenError(_("Cannot create token with no user"))
            try:
                self.token = self._mint(self._user_id, self._extra or None)
            except keyfob.InvalidArgumentError as e:
                raise ValueError(str(e)) from e
            self._payload = decode_payload(self.token)
        return self.token

    @classmethod
    def for_user(cls, user: Any) -> Self:
        """A new token for ``user``; the login happens when the token is first turned into text."""
        token = cls()
        token[api_settings.USER_ID_CLAIM] = str(getattr(user, api_settings.USER_ID_FIELD))
        if api_settings.CHECK_REVOKE_TOKEN:
            token[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
        return token

    # -- the simplejwt mapping interface ----------------------------------------------------

    @property
    def payload(self) -> dict[str, Any]:
        if self._payload is not None:
            return self._payload
        pending = {api_settings.TOKEN_TYPE_CLAIM: self.token_type, **self._extra}
        if self._user_id is not None:
            pending[api_settings.USER_ID_CLAIM] = self._user_id
        return pending

    def __str__(self) -> str:
        return self._minted()

    def __repr__(self) -> str:
        return repr(self.payload)

    def __getitem__(self, key: str) -> Any:
        return self.payload[key]

    def __contains__(self, key: str) -> bool:
        return key in self.payload

    def get(self, key: str, default: Any = None) -> Any:
        return self.payload.get(key, default)

    def __setitem__(self, key: str, value: Any) -> None:
        if self.token is not None:
            raise TypeError("claims of an issued token cannot change")
        if key == api_settings.USER_ID_CLAIM:
            self._user_id = str(value)
        else:
            self._extra[key] = value

    @property
    def session_id(self) -> str | None:
        """The keyfob session this token belongs to (None for sessionless tokens)."""
        self._minted()
        return self.payload.get("sid")


class BlacklistMixin:
    token: str | None

    def blacklist(self) -> None:
        """Log out: revoke this token's session (or, sessionless, the token itself).

        A session already revoked raises ``TokenError("Token is blacklisted")``.
        """
        engine_call(get_engine().revoke, self._minted())  # type: ignore[attr-defined]

    def check_blacklist(self) -> None:
        """Raise ``TokenError("Token is blacklisted")`` if the token's session was revoked."""
        engine_call(get_engine().verify, self._minted())  # type: ignore[attr-defined]

    def outstand(self) -> None:
        """simplejwt's outstanding-token bookkeeping: keyfob's sessions already do it."""
        return None


class AccessToken(Token):
    token_type = "access"

    def _check(self, raw: str) -> dict[str, Any]:
        # Authenticating a request: the session must be alive, and its idle window slides.
        # With ENGINE_OPTIONS bind_validate, a client-bound session needs the client id.
        # Called once per authenticated request: no keyword when there is none to present.
        client_id = REQUEST_CLIENT_ID.get()
        try:
            if client_id is None:
                return get_engine().validate(raw)
            return get_engine().validate(raw, client_id=client_id)
        except keyfob.KeyfobError as e:
            raise_token_error(e)


class RefreshToken(BlacklistMixin, Token):
    token_type = "refresh"
    access_token_class = AccessToken

    def __init__(self, token: str | bytes | None = None, verify: bool = True) -> None:
        super().__init__(token, verify)
        self._access: str | None = None
        # After `.access_token` on a token given as text, with rotation on: its successor.
        self.rotated: str | None = None
        # What the login request presents (client_id=, dpop=): set by the obtain serializer
        # to bind the new session to its client (keyfob.drf.dpop).
        self.presentation: dict[str, Any] = {}

    def _mint(self, user_id: str, extra: dict[str, Any] | None) -> str:
        pair = engine_call(get_engine().login, user_id, extra, **self.presentation)
        self._access = pair.access
        return pair.refresh

    @property
    def access_token(self) -> AccessToken:
        """The access token of this login; for a token given as text, a refresh happens
        (with rotation on, this token is then spent: read the successor from ``.rotated``)."""
        raw = self._minted()
        if self._access is None:
            pair = engine_call(get_engine().refresh, raw)
            self._access = pair.access
            self.rotated = pair.refresh
        access = self.access_token_class(self._access, verify=False)
        return access


class SlidingToken(BlacklistMixin, Token):
    token_type = "sliding"

    def _check(self, raw: str) -> dict[str, Any]:
        return engine_call(get_engine().validate_sliding, raw)

    def _mint(self, user_id: str, extra: dict[str, Any] | None) -> str:
        return engine_call(get_engine().login_sliding, user_id, extra).token


class UntypedToken(Token):
    """Any type of token: signature, claims and session checked, nothing slid."""

    token_type = "untyped"

    def _check(self, raw: str) -> dict[str, Any]:
        return engine_call(get_engine().verify, raw)
