"""The example project's flow (examples/django) through Django's test client and
through a real server process on a free loopback port; PyJWT interop both ways."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
import requests
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from .test_drop_in import tampered, token_not_valid

EXAMPLE = Path(django_settings.EXAMPLE)

# The body an altered token gets (simplejwt's, and keyfob's).
ARTICLE_TAMPERED = {
    "detail": "Given token not valid for any token type",
    "code": "token_not_valid",
    "messages": [
        {"token_class": "AccessToken", "token_type": "access", "message": "Token is invalid"}
    ],
}


def example_flow(post, get):
    """The example project's requests in order; `post(path, data)` / `get(path, access)` return
    (status, json). Returns the final tokens."""
    status, tokens = post("/api/token/", {"username": "admin", "password": "admin"})
    assert status == 200 and set(tokens) == {"refresh", "access"}

    assert get("/api/hello/", tokens["access"]) == (200, {"message": "Hello, World!"})
    assert get("/api/hello/", tampered(tokens["access"])) == (401, ARTICLE_TAMPERED)
    assert get("/api/hello/", None)[0] == 401

    status, refreshed = post("/api/token/refresh/", {"refresh": tokens["refresh"]})
    assert status == 200 and set(refreshed) == {"access", "refresh"}  # rotation: keyfob's default
    assert get("/api/hello/", refreshed["access"]) == (200, {"message": "Hello, World!"})
    assert post("/api/token/verify/", {"token": refreshed["access"]}) == (200, {})

    # Logout: the session ends, for its access token too.
    assert post("/api/token/blacklist/", {"refresh": refreshed["refresh"]}) == (200, {})
    assert get("/api/hello/", refreshed["access"]) == (401, token_not_valid("Token is blacklisted"))
    return refreshed


@pytest.mark.django_db
def test_example_flow_through_the_test_client(admin):
    client = APIClient()

    def post(path, data):
        response = client.post(path, data, format="json")
        return response.status_code, response.json()

    def get(path, access):
        extra = {} if access is None else {"HTTP_AUTHORIZATION": f"Bearer {access}"}
        response = client.get(path, **extra)
        return response.status_code, response.json()

    example_flow(post, get)


@pytest.mark.django_db
def test_keyfob_tokens_decode_with_pyjwt(kf, admin):
    tokens = kf.login()
    key = django_settings.SECRET_KEY
    access = jwt.decode(tokens["access"], key, algorithms=["HS256"])
    refresh = jwt.decode(tokens["refresh"], key, algorithms=["HS256"])
    assert access["token_type"] == "access" and refresh["token_type"] == "refresh"
    assert access["user_id"] == refresh["user_id"] == str(admin.id)
    assert access["sid"] == refresh["sid"]
    assert access["exp"] - access["iat"] == 300
    assert refresh["exp"] - refresh["iat"] == 86400
    assert jwt.get_unverified_header(tokens["access"]) == {"alg": "HS256", "typ": "JWT"}
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tokens["access"], key + "x", algorithms=["HS256"])


def pyjwt_access(user_id, key, **extra):
    now = int(time.time())
    claims = {
        "token_type": "access",
        "exp": now + 300,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": str(user_id),
    }
    return jwt.encode({**claims, **extra}, key, algorithm="HS256")


@pytest.mark.django_db
def test_pyjwt_tokens_need_accept_sessionless(settings, clock, kf, admin):
    token = pyjwt_access(admin.id, django_settings.SECRET_KEY)
    assert kf.hello(token).body == token_not_valid("Token is invalid")
    settings.KEYFOB = {"CLOCK": clock, "ACCEPT_SESSIONLESS_TOKENS": True}
    assert kf.hello(token).body == {"message": "Hello, World!"}
    assert kf.hello(pyjwt_access(admin.id, "a-different-secret-key-0123456789abcdef")).body == (
        token_not_valid("Token is invalid")
    )
    expired = pyjwt_access(admin.id, django_settings.SECRET_KEY, exp=int(time.time()) - 10)
    assert kf.hello(expired).body == token_not_valid("Token is expired")
    # Revoking the user also ends their sessionless tokens.
    from keyfob.drf.engine import get_engine

    clock.advance(1)
    get_engine().revoke_user(str(admin.id))
    assert kf.hello(token).body == token_not_valid("Token is blacklisted")


# --- a real server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_listening(url: str, server: subprocess.Popen) -> None:
    """Poll until the server answers HTTP (or has exited)."""
    for _ in range(600):
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            requests.get(url + "/api/hello/", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {url}")


def manage(project: Path, *args: str, env: dict) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=project, env=env, check=True, capture_output=True
    )


@pytest.fixture
def live_server_url(tmp_path):
    """examples/django copied to a temp dir, migrated, admin/admin created, served by
    runserver on a free loopback port; stopped after the test."""
    project = tmp_path / "django"
    shutil.copytree(EXAMPLE, project, ignore=shutil.ignore_patterns("db.sqlite3", "__pycache__"))
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "django_jwt.settings",
        "DJANGO_SECRET_KEY": "live-server-test-secret-key-0123456789abcdef",
        "DJANGO_SUPERUSER_USERNAME": "admin",
        "DJANGO_SUPERUSER_PASSWORD": "admin",
        "DJANGO_SUPERUSER_EMAIL": "admin@example.com",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("PYTHONPATH", None)
    manage(project, "migrate", "--noinput", env=env)
    manage(project, "createsuperuser", "--noinput", env=env)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_listening(url, server)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_example_flow_against_a_real_server(live_server_url):
    session = requests.Session()

    def post(path, data):
        response = session.post(live_server_url + path, json=data, timeout=10)
        return response.status_code, response.json()

    def get(path, access):
        headers = {} if access is None else {"Authorization": f"Bearer {access}"}
        response = session.get(live_server_url + path, headers=headers, timeout=10)
        if response.status_code == 401:
            assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
        return response.status_code, response.json()

    final = example_flow(post, get)
    # The server signs with DJANGO_SECRET_KEY: PyJWT checks its tokens with that key.
    claims = jwt.decode(
        final["access"], "live-server-test-secret-key-0123456789abcdef", algorithms=["HS256"]
    )
    assert claims["token_type"] == "access"
    # Bad credentials, as the example's users would see them.
    status, body = post("/api/token/", {"username": "admin", "password": "nope"})
    assert (status, body) == (401, {"detail": "No active account found with the given credentials"})
