"""Settings: ``settings.KEYFOB``, with simplejwt's key names and defaults plus keyfob's own.

Unlike simplejwt, every value is read when used, so ``override_settings(KEYFOB=...)`` and
``override_settings(SECRET_KEY=...)`` take effect everywhere, and the engine is rebuilt.
Keys keyfob.drf does not know are ignored (simplejwt ignored them too); the system check
``keyfob.W001`` names them (``keyfob.drf.checks``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

DEFAULTS: dict[str, Any] = {
    # simplejwt's keys, with simplejwt's defaults except ROTATE_REFRESH_TOKENS.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": False,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": None,  # None: settings.SECRET_KEY, read when the engine is built
    "VERIFYING_KEY": "",
    "AUDIENCE": None,
    "ISSUER": None,
    "JSON_ENCODER": None,
    "JWK_URL": None,
    "LEEWAY": 0,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "AUTH_HEADER_NAME": "HTTP_AUTHORIZATION",
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "USER_AUTHENTICATION_RULE": "keyfob.drf.authentication.default_user_authentication_rule",
    "AUTH_TOKEN_CLASSES": ("keyfob.drf.tokens.AccessToken",),
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "TOKEN_USER_CLASS": "keyfob.drf.models.TokenUser",
    "SLIDING_TOKEN_REFRESH_EXP_CLAIM": "refresh_exp",
    "SLIDING_TOKEN_LIFETIME": timedelta(minutes=5),
    "SLIDING_TOKEN_REFRESH_LIFETIME": None,  # None: REFRESH_TOKEN_LIFETIME (one session lifetime)
    "TOKEN_OBTAIN_SERIALIZER": "keyfob.drf.serializers.TokenObtainPairSerializer",
    "TOKEN_REFRESH_SERIALIZER": "keyfob.drf.serializers.TokenRefreshSerializer",
    "TOKEN_VERIFY_SERIALIZER": "keyfob.drf.serializers.TokenVerifySerializer",
    "TOKEN_BLACKLIST_SERIALIZER": "keyfob.drf.serializers.TokenBlacklistSerializer",
    "SLIDING_TOKEN_OBTAIN_SERIALIZER": "keyfob.drf.serializers.TokenObtainSlidingSerializer",
    "SLIDING_TOKEN_REFRESH_SERIALIZER": "keyfob.drf.serializers.TokenRefreshSlidingSerializer",
    "CHECK_REVOKE_TOKEN": False,
    "REVOKE_TOKEN_CLAIM": "hash_password",
    "CHECK_USER_IS_ACTIVE": True,
    # keyfob's own keys.
    "IDLE_TIMEOUT": timedelta(minutes=30),
    "REUSE_GRACE": timedelta(0),
    "ACCEPT_SESSIONLESS_TOKENS": False,
    "STORE": "memory",
    "ENGINE_OPTIONS": {},  # further keyfob.Engine keyword arguments (key_id, verifying_keys, ...)
    # Test hook: a keyfob.ManualClock the engine reads instead of the wall clock.
    "CLOCK": None,
    # A callable (or import path) request -> str | None: the client binding value the host
    # vouches for, passed to the engine on login and refresh (keyfob.drf.dpop).
    "CLIENT_BINDING": None,
    # Browser apps (keyfob.drf.cookies): tokens in HttpOnly cookies, every unsafe request
    # they authenticate CSRF-checked. Off: the token views answer in the body, as simplejwt.
    "COOKIE_MODE": False,
    "COOKIE_ACCESS_TOKEN": False,  # the access token in a cookie too (JWTCookieAuthentication)
    "REFRESH_COOKIE_NAME": "keyfob_refresh",
    "REFRESH_COOKIE_PATH": "/api/token/",  # a prefix of the refresh and logout URLs only
    "ACCESS_COOKIE_NAME": "keyfob_access",
    "ACCESS_COOKIE_PATH": "/",
    "COOKIE_DOMAIN": None,
    "COOKIE_SECURE": True,
    "COOKIE_HTTPONLY": True,
    "COOKIE_SAMESITE": "Lax",
    "COOKIE_LOGIN_CSRF": True,  # the obtain view checks CSRF too (no login CSRF)
    # Other services: the JWK Set's Cache-Control max-age (keyfob.drf.jwks), and the RFC 7662
    # introspection and RFC 7009 revocation endpoints (keyfob.drf.oauth), off by default,
    # for the clients in OAUTH_CLIENTS (client id -> secret, HTTP Basic) or whoever
    # OAUTH_PERMISSION_CLASSES let in.
    "JWKS_MAX_AGE": timedelta(minutes=5),
    "INTROSPECTION": False,
    "REVOCATION": False,
    "OAUTH_CLIENTS": {},
    "OAUTH_PERMISSION_CLASSES": ("keyfob.drf.oauth.IsOAuthClient",),
    # Sessions people can see (keyfob.drf.metadata, keyfob.drf.sessions): a login through the
    # obtain view records the client's IP address and user agent with its session. Behind a
    # proxy, CLIENT_IP_HEADER names the META key it writes the client's address to (such as
    # "HTTP_X_FORWARDED_FOR") and CLIENT_IP_PROXY_COUNT how many proxies append to it; None
    # reads REMOTE_ADDR. SESSION_LABEL: a callable (or import path) request -> str | None
    # naming the device ("Firefox on macOS"), shown with the session.
    "SESSION_METADATA": True,
    "CLIENT_IP_HEADER": None,
    "CLIENT_IP_PROXY_COUNT": 1,
    "SESSION_LABEL": None,
    # Account changes (keyfob.drf.revocation): a new password ends every session of the user;
    # REVOKE_ON_LOGOUT also ends them when the user logs out of Django's own session
    # (django.contrib.auth's user_logged_out, such as the admin's logout).
    "REVOKE_ON_PASSWORD_CHANGE": True,
    "REVOKE_ON_LOGOUT": False,
}

IMPORT_STRINGS = (
    "AUTH_TOKEN_CLASSES",
    "JSON_ENCODER",
    "TOKEN_USER_CLASS",
    "USER_AUTHENTICATION_RULE",
    "CLIENT_BINDING",
    "SESSION_LABEL",
)

# simplejwt features keyfob does not offer: refusing them beats silently ignoring them.
UNSUPPORTED = {
    "JWK_URL": "keyfob never fetches keys; put public keys in ENGINE_OPTIONS['verifying_keys']",
}


class APISettings:
    """Attribute access to ``settings.KEYFOB`` over ``DEFAULTS``, cached until ``reload()``.

    A resolved setting is stored as an instance attribute (as DRF's own ``APISettings``
    does), so later reads never reach ``__getattr__``: ``authenticate()`` reads several per
    request. ``generation`` counts reloads, for values derived from the settings elsewhere.
    """

    def __init__(self) -> None:
        self._checked = False
        self._user_settings: dict[str, Any] | None = None
        self.generation = 0

    @property
    def user_settings(self) -> dict[str, Any]:
        """``settings.KEYFOB`` itself (or one empty dict kept until the next reload), so a
        change made to it is seen by the next read of an uncached setting."""
        value = self._user_settings
        if value is None:
            value = getattr(settings, "KEYFOB", None)
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise ImproperlyConfigured("settings.KEYFOB must be a dict")
            self._user_settings = value
        return value

    def unknown_keys(self) -> list[str]:
        """The ``KEYFOB`` keys keyfob.drf does not know (ignored, as simplejwt ignored them)."""
        return sorted(str(k) for k in set(self.user_settings) - set(DEFAULTS))

    def __delattr__(self, name: str) -> None:
        # Dropping a cached setting (as simplejwt's test helper does after changing
        # user_settings) is a change: whatever derives from the settings is recomputed.
        super().__delattr__(name)
        self.generation += 1

    def _check(self) -> None:
        user = self.user_settings
        for key, why in UNSUPPORTED.items():
            if user.get(key) is not None:
                raise ImproperlyConfigured(f"settings.KEYFOB['{key}'] is not supported: {why}")
        claim = user.get("SLIDING_TOKEN_REFRESH_EXP_CLAIM", "refresh_exp")
        if claim != "refresh_exp":
            raise ImproperlyConfigured(
                "settings.KEYFOB['SLIDING_TOKEN_REFRESH_EXP_CLAIM'] must be 'refresh_exp'"
            )
        self._checked = True

    def __getattr__(self, name: str) -> Any:
        # Only reached for a setting not resolved since the last reload.
        if name.startswith("_") or name not in DEFAULTS:
            raise AttributeError(f"Invalid keyfob.drf setting: '{name}'")
        if not self._checked:
            self._check()
        value = self.user_settings.get(name, DEFAULTS[name])
        if name == "AUTH_HEADER_TYPES" and not isinstance(value, (list, tuple)):
            value = (value,)
        if (
            name.endswith("_LIFETIME")
            and isinstance(value, (int, float))
            and not isinstance(value, bool)
        ):
            # Seconds are accepted too; token classes do date arithmetic with timedeltas.
            value = timedelta(seconds=value)
        if name == "SLIDING_TOKEN_REFRESH_LIFETIME" and value is None:
            # One session lifetime, whichever kind of token it hands out.
            value = self.REFRESH_TOKEN_LIFETIME
        if name in IMPORT_STRINGS:
            value = _import(value, name)
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        # list() copies at once, so a thread resolving a setting meanwhile cannot break it.
        for name in list(vars(self)):
            if name in DEFAULTS:
                vars(self).pop(name, None)
        self._user_settings = None
        self._checked = False
        self.generation += 1


def _import(value: Any, name: str) -> Any:
    if isinstance(value, str):
        return _import_one(value, name)
    if isinstance(value, (list, tuple)):
        return [_import_one(v, name) if isinstance(v, str) else v for v in value]
    return value


def _import_one(path: str, name: str) -> Any:
    try:
        return import_string(path)
    except ImportError as e:
        raise ImportError(f"Could not import '{path}' for keyfob.drf setting '{name}': {e}") from e


api_settings = APISettings()


def _reload(*, setting: str, **_: Any) -> None:
    if setting in ("KEYFOB", "SECRET_KEY", "AUTH_USER_MODEL"):
        api_settings.reload()


setting_changed.connect(_reload)
