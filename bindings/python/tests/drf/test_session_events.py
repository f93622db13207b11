"""The engine's events in a Django process (keyfob.drf.events, keyfob.drf.signals): sent as
Django signals and logged with ``logging``; a failing receiver does not fail the request.
And account changes that end sessions (keyfob.drf.revocation): a new password, and, when
asked, a logout of Django's own session."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.test import RequestFactory
from keyfob.drf import signals
from keyfob.drf.engine import get_engine
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


class Received:
    """The events a signal delivered, in order."""

    def __init__(self, signal: Any) -> None:
        self.signal = signal
        self.events: list[dict[str, Any]] = []
        self.kinds: list[str] = []

    def __call__(self, sender: Any, event: dict[str, Any], kind: str, **kwargs: Any) -> None:
        self.events.append(event)
        self.kinds.append(kind)


@pytest.fixture
def received() -> Iterator[dict[str, Received]]:
    """A receiver on every signal, by name: ``received["session_event"]``, ``received["login"]``."""
    found = {"session_event": Received(signals.session_event)}
    found.update({kind: Received(signal) for kind, signal in signals.BY_KIND.items()})
    for receiver in found.values():
        receiver.signal.connect(receiver)
    yield found
    for receiver in found.values():
        receiver.signal.disconnect(receiver)


def obtain(user_agent: str = "events-test/1") -> dict[str, str]:
    reply = APIClient().post(
        "/api/token/",
        {"username": "admin", "password": "admin"},
        format="json",
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR="192.0.2.10",
    )
    assert reply.status_code == 200, reply.content
    return reply.json()


def refresh(token: str) -> int:
    return APIClient().post("/api/token/refresh/", {"refresh": token}).status_code


def hello(tokens: dict[str, str]) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client.get("/api/hello/").status_code


def test_login_and_logout_are_signalled_with_the_sessions_metadata(admin, received):
    tokens = obtain()
    sid = get_engine().verify(tokens["access"])["sid"]
    (login,) = received["login"].events
    assert login["kind"] == "login" and login["session_id"] == sid
    assert (login["user_id"], login["ip"], login["user_agent"]) == (
        str(admin.id),
        "192.0.2.10",
        "events-test/1",
    )
    assert isinstance(login["at"], int)
    assert APIClient().post("/api/token/blacklist/", {"refresh": tokens["refresh"]}).status_code
    (revoked,) = received["session_revoked"].events
    assert (revoked["session_id"], revoked["reason"]) == (sid, "logout")
    # session_event saw both, with their kinds, in order.
    assert received["session_event"].kinds == ["login", "session_revoked"]


def test_refresh_token_reuse_is_signalled_and_logged_as_a_warning(admin, received, caplog):
    first = obtain()
    sid = get_engine().verify(first["access"])["sid"]
    assert refresh(first["refresh"]) == 200
    with caplog.at_level(logging.INFO, logger="keyfob.drf"):
        assert refresh(first["refresh"]) == 401  # the replay
    assert [e["session_id"] for e in received["reuse_detected"].events] == [sid]
    assert [e["reason"] for e in received["session_revoked"].events] == ["reuse"]
    assert received["refresh"].events[0]["session_id"] == sid
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    reuse = [r for r in warnings if r.name == "keyfob.drf.events"]
    assert len(reuse) == 1
    line = reuse[0].getMessage()
    assert "reuse_detected" in line and sid in line and "192.0.2.10" in line
    # Logs name sessions, never tokens.
    for record in caplog.records:
        assert first["refresh"] not in record.getMessage()


def test_a_failing_receiver_is_logged_and_the_request_goes_on(admin, caplog):
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("receiver bug")

    signals.session_login.connect(broken)
    try:
        with caplog.at_level(logging.ERROR, logger="keyfob.drf"):
            tokens = obtain()
    finally:
        signals.session_login.disconnect(broken)
    assert hello(tokens) == 200
    failures = [r for r in caplog.records if r.name == "keyfob.drf.events"]
    assert len(failures) == 1 and failures[0].exc_info is not None
    assert "receiver bug" in str(failures[0].exc_info[1])


def test_a_new_password_ends_every_session_of_the_user(admin, received):
    laptop, phone = obtain(), obtain("phone/1")
    other = get_user_model().objects.create_user(username="other", password="admin")
    their = APIClient().post("/api/token/", {"username": "other", "password": "admin"}).json()
    # Saving other fields, or the same hash again, ends nothing.
    admin.first_name = "Ada"
    admin.save()
    get_user_model().objects.get(pk=admin.pk).save()
    assert [hello(laptop), hello(phone)] == [200, 200]
    user = get_user_model().objects.get(pk=admin.pk)
    user.set_password("a-new-password")
    user.save()
    assert [hello(laptop), hello(phone), hello(their)] == [401, 401, 200]
    assert refresh(phone["refresh"]) == 401
    reasons = [e["reason"] for e in received["session_revoked"].events]
    assert reasons == ["revoke_user", "revoke_user"]
    assert other.pk != admin.pk


def test_saving_with_update_fields_without_the_password_ends_nothing(admin):
    tokens = obtain()
    admin.set_password("changed-but-not-saved")
    admin.save(update_fields=["last_login"])
    assert hello(tokens) == 200


def test_password_change_revocation_can_be_turned_off(settings, clock, admin):
    settings.KEYFOB = {"CLOCK": clock, "REVOKE_ON_PASSWORD_CHANGE": False}
    tokens = obtain()
    admin.set_password("a-new-password")
    admin.save()
    assert hello(tokens) == 200


def test_logging_out_of_djangos_session_ends_keyfob_sessions_only_when_asked(
    settings, clock, admin
):
    tokens = obtain()
    request = RequestFactory().post("/admin/logout/")
    user_logged_out.send(sender=type(admin), request=request, user=admin)
    assert hello(tokens) == 200
    settings.KEYFOB = {"CLOCK": clock, "REVOKE_ON_LOGOUT": True}
    tokens = obtain()
    user_logged_out.send(sender=type(admin), request=request, user=admin)
    assert hello(tokens) == 401


def test_an_idle_session_noticed_is_signalled(admin, received, clock):
    tokens = obtain()
    sid = get_engine().verify(tokens["access"])["sid"]
    clock.advance(30 * 60 + 1)  # IDLE_TIMEOUT's default, and a second
    # The access token has expired on its own by now; the refresh token finds the session idle.
    assert refresh(tokens["refresh"]) == 401
    assert [e["session_id"] for e in received["idle_expired"].events] == [sid]
    assert received["idle_expired"].events[0]["user_agent"] == "events-test/1"
