"""The example's page (/app/) in headless Chromium, in cookie mode: it logs in, calls
/api/hello/, refreshes and logs out with fetch(..., {credentials: "include"}); JavaScript
never sees a token; an access-token expiry is ridden out; after logout the next call is
refused; forms posted to the refresh URL from other origins are refused."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import requests
from example_server import ExampleServer
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from .conftest import ACCESS_LIFETIME_S, AttackerSite

SCREENSHOT = Path(__file__).resolve().parents[4] / "target" / "browser" / "after-login.png"
TOKEN_COOKIES = ("keyfob_refresh", "keyfob_access")


def cookie_jar(driver: webdriver.Chrome) -> dict[str, dict[str, Any]]:
    """Every cookie the browser holds for the server, HttpOnly ones included (DevTools)."""
    found = driver.execute_cdp_cmd("Network.getAllCookies", {})["cookies"]
    return {c["name"]: c for c in found if c["domain"] == "127.0.0.1"}


def page_call(driver: webdriver.Chrome, call: str) -> dict[str, Any]:
    """Run ``keyfobApp.<call>`` in the page; its last request's entry."""
    entry: dict[str, Any] = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        f"keyfobApp.{call}.then(done, (e) => done({{error: String(e)}}));"
    )
    assert "error" not in entry, entry
    return entry


def page_requests(driver: webdriver.Chrome) -> list[dict[str, Any]]:
    """Every request the page made: method, path, status, body, document.cookie after it."""
    found: list[dict[str, Any]] = driver.execute_script("return keyfobApp.requests")
    return found


def document_cookie(driver: webdriver.Chrome) -> str:
    value: str = driver.execute_script("return document.cookie")
    return value


def log_in_on_the_page(driver: webdriver.Chrome, server: ExampleServer) -> None:
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.get(server.url + "/app/")
    driver.find_element(By.ID, "username").send_keys("admin")
    driver.find_element(By.ID, "password").send_keys("admin")
    driver.find_element(By.ID, "login-button").click()
    # The page logs in, then calls /api/hello/ and shows its message.
    WebDriverWait(driver, 30).until(
        lambda d: d.find_element(By.ID, "message").text == "Hello, World!"
    )


def test_the_page_logs_in_calls_refreshes_and_logs_out(
    browser: webdriver.Chrome, server: ExampleServer
) -> None:
    driver = browser
    log_in_on_the_page(driver, server)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOT))
    seen = [document_cookie(driver)]

    jar = cookie_jar(driver)
    refresh, access = jar["keyfob_refresh"], jar["keyfob_access"]
    for cookie in (refresh, access):
        assert cookie["httpOnly"] and cookie["secure"] and cookie["sameSite"] == "Lax"
    assert refresh["path"] == "/api/token/" and access["path"] == "/"
    assert driver.find_element(By.ID, "status").text == "Signed in as admin"
    token_values = {refresh["value"], access["value"]}
    login, hello = page_requests(driver)
    assert (login["path"], login["status"], login["body"]) == ("/api/token/", 200, {})
    assert (hello["status"], hello["body"]) == (200, {"message": "Hello, World!"})

    # The access token expires; the page's next call refreshes once and goes on.
    time.sleep(ACCESS_LIFETIME_S + 1)
    answer = page_call(driver, "hello()")
    assert answer["status"] == 200 and answer["body"] == {"message": "Hello, World!"}
    steps = [(e["method"], e["path"], e["status"]) for e in page_requests(driver)[-3:]]
    assert steps == [
        ("GET", "/api/hello/", 401),
        ("POST", "/api/token/refresh/", 200),
        ("GET", "/api/hello/", 200),
    ]
    rotated = cookie_jar(driver)["keyfob_refresh"]["value"]
    assert rotated != refresh["value"]
    seen.append(document_cookie(driver))

    # An explicit refresh: new cookies, no token in the body.
    renewed = page_call(driver, "refresh()")
    assert (renewed["status"], renewed["body"]) == (200, {})
    jar = cookie_jar(driver)
    token_values |= {rotated, jar["keyfob_refresh"]["value"], jar["keyfob_access"]["value"]}
    last_access = jar["keyfob_access"]["value"]
    seen.append(document_cookie(driver))

    # Logout: both cookies gone, and the page's next call is refused.
    logout = page_call(driver, "logout()")
    assert logout["status"] == 200
    assert not set(TOKEN_COOKIES) & set(cookie_jar(driver))
    after = page_call(driver, "hello()")
    assert after["status"] == 401
    assert driver.find_element(By.ID, "message").text == "Refused (401)"
    # The server ended the session: the last access token is refused even when replayed.
    replayed = requests.get(
        server.url + "/api/hello/", headers={"Authorization": f"Bearer {last_access}"}, timeout=10
    )
    assert replayed.status_code == 401 and "blacklisted" in replayed.text
    seen.append(document_cookie(driver))

    # JavaScript saw the CSRF cookie at every step, and never a token.
    seen += [entry["cookie"] for entry in page_requests(driver)]
    assert len(seen) > 10
    for cookie_string in seen:
        assert "csrftoken=" in cookie_string
        assert not any(name in cookie_string for name in TOKEN_COOKIES), cookie_string
        assert not any(value in cookie_string for value in token_values), cookie_string


def attack_page(target: str, field: str, value: str) -> str:
    """A page that posts a form to `target` as soon as it loads."""
    return (
        "<!doctype html><title>win a prize</title>"
        f'<form id="f" method="post" action="{target}">'
        f'<input name="{field}" value="{value}"></form>'
        '<script>document.getElementById("f").submit()</script>'
    )


def test_form_posts_from_other_origins_cannot_refresh(
    browser: webdriver.Chrome, server: ExampleServer, attacker: AttackerSite
) -> None:
    driver = browser
    log_in_on_the_page(driver, server)
    before = cookie_jar(driver)["keyfob_refresh"]["value"]
    target = server.url + "/api/token/refresh/"
    no_token = attacker.page("no-token.html", attack_page(target, "note", "hi"))
    forged = attacker.page("forged.html", attack_page(target, "csrfmiddlewaretoken", "x" * 64))
    cases = [
        # Another origin of the same site: the browser sends the cookies; CSRF refuses.
        ("127.0.0.1", no_token, 403),
        ("127.0.0.1", forged, 403),
        # Another site: SameSite=Lax keeps the cookies home, so there is nothing to refresh.
        ("localhost", no_token, 400),
    ]
    for host, page, status in cases:
        logged = len(server.log())
        driver.get(attacker.url(host, page))
        WebDriverWait(driver, 30).until(lambda d: d.current_url == target)
        # Chromium asks for HTML: DRF answers with its browsable page around the JSON.
        shown = driver.find_element(By.TAG_NAME, "body").text
        request_line = f'"POST /api/token/refresh/ HTTP/1.1" {status} '
        assert request_line in server.log()[logged:], (host, page, server.log()[logged:])
        if status == 403:
            assert '"code": "csrf_failed"' in shown
            assert "CSRF Failed: Origin checking failed" in shown
        else:
            assert '"refresh": [\n        "This field is required."' in shown
        # Nothing was refreshed: the browser's refresh cookie is the one it had.
        assert cookie_jar(driver)["keyfob_refresh"]["value"] == before
    # And the page itself still refreshes with it.
    driver.get(server.url + "/app/")
    assert page_call(driver, "refresh()")["status"] == 200
