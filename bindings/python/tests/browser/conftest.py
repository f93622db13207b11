"""A real browser against the example project in cookie mode: Debian's headless Chromium
driven by Selenium through Debian's chromedriver (scripts/test-browser.sh installs both), the
example under runserver with a 3-second access lifetime, and an attacker's site served from
another origin."""

from __future__ import annotations

import functools
import http.server
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from example_server import ExampleServer, prepare_database
from redis_server import free_port
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=900,760",
)
ACCESS_LIFETIME_S = 3


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    workdir = tmp_path_factory.mktemp("browser-server")
    running = ExampleServer(workdir, prepare_database(workdir))
    running.start(KEYFOB_COOKIE_MODE="1", KEYFOB_ACCESS_LIFETIME_S=str(ACCESS_LIFETIME_S))
    yield running
    running.stop()


class AttackerSite:
    """Static pages on another port: http://127.0.0.1:<port> is another origin of the same
    site as the server (ports do not make sites), http://localhost:<port> another site."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        handler = functools.partial(QuietHandler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def page(self, name: str, html: str) -> str:
        (self.root / name).write_text(html)
        return name

    def url(self, host: str, name: str) -> str:
        return f"http://{host}:{self.port}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="package")
def attacker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AttackerSite]:
    site = AttackerSite(tmp_path_factory.mktemp("attacker"))
    yield site
    site.close()


@pytest.fixture(scope="package")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(prefix="chromium-profile-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        # The driver's path is given, so Selenium looks for (and downloads) nothing.
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        driver.set_script_timeout(30)
        try:
            yield driver
        finally:
            driver.quit()
