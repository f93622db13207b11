"""keyfob.drf: ``KEYFOB["STORE"]`` selects the shared Redis store, and a store
that cannot be reached turns every endpoint into a 503 with a JSON body: a token that could
not be checked is never accepted, and never answered with a 401 that would log the user out.
(The multi-process behaviour, under gunicorn, is in tests/redis_store/.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import keyfob
import pytest
from django.conf import settings as django_settings
from keyfob.drf.engine import engine_config, reset_engine
from redis_server import RedisServer, free_port

from .conftest import Flavor

pytestmark = pytest.mark.django_db

STORE_UNAVAILABLE = {
    "detail": "Session store unavailable, try again later.",
    "code": "store_unavailable",
}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = RedisServer(tmp_path_factory.mktemp("redis"), appendonly=False)
    server.start()
    yield server.url
    server.close()


def tokens_from_another_process(clock: keyfob.ManualClock) -> dict[str, str]:
    """Well-signed tokens whose sessions live in some other engine's store: checking them
    needs the store."""
    other = keyfob.Engine(django_settings.SECRET_KEY, clock=clock)
    pair = other.login("1")
    return {
        "access": pair.access,
        "refresh": pair.refresh,
        "sliding": other.login_sliding("1").token,
    }


def test_every_endpoint_answers_503_when_the_store_is_unreachable(settings, clock, kf: Flavor):
    nothing_listens = f"redis://127.0.0.1:{free_port()}/0"
    settings.KEYFOB = {
        "CLOCK": clock,
        "STORE": nothing_listens,
        "ENGINE_OPTIONS": {"store_timeout_ms": 100},
    }
    tokens = tokens_from_another_process(clock)
    replies = {
        "obtain pair": kf.obtain(),
        "obtain sliding": kf.post("token/sliding/", {"username": "admin", "password": "admin"}),
        "refresh": kf.refresh(tokens["refresh"]),
        "refresh sliding": kf.post("token/sliding/refresh/", {"token": tokens["sliding"]}),
        "verify access": kf.verify(tokens["access"]),
        "verify refresh": kf.verify(tokens["refresh"]),
        "blacklist": kf.blacklist(tokens["refresh"]),
        "hello (JWTAuthentication)": kf.hello(tokens["access"]),
        "who (JWTStatelessUserAuthentication)": kf.get("who/", f"Bearer {tokens['access']}"),
    }
    for name, reply in replies.items():
        assert (reply.status, reply.data) == (503, STORE_UNAVAILABLE), name
        assert reply.headers["Content-Type"] == "application/json", name
        # A 503, not a 401: no WWW-Authenticate challenge, the client keeps its tokens.
        assert reply.www_authenticate is None, name


def test_a_bad_token_is_still_a_401_when_the_store_is_unreachable(settings, clock, kf: Flavor):
    """The signature is checked before the store is asked: forgeries are refused as before."""
    settings.KEYFOB = {"CLOCK": clock, "STORE": f"redis://127.0.0.1:{free_port()}/0"}
    forged = keyfob.Engine("another-key-0123456789-0123456789-0123", clock=clock).login("1")
    reply = kf.hello(forged.access)
    assert reply.status == 401
    assert reply.data["code"] == "token_not_valid"


def test_store_setting_selects_redis(settings, clock, kf: Flavor, admin, redis_url: str):
    prefix = f"keyfob-drf-test:{uuid.uuid4().hex}:"
    settings.KEYFOB = {
        "CLOCK": clock,
        "STORE": redis_url,
        "ENGINE_OPTIONS": {"store_prefix": prefix, "store_timeout_ms": 500},
    }
    config = engine_config()
    assert (config["store"], config["store_prefix"], config["store_timeout_ms"]) == (
        redis_url,
        prefix,
        500,
    )
    tokens = kf.login()

    # Another process (an engine of its own on the same Redis and prefix) sees the session.
    other = keyfob.Engine(
        django_settings.SECRET_KEY, clock=clock, store=redis_url, store_prefix=prefix
    )
    assert other.validate(tokens["access"])["user_id"] == str(admin.pk)

    # This process's engine rebuilt (as after a worker restart): the session is still there.
    reset_engine()
    assert kf.hello(tokens["access"]).status == 200

    # A logout in the other process is seen here at once.
    other.revoke(tokens["refresh"])
    assert kf.hello(tokens["access"]).status == 401


def test_memory_store_is_the_default_and_per_process(settings, clock, kf: Flavor):
    settings.KEYFOB = {"CLOCK": clock}
    assert engine_config()["store"] == "memory"
    tokens = kf.login()
    reset_engine()  # a new process: the memory store starts empty
    assert kf.hello(tokens["access"]).status == 401
