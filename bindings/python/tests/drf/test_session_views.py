"""The example's session endpoints (keyfob.drf.sessions): a user lists their own sessions
with what each login recorded, ends one, or ends all but the current one; nobody reaches
another user's sessions; a store that is down answers 503."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from keyfob.drf.engine import get_engine
from redis_server import free_port
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.5; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "keyfob-test-phone/1.0 (Android 14)"


def login(
    username: str = "admin", *, user_agent: str = FIREFOX, ip: str = "203.0.113.7"
) -> dict[str, str]:
    reply = APIClient().post(
        "/api/token/",
        {"username": username, "password": "admin"},
        format="json",
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip,
    )
    assert reply.status_code == 200, reply.content
    return reply.json()


def client_for(tokens: dict[str, str]) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client


def sid_of(tokens: dict[str, str]) -> str:
    return get_engine().verify(tokens["access"])["sid"]


def hello(tokens: dict[str, str]) -> int:
    return client_for(tokens).get("/api/hello/").status_code


@pytest.fixture
def other_user() -> Any:
    return get_user_model().objects.create_user(username="other", password="admin")


def test_the_list_shows_the_users_sessions_newest_first_and_marks_the_current(admin, clock):
    laptop = login(user_agent=FIREFOX, ip="203.0.113.7")
    clock.advance(5)
    phone = login(user_agent=PHONE, ip="2001:db8::42")
    reply = client_for(laptop).get("/api/sessions/")
    assert reply.status_code == 200
    listed = reply.json()
    assert [s["id"] for s in listed] == [sid_of(phone), sid_of(laptop)]
    assert [s["current"] for s in listed] == [False, True]
    newest, oldest = listed
    assert (newest["user_agent"], newest["ip"]) == (PHONE, "2001:db8::42")
    assert (oldest["user_agent"], oldest["ip"]) == (FIREFOX, "203.0.113.7")
    assert newest["created_at"] == oldest["created_at"] + 5
    for shown in listed:
        assert set(shown) == {
            "id",
            "current",
            "label",
            "ip",
            "user_agent",
            "created_at",
            "last_seen",
            "idle_deadline",
            "absolute_deadline",
        }
        assert shown["created_at"] <= shown["last_seen"] <= shown["idle_deadline"]
        assert shown["idle_deadline"] <= shown["absolute_deadline"]


def test_the_list_holds_only_the_users_own_live_sessions(admin, other_user):
    mine, theirs, ended = login(), login("other"), login()
    assert APIClient().post("/api/token/blacklist/", {"refresh": ended["refresh"]}).status_code
    listed = client_for(mine).get("/api/sessions/").json()
    assert [s["id"] for s in listed] == [sid_of(mine)]
    assert sid_of(theirs) not in {s["id"] for s in listed}


def test_ending_one_session_refuses_its_token_at_once_and_leaves_the_others(admin):
    laptop, phone = login(), login(user_agent=PHONE)
    reply = client_for(laptop).delete(f"/api/sessions/{sid_of(phone)}/")
    assert reply.status_code == 204
    assert hello(phone) == 401
    assert APIClient().post("/api/token/refresh/", {"refresh": phone["refresh"]}).status_code == 401
    assert hello(laptop) == 200
    assert [s["id"] for s in client_for(laptop).get("/api/sessions/").json()] == [sid_of(laptop)]


def test_ending_the_current_session_is_a_logout(admin):
    tokens = login()
    assert client_for(tokens).delete(f"/api/sessions/{sid_of(tokens)}/").status_code == 204
    assert hello(tokens) == 401


def test_another_users_session_cannot_be_ended_and_looks_like_no_session(admin, other_user):
    mine, theirs = login(), login("other")
    for session_id in (sid_of(theirs), "0" * 32, "not-a-session-id"):
        reply = client_for(mine).delete(f"/api/sessions/{session_id}/")
        assert reply.status_code == 404, session_id
    assert hello(theirs) == 200


def test_ending_all_others_keeps_the_current_session_only(admin, other_user):
    current, second, third = login(), login(user_agent=PHONE), login()
    theirs = login("other")
    reply = client_for(current).post("/api/sessions/revoke-others/")
    assert (reply.status_code, reply.json()) == (200, {"revoked": 2})
    assert [hello(t) for t in (current, second, third, theirs)] == [200, 401, 401, 200]
    assert [s["id"] for s in client_for(current).get("/api/sessions/").json()] == [sid_of(current)]
    again = client_for(current).post("/api/sessions/revoke-others/")
    assert again.json() == {"revoked": 0}


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/sessions/"),
        ("delete", "/api/sessions/" + "0" * 32 + "/"),
        ("post", "/api/sessions/revoke-others/"),
    ],
)
def test_the_session_views_need_a_valid_token(admin, method, path):
    tokens = login()
    assert getattr(APIClient(), method)(path).status_code == 401
    assert client_for(tokens).delete(f"/api/sessions/{sid_of(tokens)}/").status_code == 204
    # The session just ended: its own access token no longer reaches the views.
    assert getattr(client_for(tokens), method)(path).status_code == 401


def test_the_session_views_answer_503_when_the_store_is_down(settings, clock, admin):
    tokens = login()  # a well-signed token; its session is in no reachable store
    settings.KEYFOB = {
        "CLOCK": clock,
        "STORE": f"redis://127.0.0.1:{free_port()}/0",
        "ENGINE_OPTIONS": {"store_timeout_ms": 100},
    }
    for method, path in (
        ("get", "/api/sessions/"),
        ("post", "/api/sessions/revoke-others/"),
        ("delete", f"/api/sessions/{sid_of_unchecked(tokens)}/"),
    ):
        reply = getattr(client_for(tokens), method)(path)
        assert reply.status_code == 503, (method, path)
        assert reply.json()["code"] == "store_unavailable"


def sid_of_unchecked(tokens: dict[str, str]) -> str:
    from keyfob.drf.tokens import decode_payload

    return decode_payload(tokens["access"])["sid"]
