"""Django system checks for ``settings.KEYFOB``, run by ``manage.py check``, ``runserver`` and
``migrate`` when ``keyfob.drf`` (or ``rest_framework_simplejwt`` through
``install_as_simplejwt``) is in ``INSTALLED_APPS``:

- ``keyfob.E001`` (error): the engine cannot be built from the settings, e.g. a signing key
  keyfob refuses (an HMAC key shorter than 32 bytes); the message names the rule and the fix.
- ``keyfob.E003`` (error): ``CLIENT_IP_HEADER`` or ``CLIENT_IP_PROXY_COUNT`` (how the client's
  address is read at login) has a value that cannot work.
- ``keyfob.W001`` (warning): ``KEYFOB`` keys keyfob.drf does not know; they are ignored (as
  simplejwt ignored unknown keys), so requests keep working.
"""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from .exceptions import EngineError


def _fix_for(message: str) -> str:
    if "at least" in message and "bytes" in message:
        return (
            "Set KEYFOB['SIGNING_KEY'] (or SECRET_KEY) to at least 32 random bytes "
            "(keyfob refuses shorter HMAC keys), e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
        )
    return "Correct settings.KEYFOB (keyfob.drf.settings.DEFAULTS lists every key)."


@checks.register(checks.Tags.security)
def check_engine_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The engine builds from the settings (key length, algorithm, lifetimes, store)."""
    from .engine import build_engine, engine_arguments

    try:
        arguments = engine_arguments()
        # A remote store is not contacted here: only the key and the values are checked.
        if arguments.get("store", "memory") != "memory":
            arguments["store"] = "memory"
        build_engine(arguments)
    except (ImproperlyConfigured, EngineError, TypeError, ValueError) as e:
        message = str(e)
        return [
            checks.Error(
                f"keyfob cannot start with these settings: {message}",
                hint=_fix_for(message),
                id="keyfob.E001",
            )
        ]
    return []


@checks.register()
def check_session_settings(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The client-address settings of ``keyfob.drf.metadata`` have a shape they can work with
    (a wrong one would fail every login)."""
    from .settings import api_settings

    problems = []
    header = api_settings.CLIENT_IP_HEADER
    if header is not None and (not isinstance(header, str) or not header):
        problems.append(
            "CLIENT_IP_HEADER must be None or a request.META key such as 'HTTP_X_FORWARDED_FOR'"
        )
    count = api_settings.CLIENT_IP_PROXY_COUNT
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        problems.append("CLIENT_IP_PROXY_COUNT must be a whole number of proxies, at least 1")
    return [checks.Error(f"settings.KEYFOB: {problem}", id="keyfob.E003") for problem in problems]


@checks.register()
def check_unknown_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """``KEYFOB`` keys keyfob.drf does not know (ignored)."""
    from .settings import api_settings

    try:
        unknown = api_settings.unknown_keys()
    except ImproperlyConfigured as e:
        return [checks.Error(str(e), id="keyfob.E002")]
    if not unknown:
        return []
    return [
        checks.Warning(
            f"settings.KEYFOB has keys keyfob.drf does not know: {', '.join(unknown)}. "
            "They are ignored.",
            hint="Remove them, or correct their spelling (keyfob.drf.settings.DEFAULTS lists "
            "every key).",
            id="keyfob.W001",
        )
    ]
