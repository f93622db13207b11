"""simplejwt's token classes, backed by the keyfob engine.

Built from text, ``AccessToken(raw)`` / ``RefreshToken(raw)`` / ``SlidingToken(raw)`` /
``UntypedToken(raw)`` check the token (raising ``keyfob.drf.exceptions.TokenError`` with
simplejwt's message) and give its claims by ``token[claim]``: a token that names a user
(or a keyfob session) is checked by the engine, so its session must be alive.

Built in code, a token is as in simplejwt: ``Token()`` has ``token_type``, ``exp``, ``iat``
and ``jti`` from construction; ``set_exp``/``set_iat``/``set_jti``, ``token[name] = value``
and ``del token[name]`` change its claims, and ``str(token)`` is what it carries. In
addition ``AccessToken.for_user(user)``, ``RefreshToken.for_user(user)`` and
``SlidingToken.for_user(user)`` log the user in: the token belongs to a new keyfob session
(a refresh token and its ``.access_token`` share it), so logging that session out ends both.

A token that names neither a user nor a session identifies nobody (``RefreshToken()``), and
a ``Token`` subclass with a type of your own is no keyfob session token: both are checked as
simplejwt checks them (signature, ``exp``, type, ``jti``, and the blacklist app's table).

Times come from ``aware_utcnow`` in this module, as in simplejwt (``freezegun`` and
``time-machine`` move it, and so does patching it here), or from ``KEYFOB["CLOCK"]``.
"""

from __future__ import annotations

import base64
import json
import os
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

import keyfob

from .engine import get_engine
from .exceptions import (
    TOKEN_HAS_WRONG_TYPE,
    TOKEN_IS_BLACKLISTED,
    TOKEN_IS_INVALID,
    EngineError,
    ExpiredTokenError,
    TokenBackendError,
    TokenBackendExpiredToken,
    TokenError,
    raise_token_error,
)
from .settings import api_settings
from .utils import (
    aware_utcnow,
    datetime_from_epoch,
    datetime_to_epoch,
    format_lazy,
    get_md5_hash_password,
    logger,
)

if TYPE_CHECKING:
    from typing_extensions import Self

    from .backends import TokenBackend

__all__ = [
    "AccessToken",
    "BlacklistMixin",
    "RefreshToken",
    "SlidingToken",
    "Token",
    "UntypedToken",
    "get_md5_hash_password",
]

# The client binding value (KEYFOB["CLIENT_BINDING"]) of the request being authenticated,
# set by JWTAuthentication around the token check.
REQUEST_CLIENT_ID: ContextVar[str | None] = ContextVar("keyfob_request_client_id", default=None)

# What the login request presents (client_id=, dpop=), set by the obtain serializer around
# ``get_token`` so that ``for_user`` binds the new session to its client (keyfob.drf.dpop).
LOGIN_PRESENTATION: ContextVar[dict[str, Any] | None] = ContextVar(
    "keyfob_login_presentation", default=None
)

# What a login records about its client (ip, user_agent, label: keyfob.drf.metadata), set
# around ``get_token`` by the obtain serializer or ``metadata.login_request``.
LOGIN_METADATA: ContextVar[dict[str, Any] | None] = ContextVar(
    "keyfob_login_metadata", default=None
)

# Claims the engine writes itself, whatever the session's claims say.
ENGINE_CLAIMS = frozenset({"exp", "iat", "nbf", "sid", "cnf", "iss", "aud"})

# The token types the engine mints and checks with a session.
SESSION_TYPES = frozenset({"access", "refresh", "sliding"})

# Errors raised after a token's signature and claims passed: its session is the problem.
SESSION_ERRORS = (
    keyfob.RevokedError,
    keyfob.ReuseDetectedError,
    keyfob.SessionIdleError,
    keyfob.SessionExpiredError,
    keyfob.SessionUnknownError,
    keyfob.SessionRequiredError,
)

