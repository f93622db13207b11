"""The one keyfob engine of this process, built from ``settings.KEYFOB`` on first use.

The default store keeps sessions in this process's memory: every worker process has its own
sessions until a shared store is configured. With several workers or hosts set
``KEYFOB["STORE"] = "redis://host:6379/0"`` (and ``ENGINE_OPTIONS`` ``store_prefix`` /
``store_timeout_ms``): every process then sees every login, rotation and logout, and while
Redis cannot be reached every endpoint answers 503 ``store_unavailable``. Each process
answers validates from its near cache, which Redis keeps true within milliseconds
(``ENGINE_OPTIONS`` ``near_cache`` / ``near_cache_size``, see docs/near-cache.md).

When a test changes ``KEYFOB`` or
``SECRET_KEY`` (``override_settings``), the engine is dropped and rebuilt on next use,
with empty sessions.

Time: the engine reads Python's ``time.time()`` as each call starts, so a test that freezes
or moves time with ``freezegun`` or ``time-machine`` moves the engine's time too (tokens
expire, sessions go idle). A ``keyfob.ManualClock`` in ``KEYFOB["CLOCK"]`` replaces it.

The engine reports its events (logins, refreshes, revoked sessions, refresh-token reuse...)
to ``keyfob.drf.events``, which logs them and sends them as Django signals
(``keyfob.drf.signals``).

When a setting the engine is built from changes (``override_settings``, or a cached setting
dropped from ``api_settings``), the next call rebuilds the engine; other changes keep it.
"""

from __future__ import annotations

import math
import threading
import time
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

import keyfob

from .events import handle_event
from .keys import engine_key
from .settings import api_settings

_lock = threading.Lock()
_engine: keyfob.Engine | None = None
# What the engine was built from, and the settings generation that was checked against.
_built_from: dict[str, Any] | None = None
_generation = -1


def get_engine() -> keyfob.Engine:
    """The process's engine; built on first call and after its settings change, thread-safe."""
    engine = _engine
    if engine is None or _generation != api_settings.generation:
        engine = _current()
    return engine


def _current() -> keyfob.Engine:
    global _engine, _built_from, _generation
    with _lock:
        generation = api_settings.generation  # read first: a change meanwhile checks again
        wanted = engine_arguments()
        if _engine is None or wanted != _built_from:
            _engine = build_engine(wanted)
            _built_from = wanted
        _generation = generation
        return _engine


def reset_engine() -> None:
    """Drop the engine (and, with the memory store, every session); the next call rebuilds it."""
    global _engine, _built_from
    with _lock:
        _engine = None
        _built_from = None


def seconds(value: Any, name: str) -> int:
    """A duration setting (``timedelta`` or number of seconds) as whole seconds, rounded up."""
    if isinstance(value, timedelta):
        value = value.total_seconds()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ImproperlyConfigured(
            f"settings.KEYFOB['{name}'] must be a timedelta or a number of seconds"
        )
    if value < 0:
        raise ImproperlyConfigured(f"settings.KEYFOB['{name}'] must not be negative")
    return math.ceil(value)


def engine_config() -> dict[str, Any]:
    """The ``keyfob.Engine`` keyword arguments the settings stand for (without the key)."""
    s = api_settings
    refresh = seconds(s.REFRESH_TOKEN_LIFETIME, "REFRESH_TOKEN_LIFETIME")
    if s.SLIDING_TOKEN_REFRESH_LIFETIME is not None:
        sliding_refresh = seconds(
            s.SLIDING_TOKEN_REFRESH_LIFETIME, "SLIDING_TOKEN_REFRESH_LIFETIME"
        )
        if sliding_refresh != refresh:
            # A session has one absolute lifetime, whichever kind of token it hands out.
            raise ImproperlyConfigured(
                "settings.KEYFOB: SLIDING_TOKEN_REFRESH_LIFETIME must equal REFRESH_TOKEN_LIFETIME "
                "(keyfob sessions have one absolute lifetime); set REFRESH_TOKEN_LIFETIME only"
            )
    audience = s.AUDIENCE
    if isinstance(audience, (list, tuple, set)):
        if len(audience) != 1:
            raise ImproperlyConfigured("settings.KEYFOB['AUDIENCE'] must be one string")
        (audience,) = audience
    config: dict[str, Any] = {
        "algorithm": s.ALGORITHM,
        "access_lifetime_s": seconds(s.ACCESS_TOKEN_LIFETIME, "ACCESS_TOKEN_LIFETIME"),
        "refresh_lifetime_s": refresh,
        "idle_timeout_s": seconds(s.IDLE_TIMEOUT, "IDLE_TIMEOUT"),
        "sliding_lifetime_s": seconds(s.SLIDING_TOKEN_LIFETIME, "SLIDING_TOKEN_LIFETIME"),
        "rotate_refresh": bool(s.ROTATE_REFRESH_TOKENS),
        "reuse_grace_s": seconds(s.REUSE_GRACE, "REUSE_GRACE"),
        "leeway_s": seconds(s.LEEWAY, "LEEWAY"),
        "accept_sessionless": bool(s.ACCEPT_SESSIONLESS_TOKENS),
        "store": s.STORE,
        "issuer": s.ISSUER,
        "audience": audience,
        "user_id_claim": s.USER_ID_CLAIM,
        "token_type_claim": s.TOKEN_TYPE_CLAIM,
        "jti_claim": s.JTI_CLAIM,
    }
    if s.VERIFYING_KEY and not str(s.ALGORITHM).startswith("HS"):
        # The public half of SIGNING_KEY; keyfob derives it, but accept it under its own kid.
        config["verifying_keys"] = {"verifying-key": s.VERIFYING_KEY}
    config.update(s.ENGINE_OPTIONS or {})
    return config


def signing_key() -> Any:
    """``KEYFOB["SIGNING_KEY"]``, or ``SECRET_KEY`` when it is not set."""
    key = api_settings.SIGNING_KEY
    return settings.SECRET_KEY if key is None else engine_key(key)


def engine_arguments() -> dict[str, Any]:
    """Every ``keyfob.Engine`` argument the settings stand for, the key and clock included."""
    clock = api_settings.CLOCK
    return {
        "signing_key": signing_key(),
        "clock": clock,
        **engine_config(),
    }


def build_engine(arguments: dict[str, Any] | None = None) -> keyfob.Engine:
    kwargs = dict(engine_arguments() if arguments is None else arguments)
    key = kwargs.pop("signing_key")
    if kwargs.get("clock") is None:
        # Python's clock: the engine looks `time.time` up at each call (freezegun replaces
        # it, time-machine patches it), so a test moving time moves the engine too.
        kwargs["clock"] = time.time
    try:
        # Events become log records and Django signals (keyfob.drf.events).
        return keyfob.Engine(key, on_event=handle_event, **kwargs)
    except keyfob.ConfigError as e:
        raise ImproperlyConfigured(f"settings.KEYFOB: {e}") from e


def _reset(*, setting: str, **_: Any) -> None:
    if setting in ("KEYFOB", "SECRET_KEY"):
        reset_engine()


setting_changed.connect(_reset)
