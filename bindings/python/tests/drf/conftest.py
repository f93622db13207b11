"""Fixtures for keyfob.drf's tests: the user admin/admin, a ManualClock in the engine, and
``Flavor``s that send the same requests to simplejwt (``/sj/api/``) and keyfob (``/kf/api/``)."""

# ruff: noqa: E402  (Django must be set up before DRF's test module is imported)
from __future__ import annotations

import os

import django

# pytest-django finds no settings module when the whole suite starts from tests/ (whose
# conftest stays free of Django), so the DRF tests name theirs and set Django up here.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_project.settings")
django.setup()

import base64
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import keyfob
import pytest
from keyfob.drf.engine import reset_engine
from rest_framework.test import APIClient

JWT_TEXT = re.compile(rb'"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"')
JWT_VALUE = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(text: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def mask(value: Any) -> Any:
    """The value with every token replaced by "<jwt>" (tokens differ; their place must not)."""
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v) for v in value]
    if isinstance(value, str) and JWT_VALUE.match(value):
        return "<jwt>"
    return value


@dataclass
class Reply:
    status: int
    raw: bytes
    headers: dict[str, str | None]

    @property
    def data(self) -> Any:
        return json.loads(self.raw) if self.raw else None

    @property
    def body(self) -> Any:
        return mask(self.data)

    @property
    def www_authenticate(self) -> str | None:
        return self.headers["WWW-Authenticate"]

    def shape(self) -> tuple[int, bytes, dict[str, str | None]]:
        """What must be identical between simplejwt and keyfob: status, the exact body bytes
        (tokens masked) and the headers a client sees."""
        return self.status, JWT_TEXT.sub(b'"<jwt>"', self.raw), self.headers


class Flavor:
    """One token implementation behind its URL prefix, driven through Django's test client."""

    def __init__(self, name: str, client: APIClient, clock: keyfob.ManualClock) -> None:
        self.name = name
        self.prefix = f"/{name}/api/"
        self.client = client
        self.clock = clock

    def _reply(self, response: Any) -> Reply:
        headers = {
            h: response.headers.get(h)
            for h in ("WWW-Authenticate", "Content-Type", "Allow", "Vary")
        }
        return Reply(response.status_code, response.content, headers)

    def post(self, path: str, data: Any = None) -> Reply:
        return self._reply(self.client.post(self.prefix + path, data, format="json"))

    def get(self, path: str, authorization: str | None = None) -> Reply:
        extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
        return self._reply(self.client.get(self.prefix + path, **extra))

    def obtain(self, username: str = "admin", password: str = "admin") -> Reply:
        return self.post("token/", {"username": username, "password": password})

    def login(self) -> dict[str, str]:
        reply = self.obtain()
        assert reply.status == 200, reply.raw
        return reply.data

    def hello(self, access: str | None = None, authorization: str | None = None) -> Reply:
        if access is not None:
            authorization = f"Bearer {access}"
        return self.get("hello/", authorization)

    def refresh(self, refresh: str) -> Reply:
        return self.post("token/refresh/", {"refresh": refresh})

    def verify(self, token: str) -> Reply:
        return self.post("token/verify/", {"token": token})

    def blacklist(self, refresh: str) -> Reply:
        return self.post("token/blacklist/", {"refresh": refresh})

    def expired(self, kind: str) -> str:
        """An expired token of `kind` ("access" or "refresh") for admin."""
        if self.name == "kf":
            tokens = self.login()
            lifetime = 300 if kind == "access" else 86400
            self.clock.advance(lifetime + 1)
            return tokens[kind]
        from django.contrib.auth import get_user_model
        from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

        cls = AccessToken if kind == "access" else RefreshToken
        token = cls.for_user(get_user_model().objects.get(username="admin"))
        token.set_exp(lifetime=timedelta(seconds=-1))
        return str(token)


@pytest.fixture(autouse=True)
def clock(settings: Any) -> keyfob.ManualClock:
    """keyfob's engine on a ManualClock set to now, fresh (no sessions) for every test."""
    manual = keyfob.ManualClock(int(time.time()))
    settings.KEYFOB = {"CLOCK": manual}
    yield manual
    reset_engine()


@pytest.fixture
def admin(django_user_model: Any) -> Any:
    return django_user_model.objects.create_user(username="admin", password="admin")


@pytest.fixture
def sj(admin: Any, clock: keyfob.ManualClock) -> Flavor:
    return Flavor("sj", APIClient(), clock)


@pytest.fixture
def kf(admin: Any, clock: keyfob.ManualClock) -> Flavor:
    return Flavor("kf", APIClient(), clock)


@pytest.fixture
def both(sj: Flavor, kf: Flavor) -> Callable[[Callable[[Flavor], Reply]], Reply]:
    """Run one scenario against simplejwt and keyfob; they must answer identically.
    Returns keyfob's reply for the test to pin."""

    def run(scenario: Callable[[Flavor], Reply]) -> Reply:
        expected = scenario(sj)
        got = scenario(kf)
        assert got.shape() == expected.shape(), (
            f"simplejwt: {expected.shape()}\nkeyfob: {got.shape()}"
        )
        return got

    return run
