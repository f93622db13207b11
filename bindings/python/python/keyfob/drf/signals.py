"""Django signals for the engine's events (sent by ``keyfob.drf.events``).

Every event is sent twice: as ``session_event`` (any kind, with ``kind=``) and as the
signal of its kind. Receivers get ``sender=keyfob.Engine`` and ``event=``, the engine's
``keyfob.Event`` dict: ``kind``, ``session_id``, ``user_id``, ``reason``, ``at`` (Unix
seconds), ``label``, ``ip`` and ``user_agent``. They run in the thread that made the call,
after it (a receiver can call the engine); an exception in one is logged and the request
goes on.

    from django.dispatch import receiver
    from keyfob.drf.signals import reuse_detected

    @receiver(reuse_detected)
    def tell_the_user(sender, event, **kwargs):
        notify(event["user_id"], f"Your session from {event['ip']} was ended: token reuse")
"""

from __future__ import annotations

from django.dispatch import Signal

session_event = Signal()
"""Every event; receivers get ``kind=`` and ``event=``."""

session_login = Signal()
"""A login made a session (``kind == "login"``)."""

session_refreshed = Signal()
"""A refresh token was spent for new tokens (``"refresh"``)."""

reuse_detected = Signal()
"""A rotated refresh token came back (likely stolen): its session is revoked
(``"reuse_detected"``; a ``session_revoked`` with reason "reuse" follows)."""

session_revoked = Signal()
"""A session ended before its time; ``event["reason"]`` says why: "logout", "revoke_user",
"reuse", "cap" (``max_sessions_per_user``) or "admin" (``revoke_session``)."""

session_idle_expired = Signal()
"""A token of a session idle for too long was presented (``"idle_expired"``)."""

client_mismatch = Signal()
"""A bound session was presented by another client (``"client_mismatch"``)."""

dpop_replayed = Signal()
"""A DPoP proof was presented twice (``"dpop_replayed"``)."""

BY_KIND: dict[str, Signal] = {
    "login": session_login,
    "refresh": session_refreshed,
    "reuse_detected": reuse_detected,
    "session_revoked": session_revoked,
    "idle_expired": session_idle_expired,
    "client_mismatch": client_mismatch,
    "dpop_replayed": dpop_replayed,
}
