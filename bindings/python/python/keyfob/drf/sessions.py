"""Views for a user's own sessions ("where am I signed in?"):

- ``GET sessions/``: the current user's live sessions, newest first, the one making the
  request marked ``"current": true``.
- ``DELETE sessions/<id>/``: end one of them (204); a session of another user, or none at
  all, is a 404 alike, so ids cannot be probed.
- ``POST sessions/revoke-others/``: end every session of the user but the current one
  ("sign out other devices"); answers ``{"revoked": <how many>}``.

Wire them with ``path("api/", include("keyfob.drf.session_urls"))``. They use DRF's
default authentication classes and ``IsAuthenticated`` (override ``authentication_classes``
or ``permission_classes`` as for any DRF view). Each session is shown as::

    {"id": "…32 hex digits…", "current": true, "label": "Firefox on macOS",
     "ip": "203.0.113.7", "user_agent": "Mozilla/5.0 …", "created_at": 1767225600,
     "last_seen": 1767226500, "idle_deadline": 1767228300, "absolute_deadline": 1767268800}

Times are Unix seconds. A store that cannot be reached answers 503 ``store_unavailable``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import Http404
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import keyfob

from .engine import get_engine
from .exceptions import EngineError, StoreUnavailable
from .revocation import user_id_of

SHOWN = (
    "label",
    "ip",
    "user_agent",
    "created_at",
    "last_seen",
    "idle_deadline",
    "absolute_deadline",
)


def current_session_id(request: Request) -> str | None:
    """The session whose token authenticated ``request`` (None for other authentication)."""
    sid = getattr(request.auth, "session_id", None)
    return sid if isinstance(sid, str) else None


def session_view(info: Mapping[str, Any], current: str | None) -> dict[str, Any]:
    """A session as the API shows it to its user."""
    shown: dict[str, Any] = {"id": info["session_id"], "current": info["session_id"] == current}
    shown.update({key: info.get(key) for key in SHOWN})
    return shown


def owned_session(user_id: str, session_id: str) -> Mapping[str, Any]:
    """The live session ``session_id`` when it belongs to ``user_id``; else 404."""
    try:
        info = get_engine().session(session_id)
    except keyfob.StoreUnavailableError as e:
        raise StoreUnavailable() from e
    except EngineError as e:
        raise Http404 from e  # an id of no session the engine could name
    if info is None or info.get("user_id") != user_id:
        raise Http404
    return info


class SessionViewBase(APIView):
    permission_classes = (IsAuthenticated,)


class SessionListView(SessionViewBase):
    """``GET``: the current user's live sessions, newest first."""

    def get(self, request: Request) -> Response:
        current = current_session_id(request)
        try:
            found = get_engine().sessions(user_id_of(request.user))
        except keyfob.StoreUnavailableError as e:
            raise StoreUnavailable() from e
        return Response([session_view(info, current) for info in found])


class SessionDetailView(SessionViewBase):
    """``DELETE``: end one of the current user's sessions (the current one too: a logout)."""

    def delete(self, request: Request, session_id: str) -> Response:
        owned_session(user_id_of(request.user), session_id)
        try:
            get_engine().revoke_session(session_id)
        except keyfob.StoreUnavailableError as e:
            raise StoreUnavailable() from e
        except EngineError as e:
            raise Http404 from e  # ended meanwhile
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeOtherSessionsView(SessionViewBase):
    """``POST``: end every session of the current user but the one making the request."""

    def post(self, request: Request) -> Response:
        try:
            revoked = get_engine().revoke_user(
                user_id_of(request.user), keep=current_session_id(request)
            )
        except keyfob.StoreUnavailableError as e:
            raise StoreUnavailable() from e
        return Response({"revoked": revoked})


session_list = SessionListView.as_view()
session_detail = SessionDetailView.as_view()
revoke_other_sessions = RevokeOtherSessionsView.as_view()
