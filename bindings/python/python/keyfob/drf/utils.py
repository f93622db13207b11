"""simplejwt's helpers (``rest_framework_simplejwt.utils``): time in Django's convention and
the password fingerprint ``CHECK_REVOKE_TOKEN`` writes.

Times follow Python's clock, so ``freezegun`` and ``time-machine`` move them; keyfob.drf's
tokens read the time through ``keyfob.drf.tokens.aware_utcnow``.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from django.conf import settings
from django.utils.functional import lazy

logger = logging.getLogger("keyfob.drf")


def get_md5_hash_password(password: str) -> str:
    """The password fingerprint simplejwt writes for ``CHECK_REVOKE_TOKEN`` (same value)."""
    return hashlib.md5(password.encode()).hexdigest().upper()


def make_utc(dt: datetime) -> datetime:
    """A naive datetime as UTC when ``USE_TZ`` is on; anything else unchanged."""
    if settings.USE_TZ and dt.tzinfo is None:
        return dt.replace(tzinfo=timezone.utc)
    return dt


def aware_utcnow() -> datetime:
    """Now in UTC: aware with ``USE_TZ``, naive without (Django's convention)."""
    now = datetime.now(tz=timezone.utc)
    return now if settings.USE_TZ else now.replace(tzinfo=None)


def datetime_to_epoch(dt: datetime) -> int:
    """Whole Unix seconds (rounded down); a naive datetime counts as UTC."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return math.floor(dt.timestamp())


def datetime_from_epoch(ts: float) -> datetime:
    """The datetime of Unix seconds ``ts``, aware or naive as ``aware_utcnow``."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt if settings.USE_TZ else dt.replace(tzinfo=None)


def _format(s: str, *args: Any, **kwargs: Any) -> str:
    return s.format(*args, **kwargs)


# A translated message with arguments, formatted when it is shown (in the request's language).
format_lazy: Callable[..., str] = lazy(_format, str)
