"""Revoking the keyfob session behind a blacklisted token's text."""

from __future__ import annotations

import keyfob

from ..engine import get_engine
from ..exceptions import EngineError, TokenError
from ..settings import api_settings
from ..tokens import decode_payload


def revoke_outstanding(text: str) -> bool:
    """Revoke the session of the token ``text`` (an ``OutstandingToken.token``); True if a
    live session was revoked.

    A refresh token already rotated out of its session is spent, not the session: the
    session lives on with its successor. Tokens without a session are refused by their
    ``BlacklistedToken`` row instead. A store that cannot be reached raises."""
    try:
        claims = decode_payload(text)
    except TokenError:
        return False
    sid = claims.get("sid")
    if not isinstance(sid, str):
        return False
    engine = get_engine()
    if claims.get(api_settings.TOKEN_TYPE_CLAIM) == "refresh":
        try:
            engine.verify(text)
        except (keyfob.RevokedError, keyfob.ReuseDetectedError, keyfob.SessionUnknownError):
            return False
        except keyfob.StoreUnavailableError:
            raise
        except EngineError:
            pass  # expired or otherwise stale: the session, if alive, still ends
    try:
        return bool(engine.revoke_session(sid))
    except (keyfob.SessionUnknownError, keyfob.InvalidArgumentError):
        return False
