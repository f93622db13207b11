"""Cookie mode: the token views keep the tokens in HttpOnly cookies scoped and timed as the
settings say, refresh and logout read the refresh cookie, JWTCookieAuthentication reads the
access cookie, and every unsafe request a cookie authenticates passes Django's CSRF check
while header and body tokens need none. With cookie mode off nothing changes."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from keyfob.drf.engine import get_engine
from rest_framework.test import APIClient

from .test_drop_in import token_not_valid

pytestmark = [pytest.mark.django_db, pytest.mark.urls("drf.cookie_urls")]

CSRF_MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"
REFRESH, ACCESS = "keyfob_refresh", "keyfob_access"
DAY = 86400  # REFRESH_TOKEN_LIFETIME's default: the session's absolute lifetime


@pytest.fixture
def cookie_settings(settings: Any, clock: Any) -> dict[str, Any]:
    """Cookie mode with both tokens in cookies, and Django's CSRF middleware."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, CSRF_MIDDLEWARE]
    settings.KEYFOB = {"CLOCK": clock, "COOKIE_MODE": True, "COOKIE_ACCESS_TOKEN": True}
    return settings.KEYFOB


class Browser:
    """A client that keeps cookies and, like a page of the site, echoes the CSRF token."""

    def __init__(self) -> None:
        self.client = APIClient(enforce_csrf_checks=True)

    def cookie(self, name: str) -> str | None:
        morsel = self.client.cookies.get(name)
        return morsel.value if morsel is not None and morsel.value else None

    def csrf_token(self) -> str:
        if self.cookie("csrftoken") is None:
            assert self.client.get("/api/csrf/").status_code == 200
        token = self.cookie("csrftoken")
        assert token
        return token

    def post(self, path: str, data: Any = None, csrf: bool = True, **extra: Any) -> Any:
        if csrf:
            extra["HTTP_X_CSRFTOKEN"] = self.csrf_token()
        return self.client.post(path, data if data is not None else {}, format="json", **extra)

    def login(self) -> Any:
        response = self.post("/api/token/", {"username": "admin", "password": "admin"})
        assert response.status_code == 200, response.content
        return response


def csrf_failed(response: Any) -> bool:
    body = response.json()
    return (
        response.status_code == 403
        and body["code"] == "csrf_failed"
        and body["detail"].startswith("CSRF Failed: ")
    )


# --- cookie mode off: simplejwt's body mode ------------------------------------------------


def test_off_by_default_tokens_stay_in_the_body(admin: Any) -> None:
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/token/", {"username": "admin", "password": "admin"})
    assert response.status_code == 200
    assert set(response.json()) == {"refresh", "access"}
    assert REFRESH not in response.cookies and ACCESS not in response.cookies
    refreshed = client.post("/api/token/refresh/", {"refresh": response.json()["refresh"]})
    assert set(refreshed.json()) == {"refresh", "access"} and not refreshed.cookies


# --- login ---------------------------------------------------------------------------------


def test_login_sets_both_cookies_and_leaves_them_out_of_the_body(
    cookie_settings: Any, admin: Any
) -> None:
    browser = Browser()
    csrf_before = browser.csrf_token()
    response = browser.login()
    assert response.json() == {}
    assert response["Cache-Control"] == "no-store"
    refresh, access = response.cookies[REFRESH], response.cookies[ACCESS]
    for morsel in (refresh, access):
        assert morsel["httponly"] is True
        assert morsel["secure"] is True
        assert morsel["samesite"] == "Lax"
        assert morsel["max-age"] == DAY  # the session's absolute deadline
        assert morsel["domain"] == ""
    assert refresh["path"] == "/api/token/"
    assert access["path"] == "/"
    claims = get_engine().verify(refresh.value)
    assert claims["token_type"] == "refresh"
    assert get_engine().verify(access.value)["sid"] == claims["sid"]
    # A new login gets a new CSRF token (no fixation), as Django's login() does.
    assert response.cookies["csrftoken"].value not in ("", csrf_before)


def test_login_without_the_csrf_token_is_refused(cookie_settings: Any, admin: Any) -> None:
    browser = Browser()
    browser.csrf_token()
    response = browser.post("/api/token/", {"username": "admin", "password": "admin"}, csrf=False)
    assert csrf_failed(response)
    assert response.json()["detail"] == "CSRF Failed: CSRF token missing."
    assert REFRESH not in response.cookies
    assert get_engine().stats()["sessions"] == 0
    # Not even with the cookie, but a token of its own making.
    forged = browser.post(
        "/api/token/",
        {"username": "admin", "password": "admin"},
        csrf=False,
        HTTP_X_CSRFTOKEN="x" * 32,
    )
    assert csrf_failed(forged) and "incorrect" in forged.json()["detail"]


