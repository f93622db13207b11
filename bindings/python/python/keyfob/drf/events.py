"""The engine's event handler in a Django process: each event is logged and sent as Django
signals (``keyfob.drf.signals``). ``keyfob.drf.engine`` installs it on the engine it builds.

Logging goes to the logger ``keyfob.drf.events`` (a child of ``keyfob.drf``): what points at
an attack (``reuse_detected``, ``client_mismatch``, ``dpop_replayed``) at WARNING, sessions
ended before their time at INFO, logins, refreshes and idle sessions at DEBUG. Records name
the session, the user, the reason and the client's address, never a token.
"""

from __future__ import annotations

import logging
from typing import Any

import keyfob

from .signals import BY_KIND, session_event

logger = logging.getLogger("keyfob.drf.events")

LEVELS = {
    "reuse_detected": logging.WARNING,
    "client_mismatch": logging.WARNING,
    "dpop_replayed": logging.WARNING,
    "session_revoked": logging.INFO,
}


def describe(event: dict[str, Any]) -> str:
    """One log line for an event: its kind and what it names."""
    parts = [str(event.get("kind"))]
    for key in ("session_id", "user_id", "reason", "ip", "label", "user_agent"):
        value = event.get(key)
        if value is not None:
            parts.append(f"{key}={value!r}")
    return " ".join(parts)


def handle_event(event: dict[str, Any]) -> None:
    """Log ``event`` and send its signals; a receiver's exception is logged, never raised
    into the request that caused the event."""
    kind = event.get("kind")
    level = LEVELS.get(str(kind), logging.DEBUG)
    if logger.isEnabledFor(level):
        logger.log(level, "keyfob event: %s", describe(event))
    signals = [session_event]
    specific = BY_KIND.get(str(kind))
    if specific is not None:
        signals.append(specific)
    for signal in signals:
        for receiver, result in signal.send_robust(sender=keyfob.Engine, kind=kind, event=event):
            if isinstance(result, Exception):
                logger.error(
                    "keyfob event receiver %r failed on %s",
                    receiver,
                    kind,
                    exc_info=(type(result), result, result.__traceback__),
                )