# Claim errors: the engine raises them only once the signature has held.
_CLAIM_ERRORS = (keyfob.MissingClaimError, keyfob.InvalidClaimError)

BLACKLIST_APP = "keyfob.drf.token_blacklist"


def engine_call(op: Any, *args: Any, **kwargs: Any) -> Any:
    """Call an engine method; its errors come out as simplejwt's (``TokenError`` etc.)."""
    try:
        return op(*args, **kwargs)
    except EngineError as e:
        raise_token_error(e)


def login_arguments() -> dict[str, Any]:
    """The keyword arguments of the engine's login for the login being made: the client
    binding the request presents, and what it records about the client."""
    return {**(LOGIN_PRESENTATION.get() or {}), **(LOGIN_METADATA.get() or {})}


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


def blacklist_installed() -> bool:
    """Whether ``keyfob.drf.token_blacklist`` (simplejwt's blacklist tables) is installed."""
    return apps.is_installed(BLACKLIST_APP)


def _session_token(claims: dict[str, Any]) -> bool:
    """Whether claims make a keyfob session token (checked by the engine): a session id, or a
    user with one of the engine's token types."""
    return "sid" in claims or (
        api_settings.USER_ID_CLAIM in claims
        and claims.get(api_settings.TOKEN_TYPE_CLAIM) in SESSION_TYPES
    )


def now() -> datetime:
    """keyfob.drf's time: ``aware_utcnow()`` of this module (as simplejwt's, so patching it
    here moves it), or the ``KEYFOB["CLOCK"]`` test clock when one is set."""
    clock = api_settings.CLOCK
    if clock is not None:
        return datetime_from_epoch(clock.now())
    return aware_utcnow()


class SettingLifetime:
    """A token class's default lifetime, read from a setting when used (so
    ``override_settings`` reaches it); assigning ``Class.lifetime`` replaces it."""

    def __init__(self, setting: str) -> None:
        self.setting = setting

    def __get__(self, obj: object, owner: type | None = None) -> timedelta:
        value = getattr(api_settings, self.setting)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            # The engine takes lifetimes in seconds too; tokens built in code need a timedelta.
            return timedelta(seconds=value)
        lifetime: timedelta = value
        return lifetime