def test_login_csrf_can_be_left_to_the_host(cookie_settings: Any, admin: Any) -> None:
    cookie_settings["COOKIE_LOGIN_CSRF"] = False
    response = Browser().post("/api/token/", {"username": "admin", "password": "admin"}, False)
    assert response.status_code == 200 and REFRESH in response.cookies


def test_only_the_refresh_token_in_a_cookie(cookie_settings: Any, admin: Any) -> None:
    cookie_settings["COOKIE_ACCESS_TOKEN"] = False
    browser = Browser()
    response = browser.login()
    assert set(response.json()) == {"access"}
    assert REFRESH in response.cookies and ACCESS not in response.cookies
    # The access token from the body works in the header; no access cookie is looked for.
    access = response.json()["access"]
    hello = browser.client.get("/api/hello/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert hello.json() == {"message": "Hello, World!"}
    assert browser.client.get("/api/hello/").status_code == 401


def test_cookie_attributes_follow_the_settings(cookie_settings: Any, admin: Any) -> None:
    cookie_settings.update(
        {
            "REFRESH_COOKIE_NAME": "rt",
            "REFRESH_COOKIE_PATH": "/api/token/refresh/",
            "ACCESS_COOKIE_NAME": "at",
            "ACCESS_COOKIE_PATH": "/api/",
            "COOKIE_DOMAIN": "example.com",
            "COOKIE_SAMESITE": "Strict",
            "REFRESH_TOKEN_LIFETIME": 3600,
        }
    )
    response = Browser().login()
    rt, at = response.cookies["rt"], response.cookies["at"]
    assert (rt["path"], at["path"]) == ("/api/token/refresh/", "/api/")
    assert rt["domain"] == at["domain"] == "example.com"
    assert rt["samesite"] == at["samesite"] == "Strict"
    assert rt["max-age"] == at["max-age"] == 3600


@pytest.mark.parametrize(
    "change, complaint",
    [
        ({"COOKIE_SAMESITE": "None", "COOKIE_SECURE": False}, "needs COOKIE_SECURE"),
        ({"COOKIE_SAMESITE": "sometimes"}, "COOKIE_SAMESITE"),
        ({"REFRESH_COOKIE_PATH": "api/token/"}, "REFRESH_COOKIE_PATH"),
        ({"ACCESS_COOKIE_NAME": "keyfob_refresh"}, "must differ"),
    ],
)
def test_impossible_cookie_settings_are_refused(
    cookie_settings: Any, admin: Any, change: dict[str, Any], complaint: str
) -> None:
    cookie_settings.update(change)
    with pytest.raises(ImproperlyConfigured, match=complaint):
        Browser().post("/api/token/", {"username": "admin", "password": "admin"})


def test_cookie_mode_needs_the_csrf_middleware(settings: Any, clock: Any, admin: Any) -> None:
    settings.KEYFOB = {"CLOCK": clock, "COOKIE_MODE": True}
    with pytest.raises(ImproperlyConfigured, match="CsrfViewMiddleware"):
        APIClient().post("/api/token/", {"username": "admin", "password": "admin"})


# --- requests authenticated by the access cookie -------------------------------------------


def test_safe_requests_need_no_csrf_token_unsafe_ones_do(cookie_settings: Any, admin: Any) -> None:
    browser = Browser()
    browser.login()
    assert browser.client.get("/api/hello/").json() == {"message": "Hello, World!"}
    refused = browser.post("/api/hello/", csrf=False)
    assert csrf_failed(refused)
    assert refused.json() == {"detail": "CSRF Failed: CSRF token missing.", "code": "csrf_failed"}
    assert browser.post("/api/hello/").json() == {"posted_by": "admin"}


def test_a_foreign_origin_is_refused_even_with_the_token(cookie_settings: Any, admin: Any) -> None:
    browser = Browser()
    browser.login()
    response = browser.post("/api/hello/", HTTP_ORIGIN="http://attacker.example")
    assert csrf_failed(response) and "Origin checking failed" in response.json()["detail"]
    same_origin = browser.post("/api/hello/", HTTP_ORIGIN="http://testserver")
    assert same_origin.status_code == 200


def test_header_tokens_need_no_csrf_token(cookie_settings: Any, admin: Any) -> None:
    access = get_engine().login(str(admin.id)).access
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/hello/", {}, format="json", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert response.json() == {"posted_by": "admin"}


def test_the_header_wins_over_the_cookie(cookie_settings: Any, admin: Any) -> None:
    browser = Browser()
    browser.login()
    response = browser.client.get("/api/hello/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_a_bad_access_cookie_is_a_401(cookie_settings: Any, admin: Any) -> None:
    client = APIClient(enforce_csrf_checks=True)
    client.cookies[ACCESS] = "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"
    response = client.get("/api/hello/")
    assert response.status_code == 401 and response.json()["code"] == "token_not_valid"
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'
    assert client.get("/api/hello/", HTTP_COOKIE="").status_code == 401


# --- refresh -------------------------------------------------------------------------------


def test_refresh_reads_the_cookie_and_rotates_it(
    cookie_settings: Any, admin: Any, clock: Any
) -> None:
    browser = Browser()
    browser.login()
    first = browser.cookie(REFRESH)
    clock.advance(1000)
    response = browser.post("/api/token/refresh/")
    assert response.status_code == 200 and response.json() == {}
    assert response["Cache-Control"] == "no-store"
    second = response.cookies[REFRESH].value
    assert second != first and browser.cookie(REFRESH) == second
    # Rotation never extends the session: both cookies end at the absolute deadline.
    assert response.cookies[REFRESH]["max-age"] == DAY - 1000
    assert response.cookies[ACCESS]["max-age"] == DAY - 1000
    assert response.cookies[REFRESH]["path"] == "/api/token/"
    # The spent token, replayed in the body, is reuse: the whole session ends.
    replay = browser.post("/api/token/refresh/", {"refresh": first}, csrf=False)
    assert replay.status_code == 401
    assert browser.client.get("/api/hello/").json()["code"] == "token_not_valid"


def test_refresh_from_the_cookie_needs_the_csrf_token(cookie_settings: Any, admin: Any) -> None:
    browser = Browser()
    browser.login()
    before = browser.cookie(REFRESH)
    refused = browser.post("/api/token/refresh/", csrf=False)
    assert csrf_failed(refused)
    assert REFRESH not in refused.cookies
    # The refused request spent nothing: the cookie still refreshes once the page asks.
    assert browser.cookie(REFRESH) == before
    assert browser.post("/api/token/refresh/").status_code == 200


def test_a_token_in_the_body_is_answered_in_the_body(cookie_settings: Any, admin: Any) -> None:
    # A client sending its refresh token needs no CSRF token (no other site knows it), and
    # gets its tokens back in the body: cookies are never set for it.
    refresh = get_engine().login(str(admin.id)).refresh
    client = APIClient(enforce_csrf_checks=True)
    response = client.post("/api/token/refresh/", {"refresh": refresh}, format="json")
    assert response.status_code == 200 and set(response.json()) == {"access", "refresh"}
    assert not response.cookies.get(REFRESH) and not response.cookies.get(ACCESS)
    logout = client.post(
        "/api/token/blacklist/", {"refresh": response.json()["refresh"]}, format="json"
    )
    assert logout.status_code == 200 and not logout.cookies.get(REFRESH)


def test_another_site_cannot_plant_its_session_through_refresh(
    cookie_settings: Any, admin: Any
) -> None:
    # A cross-site form carrying the attacker's own refresh token in its body: the response
    # must not set the attacker's session as the victim's cookies.
    victim = Browser()
    victim.login()
    victims_cookie = victim.cookie(REFRESH)
    attackers = get_engine().login(str(admin.id)).refresh
    response = victim.client.post(
        "/api/token/refresh/",
        f"refresh={attackers}",
        content_type="application/x-www-form-urlencoded",
        HTTP_ORIGIN="http://attacker.example",
    )
    assert not response.cookies.get(REFRESH) and not response.cookies.get(ACCESS)
    assert victim.cookie(REFRESH) == victims_cookie
    # Nor wipe the victim's cookies through logout.
    wipe = victim.client.post(
        "/api/token/blacklist/",
        f"refresh={get_engine().login(str(admin.id)).refresh}",
        content_type="application/x-www-form-urlencoded",
    )
    assert wipe.status_code == 200 and not wipe.cookies
    assert victim.client.get("/api/hello/").status_code == 200


def test_the_page_keeps_working_across_an_access_token_expiry(
    cookie_settings: Any, admin: Any, clock: Any
) -> None:
    browser = Browser()
    browser.login()
    clock.advance(301)
    expired = browser.client.get("/api/hello/")
    assert expired.status_code == 401
    assert expired.json() == token_not_valid("Token is expired")
    assert browser.post("/api/token/refresh/").status_code == 200
    assert browser.client.get("/api/hello/").json() == {"message": "Hello, World!"}


def test_without_rotation_the_refresh_cookie_stays(
    cookie_settings: Any, admin: Any, clock: Any
) -> None:
    cookie_settings["ROTATE_REFRESH_TOKENS"] = False
    browser = Browser()
    browser.login()
    clock.advance(10)
    response = browser.post("/api/token/refresh/")
    assert response.status_code == 200 and response.json() == {}
    assert REFRESH not in response.cookies
    assert response.cookies[ACCESS]["max-age"] == DAY - 10


def test_refresh_without_cookie_or_body_is_a_400(cookie_settings: Any, admin: Any) -> None:
    response = Browser().post("/api/token/refresh/")
    assert response.status_code == 400
    assert response.json() == {"refresh": ["This field is required."]}


# --- logout --------------------------------------------------------------------------------


def test_logout_ends_the_session_and_clears_both_cookies(cookie_settings: Any, admin: Any) -> None:
    browser = Browser()
    browser.login()
    access = browser.cookie(ACCESS)
    response = browser.post("/api/token/blacklist/")
    assert response.status_code == 200 and response.json() == {}
    for name, path in ((REFRESH, "/api/token/"), (ACCESS, "/")):
        morsel = response.cookies[name]
        assert morsel.value == "" and morsel["max-age"] == 0 and morsel["path"] == path
        assert morsel["secure"] is True and morsel["httponly"] is True
    assert browser.client.get("/api/hello/").status_code == 401
    # The access token itself is revoked, not only forgotten by the browser.
    replayed = APIClient().get("/api/hello/", HTTP_AUTHORIZATION=f"Bearer {access}")
    assert replayed.json() == token_not_valid("Token is blacklisted")


def test_logout_needs_the_csrf_token_and_then_leaves_everything(
    cookie_settings: Any, admin: Any
) -> None:
    browser = Browser()
    browser.login()
    refused = browser.post("/api/token/blacklist/", csrf=False)
    assert csrf_failed(refused)
    assert not refused.cookies.get(REFRESH) and not refused.cookies.get(ACCESS)
    assert browser.client.get("/api/hello/").status_code == 200


def test_logout_of_a_dead_session_still_clears_the_cookies(
    cookie_settings: Any, admin: Any
) -> None:
    browser = Browser()
    browser.login()
    get_engine().revoke(browser.cookie(REFRESH))
    response = browser.post("/api/token/blacklist/")
    assert response.status_code == 401
    assert response.cookies[REFRESH].value == "" and response.cookies[ACCESS].value == ""


def test_a_view_may_override_the_setting(cookie_settings: Any, admin: Any) -> None:
    credentials = {"username": "admin", "password": "admin"}
    mobile = Browser().post("/mobile/token/", credentials, csrf=False)
    assert set(mobile.json()) == {"refresh", "access"} and not mobile.cookies.get(REFRESH)
    cookie_settings["COOKIE_MODE"] = False
    browser = Browser().post("/browser/token/", credentials)
    assert browser.json() == {} and browser.cookies[REFRESH].value
    assert Browser().post("/browser/token/", credentials, csrf=False).status_code == 403


# --- what cookie mode leaves alone ---------------------------------------------------------


def test_verify_and_sliding_views_are_untouched(cookie_settings: Any, admin: Any) -> None:
    browser = Browser()
    sliding = browser.post("/api/token/sliding/", {"username": "admin", "password": "admin"})
    assert sliding.status_code == 200 and set(sliding.json()) == {"token"}
    assert not sliding.cookies.get(REFRESH)
    verified = browser.post("/api/token/verify/", {"token": sliding.json()["token"]}, csrf=False)
    assert verified.status_code == 200 and verified.json() == {}


def test_csrf_token_view(cookie_settings: Any, admin: Any) -> None:
    client = APIClient(enforce_csrf_checks=True)
    response = client.get("/api/csrf/")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert response.cookies["csrftoken"].value
    # The token in the body (masked, for pages that cannot read the cookie) is accepted.
    token = response.json()["csrfToken"]
    login = client.post(
        "/api/token/",
        {"username": "admin", "password": "admin"},
        format="json",
        HTTP_X_CSRFTOKEN=token,
    )
    assert login.status_code == 200 and REFRESH in login.cookies
