"""The example's admin page of a user's sessions (keyfob.drf.session_admin), through Django's
test client: staff see each session's device, address and times and can end one or all;
the user list links to it; users without the permission cannot end anything."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client
from keyfob.drf.engine import get_engine
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = "keyfob-test-phone/1.0 (Android 14)"


def api_login(user_agent: str, ip: str) -> dict[str, str]:
    reply = APIClient().post(
        "/api/token/",
        {"username": "admin", "password": "admin"},
        format="json",
        HTTP_USER_AGENT=user_agent,
        REMOTE_ADDR=ip,
    )
    assert reply.status_code == 200, reply.content
    return reply.json()


def sid_of(tokens: dict[str, str]) -> str:
    return get_engine().verify(tokens["access"])["sid"]


def hello(tokens: dict[str, str]) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    return client.get("/api/hello/").status_code


@pytest.fixture
def staff() -> Client:
    boss = get_user_model().objects.create_superuser("boss", password="boss-password")
    client = Client()
    client.force_login(boss)
    return client


def page_url(user: Any) -> str:
    return f"/admin/auth/user/{user.pk}/sessions/"


def test_the_page_lists_the_sessions_and_ends_one(admin, staff):
    laptop = api_login(FIREFOX, "203.0.113.7")
    phone = api_login(PHONE, "2001:db8::42")
    page = staff.get(page_url(admin))
    assert page.status_code == 200
    html = page.content.decode()
    for text in (FIREFOX, PHONE, "203.0.113.7", "2001:db8::42", sid_of(laptop), sid_of(phone)):
        assert text in html
    assert html.count('class="keyfob-session"') == 2
    ended = staff.post(page_url(admin), {"action": "end", "session_id": sid_of(phone)})
    assert ended.status_code == 302 and ended.headers["Location"] == page_url(admin)
    assert (hello(phone), hello(laptop)) == (401, 200)
    after = staff.get(page_url(admin)).content.decode()
    assert "Ended the session." in after
    assert PHONE not in after and FIREFOX in after


def test_end_all_ends_every_session_of_that_user_only(admin, staff):
    mine = [api_login(FIREFOX, "192.0.2.1"), api_login(PHONE, "192.0.2.2")]
    get_user_model().objects.create_user(username="other", password="admin")
    theirs = APIClient().post("/api/token/", {"username": "other", "password": "admin"}).json()
    assert staff.post(page_url(admin), {"action": "end-all"}).status_code == 302
    assert [hello(t) for t in mine] == [401, 401]
    assert hello(theirs) == 200
    after = staff.get(page_url(admin)).content.decode()
    assert "Ended 2 sessions." in after and 'id="no-sessions"' in after


def test_a_session_of_another_user_is_not_ended_from_this_users_page(admin, staff):
    other = get_user_model().objects.create_user(username="other", password="admin")
    theirs = APIClient().post("/api/token/", {"username": "other", "password": "admin"}).json()
    staff.post(page_url(admin), {"action": "end", "session_id": sid_of(theirs)})
    assert hello(theirs) == 200
    assert "already ended" in staff.get(page_url(admin)).content.decode()
    assert other.pk != admin.pk


def test_the_user_list_and_change_page_link_to_the_sessions(admin, staff):
    api_login(FIREFOX, "192.0.2.1")
    listing = staff.get("/admin/auth/user/").content.decode()
    assert f'href="{page_url(admin)}"' in listing and "1 session" in listing
    change = staff.get(f"/admin/auth/user/{admin.pk}/change/").content.decode()
    assert f'href="{page_url(admin)}"' in change


def test_viewing_needs_staff_and_ending_needs_the_change_permission(admin):
    tokens = api_login(FIREFOX, "192.0.2.1")
    anonymous = Client().get(page_url(admin))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous.headers["Location"]
    viewer = get_user_model().objects.create_user("viewer", password="x", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_user"))
    client = Client()
    client.force_login(viewer)
    assert client.get(page_url(admin)).status_code == 200
    assert client.post(page_url(admin), {"action": "end-all"}).status_code == 403
    assert hello(tokens) == 200
    assert Client().get("/admin/auth/user/999999/sessions/").status_code == 302
    boss = get_user_model().objects.create_superuser("boss", password="boss-password")
    staff = Client()
    staff.force_login(boss)
    assert staff.get("/admin/auth/user/999999/sessions/").status_code == 404