class Token:
    """A token checked from its text, or a new one built in code (simplejwt's ``Token``)."""

    token_type: ClassVar[str | None] = None
    lifetime: ClassVar[timedelta | None] = None

    _token_backend: TokenBackend | None = None
    # Whether tokens of this class are checked by the engine (keyfob's session types).
    checked_by_engine: ClassVar[bool] = False

    # Per-instance state, set on the instance only when it differs (a request's token is
    # built once per request: fewer writes).
    # When the token was made or read: taken when first used by a token the engine
    # checked (a request's access token rarely needs it), at once by every other.
    _current_time: datetime | None = None
    # Text known to carry exactly `_text_payload` (decoded lazily): `str()` returns it while
    # the payload is unchanged, and signs the payload anew once it changed.
    _text: str | None = None
    _text_payload: dict[str, Any] | None = None
    # Checked by the engine (session alive, claims): the claim checks need not rerun.
    _engine_checked = False
    # The absolute deadline of this token's session, when known (Unix seconds).
    _session_deadline: int | None = None
    # The claims the engine's login minted, for ``save_claims_to_session``.
    _minted_claims: dict[str, Any] | None = None

    def __init__(self, token: str | bytes | None = None, verify: bool = True) -> None:
        if self.token_type is None:
            raise TokenError(_("Cannot create token with no type or lifetime"))
        self.token = token
        self.payload: dict[str, Any]
        if token is None:
            self._new_payload()
            return
        if type(token) is bytes:
            # A request's Authorization header: its token is ASCII or no token of ours.
            try:
                raw = token.decode("ascii")
            except UnicodeDecodeError as e:
                raise TokenError(TOKEN_IS_INVALID) from e
        elif type(token) is str:
            raw = token
        else:
            raw = self._raw(token)
        if verify and self.checked_by_engine:
            # The hot path: a request's access token, checked once by the engine.
            try:
                self.payload = self._engine_claims(raw)
                self._engine_checked = True
            except EngineError as e:
                self._refuse_unless_sessionless(raw, e)
                self._check_without_session(raw)
            self.verify()
        elif verify:
            self._check_without_session(raw)
            self.verify()
        else:
            try:
                self.payload = self.token_backend.decode(raw, verify=False)
            except TokenBackendError as e:
                raise TokenError(TOKEN_IS_INVALID) from e
        self._text = raw

    def _new_payload(self) -> None:
        if self.lifetime is None:
            raise TokenError(_("Cannot create token with no type or lifetime"))
        self._current_time = now()
        self.payload = {}
        if api_settings.TOKEN_TYPE_CLAIM is not None:
            self.payload[api_settings.TOKEN_TYPE_CLAIM] = self.token_type
        self.set_exp(from_time=self.current_time, lifetime=self.lifetime)
        self.set_iat(at_time=self.current_time)
        self.set_jti()

    def _check_without_session(self, raw: str) -> None:
        if self.lifetime is None:
            raise TokenError(_("Cannot create token with no type or lifetime"))
        self._current_time = now()
        self.payload = self._backend_check(raw)

    @property
    def current_time(self) -> datetime:
        """When this token was made or read (simplejwt's attribute; assignable)."""
        current = self._current_time
        if current is None:
            current = self._current_time = now()
        return current

    @current_time.setter
    def current_time(self, value: datetime) -> None:
        self._current_time = value

    @classmethod
    def _minted(cls, text: str, claims: dict[str, Any]) -> Self:
        """A token the engine has just minted (``claims`` decoded from ``text``), unchecked."""
        token = cls.__new__(cls)
        token.token = text
        token._text = text
        token._text_payload = claims
        token.payload = dict(claims)
        return token

    @staticmethod
    def _raw(token: str | bytes) -> str:
        if isinstance(token, bytes):
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError as e:
                raise TokenError(TOKEN_IS_INVALID) from e
        if not isinstance(token, str):
            raise TokenError(TOKEN_IS_INVALID)
        return token

    # -- checking ---------------------------------------------------------------------------

    def _refuse_unless_sessionless(self, raw: str, error: EngineError) -> None:
        """Return when the engine refused the token's claims because it is no keyfob session
        token (it is then checked as simplejwt checks it); else raise simplejwt's error."""
        if isinstance(error, _CLAIM_ERRORS) and not _session_token(decode_payload(raw)):
            return
        raise_token_error(error)

    def _engine_claims(self, raw: str) -> dict[str, Any]:
        """The engine's check of a token of this class's type (overridden per class)."""
        try:
            claims: dict[str, Any] = get_engine().verify(raw)
        except SESSION_ERRORS as e:
            # The signature and claims passed; simplejwt, knowing no sessions, would now
            # check the type: so a token of the wrong type says so first.
            if decode_payload(raw).get(api_settings.TOKEN_TYPE_CLAIM) != self.token_type:
                raise TokenError(TOKEN_HAS_WRONG_TYPE, e) from e
            raise
        if claims.get(api_settings.TOKEN_TYPE_CLAIM) != self.token_type:
            raise TokenError(TOKEN_HAS_WRONG_TYPE)
        return claims

    def _backend_check(self, raw: str) -> dict[str, Any]:
        try:
            claims = self.token_backend.decode(raw, verify=True)
        except TokenBackendExpiredToken as e:
            raise ExpiredTokenError(_("Token is expired")) from e
        except TokenBackendError as e:
            raise TokenError(_("Token is invalid")) from e
        return claims

    def verify(self) -> None:
        """simplejwt's checks after decoding: ``exp``, the ``jti``, the type. The engine has
        made them (and more) for a token it checked. Override to add checks of your own."""
        if self._engine_checked:
            return
        self.check_exp()
        if api_settings.JTI_CLAIM is not None and api_settings.JTI_CLAIM not in self.payload:
            raise TokenError(_("Token has no id"))
        if api_settings.TOKEN_TYPE_CLAIM is not None:
            self.verify_token_type()

    def verify_token_type(self) -> None:
        try:
            token_type = self.payload[api_settings.TOKEN_TYPE_CLAIM]
        except KeyError as e:
            raise TokenError(_("Token has no type")) from e
        if self.token_type != token_type:
            raise TokenError(TOKEN_HAS_WRONG_TYPE)

    def check_exp(self, claim: str = "exp", current_time: datetime | None = None) -> None:
        """Raise ``TokenError`` when the time in ``claim`` has passed at ``current_time``
        (default: this token's ``current_time``), allowing ``LEEWAY``."""
        if current_time is None:
            current_time = self.current_time
        try:
            claim_value = self.payload[claim]
        except KeyError as e:
            raise TokenError(format_lazy(_("Token has no '{}' claim"), claim)) from e
        try:
            claim_time = datetime_from_epoch(claim_value)
        except (TypeError, ValueError, OverflowError) as e:
            raise TokenError(TOKEN_IS_INVALID) from e
        leeway = self.get_token_backend().get_leeway()
        if claim_time <= current_time - leeway:
            raise TokenError(format_lazy(_("Token '{}' claim has expired"), claim))

    # -- building ---------------------------------------------------------------------------

    def set_jti(self) -> None:
        """A new random token id (32 lowercase hex digits)."""
        if api_settings.JTI_CLAIM is not None:
            # 128 random bits as 32 hex digits, as simplejwt's uuid4().hex and keyfob's own.
            self.payload[api_settings.JTI_CLAIM] = os.urandom(16).hex()

    def set_exp(
        self,
        claim: str = "exp",
        from_time: datetime | None = None,
        lifetime: timedelta | None = None,
    ) -> None:
        """``claim`` = ``from_time`` (default ``current_time``) + ``lifetime`` (default the
        class's)."""
        if from_time is None:
            from_time = self.current_time
        if lifetime is None:
            lifetime = self.lifetime
        assert lifetime is not None
        self.payload[claim] = datetime_to_epoch(from_time + lifetime)

    def set_iat(self, claim: str = "iat", at_time: datetime | None = None) -> None:
        """``claim`` = ``at_time`` (default ``current_time``)."""
        if at_time is None:
            at_time = self.current_time
        self.payload[claim] = datetime_to_epoch(at_time)

    @classmethod
    def for_user(cls, user: Any) -> Self:
        """A token for ``user``; for keyfob's token types, backed by a new session."""
        if hasattr(user, "is_active") and not user.is_active:
            logger.warning(
                "Creating token for inactive user: %s. If this is not intentional, consider "
                "checking the user's status before calling the `for_user` method.",
                getattr(user, "pk", None),
            )
        user_id = str(getattr(user, api_settings.USER_ID_FIELD))
        token = cls()
        token[api_settings.USER_ID_CLAIM] = user_id
        if api_settings.CHECK_REVOKE_TOKEN:
            token[api_settings.REVOKE_TOKEN_CLAIM] = get_md5_hash_password(user.password)
        token.start_session()
        return token

    def start_session(self) -> None:
        """Back this new token by a keyfob session (keyfob's token types do)."""

    def _login_extra(self) -> dict[str, Any] | None:
        """The claims a login carries beyond those the engine writes itself."""
        own = {
            api_settings.TOKEN_TYPE_CLAIM,
            "exp",
            "iat",
            api_settings.JTI_CLAIM,
            api_settings.USER_ID_CLAIM,
        }
        extra = {k: v for k, v in self.payload.items() if k not in own}
        return extra or None

    def _adopt(self, minted: str, claims: dict[str, Any], keep: tuple[str, ...]) -> None:
        """Take the session's claims (``sid``, ``cnf`` and ``keep``) from the engine's token
        ``minted``, whose text is then what ``str()`` gives while the claims agree."""
        for name in ("sid", "cnf", *keep):
            if name in claims:
                self.payload[name] = claims[name]
        self._text = minted
        self._text_payload = claims
        self._minted_claims = claims

    def save_claims_to_session(self) -> None:
        """Store the claims code added to (or removed from) this new token since its login
        (``get_token`` overrides do) with its session: the session's claims are what every
        refresh mints into the next tokens. Nothing to do when there were no such changes."""
        minted, sid = self._minted_claims, self.session_id
        if minted is None or sid is None:
            return
        own = {
            *ENGINE_CLAIMS,
            api_settings.TOKEN_TYPE_CLAIM,
            api_settings.JTI_CLAIM,
            api_settings.USER_ID_CLAIM,
            api_settings.SLIDING_TOKEN_REFRESH_EXP_CLAIM,
        }
        changes = {
            k: v for k, v in self.payload.items() if k not in own and (k, v) not in minted.items()
        }
        changes.update({k: None for k in minted if k not in own and k not in self.payload})
        if changes:
            engine_call(get_engine().update_session, sid, changes)
            self._minted_claims = dict(self.payload)

    # -- the mapping interface ---------------------------------------------------------------

    def __repr__(self) -> str:
        return repr(self.payload)

    def __getitem__(self, key: str) -> Any:
        return self.payload[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.payload[key] = value

    def __delitem__(self, key: str) -> None:
        del self.payload[key]

    def __contains__(self, key: object) -> bool:
        return key in self.payload

    def get(self, key: str, default: Any = None) -> Any:
        return self.payload.get(key, default)

    def __str__(self) -> str:
        """The token's text: the engine's, while the claims are those it minted or checked;
        else the claims signed with the engine's key."""
        text = self._text
        if text is not None:
            if self._text_payload is None:
                self._text_payload = decode_payload(text)
            if self._text_payload == self.payload:
                return text
        text = self.get_token_backend().encode(self.payload)
        self._text = text
        self._text_payload = None
        return text

    def outstand(self) -> Any:
        """simplejwt's outstanding-token record; only refresh and sliding tokens keep one."""
        return None

    @property
    def session_id(self) -> str | None:
        """The keyfob session this token belongs to (None for sessionless tokens)."""
        sid = self.payload.get("sid")
        return sid if isinstance(sid, str) else None

    @property
    def token_backend(self) -> TokenBackend:
        if self._token_backend is None:
            self._token_backend = import_string("keyfob.drf.state.token_backend")
        return self._token_backend

    def get_token_backend(self) -> TokenBackend:
        return self.token_backend


class BlacklistMixin:
    """Logout for refresh and sliding tokens: ``blacklist()`` revokes the token's session.

    With ``keyfob.drf.token_blacklist`` installed, as simplejwt's app: ``for_user`` records
    an ``OutstandingToken``, ``blacklist()`` returns ``(BlacklistedToken, created)`` (its
    row revokes the session at once), and a token without a session is refused while its
    ``jti`` is blacklisted.
    """

    payload: dict[str, Any]
    current_time: datetime
    _engine_checked: bool

    def verify(self) -> None:
        if not self._engine_checked and blacklist_installed():
            self.check_blacklist()
        super().verify()  # type: ignore[misc]

    def check_blacklist(self) -> None:
        """Raise ``TokenError("Token is blacklisted")`` if the token is revoked."""
        if blacklist_installed():
            from .token_blacklist.models import BlacklistedToken

            jti = self.payload.get(api_settings.JTI_CLAIM)
            if BlacklistedToken.objects.filter(token__jti=jti).exists():
                raise TokenError(TOKEN_IS_BLACKLISTED)
        if self.payload.get("sid") is not None:
            engine_call(get_engine().verify, str(self))

    def blacklist(self) -> Any:
        """Log out: revoke this token's session (its access tokens stop working too).

        Without the blacklist app: returns None; a session already revoked raises
        ``TokenError("Token is blacklisted")``. With it: ``(BlacklistedToken, created)``.
        """
        if blacklist_installed():
            from .token_blacklist.models import BlacklistedToken

            outstanding = self._outstanding()
            return BlacklistedToken.objects.get_or_create(token=outstanding)
        sid = self.payload.get("sid")
        if isinstance(sid, str) and self._engine_checked and self._text is not None:
            # The token the engine checked: revoking by it tells the engine (and the
            # session_revoked event) that this is a logout.
            engine_call(get_engine().revoke, self._text)
        elif isinstance(sid, str):
            if not engine_call(get_engine().revoke_session, sid):
                raise TokenError(TOKEN_IS_BLACKLISTED)
        elif api_settings.USER_ID_CLAIM in self.payload:
            engine_call(get_engine().revoke, str(self))
        return None

    def outstand(self) -> Any:
        """With the blacklist app, this token's ``OutstandingToken`` (created when missing)."""
        if not blacklist_installed():
            return None
        return self._outstanding()

    def _outstanding(self) -> Any:
        from .token_blacklist.models import OutstandingToken

        User = get_user_model()
        user_id = self.payload.get(api_settings.USER_ID_CLAIM)
        try:
            user = User.objects.get(**{api_settings.USER_ID_FIELD: user_id})
        except (User.DoesNotExist, User.MultipleObjectsReturned, ValueError, TypeError):
            user = None
        outstanding, _created = OutstandingToken.objects.get_or_create(
            jti=self.payload[api_settings.JTI_CLAIM],
            defaults={
                "user": user,
                "created_at": self.current_time,
                "token": str(self),
                "expires_at": datetime_from_epoch(self.payload["exp"]),
            },
        )
        return outstanding

    def _record_login(self, user: Any) -> None:
        if blacklist_installed():
            from .token_blacklist.models import OutstandingToken

            OutstandingToken.objects.create(
                user=user,
                jti=self.payload[api_settings.JTI_CLAIM],
                token=str(self),
                created_at=self.current_time,
                expires_at=datetime_from_epoch(self.payload["exp"]),
            )

    @classmethod
    def for_user(cls, user: Any) -> Any:
        token = super().for_user(user)  # type: ignore[misc]
        token._record_login(user)
        return token


class AccessToken(Token):
    token_type = "access"
    checked_by_engine = True
    lifetime = SettingLifetime("ACCESS_TOKEN_LIFETIME")  # type: ignore[assignment]

    def _engine_claims(self, raw: str) -> dict[str, Any]:
        # Authenticating a request: the session must be alive, and its idle window slides.
        # With ENGINE_OPTIONS bind_validate, a client-bound session needs the client id.
        # Called once per authenticated request: no keyword when there is none to present.
        client_id = REQUEST_CLIENT_ID.get()
        if client_id is None:
            claims: dict[str, Any] = get_engine().validate(raw)
        else:
            claims = get_engine().validate(raw, client_id=client_id)
        return claims

    def start_session(self) -> None:
        pair = engine_call(
            get_engine().login,
            self.payload[api_settings.USER_ID_CLAIM],
            self._login_extra(),
            **login_arguments(),
        )
        self._adopt(pair.access, decode_payload(pair.access), (api_settings.JTI_CLAIM,))
        self._session_deadline = decode_payload(pair.refresh).get("exp")


class RefreshToken(BlacklistMixin, Token):
    token_type = "refresh"
    checked_by_engine = True
    lifetime = SettingLifetime("REFRESH_TOKEN_LIFETIME")  # type: ignore[assignment]
    no_copy_claims: ClassVar[tuple[str, ...]] = ("token_type", "exp", "jti", "iat")
    access_token_class: ClassVar[type[AccessToken]] = AccessToken

    def __init__(self, token: str | bytes | None = None, verify: bool = True) -> None:
        super().__init__(token, verify)
        # The access token the login minted with this token (for_user), for `.access_token`.
        self._login_access: tuple[str, dict[str, Any]] | None = None
        if self._engine_checked and self._session_deadline is None:
            # A refresh token's own `exp` is its session's absolute deadline.
            exp = self.payload.get("exp")
            self._session_deadline = exp if isinstance(exp, int) else None

    def start_session(self) -> None:
        pair = engine_call(
            get_engine().login,
            self.payload[api_settings.USER_ID_CLAIM],
            self._login_extra(),
            **login_arguments(),
        )
        claims = decode_payload(pair.refresh)
        # The session knows this refresh token by its jti: the token carries the engine's.
        self._adopt(pair.refresh, claims, (api_settings.JTI_CLAIM,))
        self._session_deadline = claims.get("exp")
        self._login_access = (pair.access, decode_payload(pair.access))

    def _no_copy(self) -> set[str]:
        return {
            *self.no_copy_claims,
            api_settings.TOKEN_TYPE_CLAIM,
            api_settings.JTI_CLAIM,
        }

    @property
    def access_token(self) -> AccessToken:
        """An access token of this refresh token's session: its claims but the type,
        ``exp``, ``jti`` and ``iat``, expiring ``ACCESS_TOKEN_LIFETIME`` after this token's
        ``current_time`` (never after the session). No refresh happens."""
        access_class = self.access_token_class
        login_access = self._login_access
        if (
            login_access is not None
            and access_class.lifetime == api_settings.ACCESS_TOKEN_LIFETIME
            and self._text is not None
            and self._text_payload == self.payload
        ):
            # The login's own access token: its claims are what this one would build.
            text, claims = login_access
            access = access_class._minted(text, dict(claims))
            access._session_deadline = self._session_deadline
            return access
        access = access_class()
        access.set_exp(from_time=self.current_time)
        no_copy = self._no_copy()
        for claim, value in self.payload.items():
            if claim not in no_copy:
                access[claim] = value
        deadline = self._session_deadline
        if deadline is not None and "sid" in self.payload and access["exp"] > deadline:
            access["exp"] = deadline
        access._session_deadline = deadline
        return access


class SlidingToken(BlacklistMixin, Token):
    token_type = "sliding"
    checked_by_engine = True
    lifetime = SettingLifetime("SLIDING_TOKEN_LIFETIME")  # type: ignore[assignment]

    def __init__(self, token: str | bytes | None = None, verify: bool = True) -> None:
        super().__init__(token, verify)
        if self.token is None:
            self.set_exp(
                api_settings.SLIDING_TOKEN_REFRESH_EXP_CLAIM,
                from_time=self.current_time,
                lifetime=api_settings.SLIDING_TOKEN_REFRESH_LIFETIME,
            )

    def _engine_claims(self, raw: str) -> dict[str, Any]:
        claims: dict[str, Any] = get_engine().validate_sliding(raw)
        return claims

    def _login_extra(self) -> dict[str, Any] | None:
        extra = super()._login_extra()
        if extra is not None:
            extra.pop(api_settings.SLIDING_TOKEN_REFRESH_EXP_CLAIM, None)
        return extra or None

    def start_session(self) -> None:
        sliding = engine_call(
            get_engine().login_sliding,
            self.payload[api_settings.USER_ID_CLAIM],
            self._login_extra(),
        )
        claims = decode_payload(sliding.token)
        self._adopt(sliding.token, claims, (api_settings.JTI_CLAIM,))
        self._session_deadline = claims.get(api_settings.SLIDING_TOKEN_REFRESH_EXP_CLAIM)


class UntypedToken(Token):
    """Any type of token: signature, claims and (for keyfob's tokens) session, nothing slid."""

    token_type = "untyped"
    lifetime = timedelta(seconds=0)
    checked_by_engine = True

    def _engine_claims(self, raw: str) -> dict[str, Any]:
        claims: dict[str, Any] = get_engine().verify(raw)
        return claims

    def verify_token_type(self) -> None:
        """Untyped tokens do not check their type."""
