"""The example's admin in headless Chromium: an administrator logs in, finds the two sessions
two API logins made (each with its own user agent), ends one, and the API then refuses that
session's access token while the other keeps working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from example_server import ExampleServer, prepare_database
from selenium import webdriver
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

SCREENSHOTS = Path(__file__).resolve().parents[4] / "target" / "browser"
LAPTOP = "keyfob-browser-test Laptop/1.0 (X11; Linux x86_64)"
PHONE = "keyfob-browser-test Phone/2.0 (Android 14)"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    workdir = tmp_path_factory.mktemp("admin-server")
    running = ExampleServer(workdir, prepare_database(workdir, superuser=True))
    # DEBUG on: runserver then serves the admin's stylesheets, for a faithful screenshot.
    running.start(DJANGO_DEBUG="1")
    yield running
    running.stop()


def api_login(server: ExampleServer, user_agent: str) -> dict[str, str]:
    reply = requests.post(
        server.url + "/api/token/",
        json={"username": "admin", "password": "admin"},
        headers={"User-Agent": user_agent},
        timeout=30,
    )
    assert reply.status_code == 200, reply.text
    tokens: dict[str, str] = reply.json()
    return tokens


def api_get(server: ExampleServer, path: str, tokens: dict[str, str]) -> requests.Response:
    return requests.get(
        server.url + path, headers={"Authorization": f"Bearer {tokens['access']}"}, timeout=30
    )


def across_pages(driver: webdriver.Chrome) -> WebDriverWait[webdriver.Chrome]:
    """A wait that spans a form post and the page after it: an element found on the page
    being left goes stale (or is not there yet) until the next page has loaded."""
    return WebDriverWait(
        driver, 30, ignored_exceptions=(NoSuchElementException, StaleElementReferenceException)
    )


def session_rows(driver: webdriver.Chrome) -> dict[str, str]:
    """The sessions the page lists: device text -> session id."""
    rows = driver.find_elements(By.CSS_SELECTOR, "tr.keyfob-session")
    return {
        row.find_element(By.CSS_SELECTOR, "td.device").text: str(
            row.get_attribute("data-session-id")
        )
        for row in rows
    }


def test_an_admin_ends_one_of_two_sessions_and_the_api_refuses_its_token(
    browser: webdriver.Chrome, server: ExampleServer
) -> None:
    laptop, phone = api_login(server, LAPTOP), api_login(server, PHONE)
    driver = browser
    driver.execute_cdp_cmd("Network.clearBrowserCookies", {})
    driver.get(server.url + "/admin/login/?next=/admin/auth/user/")
    driver.find_element(By.ID, "id_username").send_keys("admin")
    driver.find_element(By.ID, "id_password").send_keys("admin")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    # The user list links each user to their sessions, with how many are live.
    link = across_pages(driver).until(lambda d: d.find_element(By.PARTIAL_LINK_TEXT, "2 sessions"))
    link.click()
    across_pages(driver).until(lambda d: len(session_rows(d)) == 2)
    rows = session_rows(driver)
    assert set(rows) == {LAPTOP, PHONE}
    page = driver.find_element(By.ID, "keyfob-sessions").text
    assert page.count("127.0.0.1") == 2  # both logins came from this machine
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert driver.save_screenshot(str(SCREENSHOTS / "admin-sessions.png"))

    # End the phone's session with its row's button.
    phone_row = driver.find_element(
        By.CSS_SELECTOR, f'tr.keyfob-session[data-session-id="{rows[PHONE]}"]'
    )
    phone_row.find_element(By.CSS_SELECTOR, "input.end-session").click()
    across_pages(driver).until(
        lambda d: "Ended the session." in d.find_element(By.TAG_NAME, "body").text
    )
    assert set(session_rows(driver)) == {LAPTOP}
    assert driver.save_screenshot(str(SCREENSHOTS / "admin-sessions-after-ending-one.png"))

    # The API refuses the ended session's access token on the next request, not later.
    refused = api_get(server, "/api/hello/", phone)
    assert refused.status_code == 401 and "blacklisted" in refused.text
    assert api_get(server, "/api/hello/", laptop).status_code == 200
    listed = api_get(server, "/api/sessions/", laptop).json()
    assert [(s["user_agent"], s["current"]) for s in listed] == [(LAPTOP, True)]
