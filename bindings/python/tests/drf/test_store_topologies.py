"""``KEYFOB["STORE"]`` on Redis over mutual TLS, through Sentinel and on a Cluster: the TLS
files and the other store settings go through ``ENGINE_OPTIONS`` as ``keyfob.Engine``
keywords, and a TLS server whose certificate the configured CA did not sign turns every
endpoint into a 503. The servers are the ones ``scripts/test-redis.sh`` starts (through
``scripts/test-python.sh``), named by its ``KEYFOB_TEST_REDIS_*`` variables."""

from __future__ import annotations

import os
import uuid

import pytest

from .conftest import Flavor

pytestmark = pytest.mark.django_db


def env(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        pytest.fail(f"{name} is not set: run these tests with scripts/test-python.sh")
    return value


def tls_options() -> dict[str, object]:
    return {
        "store_prefix": f"keyfob-drf-test:{uuid.uuid4().hex}:",
        "store_timeout_ms": 5000,
        "store_tls_ca": env("KEYFOB_TEST_REDIS_TLS_CA"),
        "store_tls_cert": env("KEYFOB_TEST_REDIS_TLS_CERT"),
        "store_tls_key": env("KEYFOB_TEST_REDIS_TLS_KEY"),
    }


def test_login_and_requests_over_mutual_tls(settings, clock, kf: Flavor, admin):
    settings.KEYFOB = {
        "CLOCK": clock,
        "STORE": env("KEYFOB_TEST_REDIS_TLS_URL"),
        "ENGINE_OPTIONS": tls_options(),
    }
    tokens = kf.login()
    assert kf.hello(tokens["access"]).status == 200
    assert kf.refresh(tokens["refresh"]).status == 200


def test_a_certificate_from_another_ca_answers_503(settings, clock, kf: Flavor, admin):
    options = tls_options() | {"store_tls_ca": env("KEYFOB_TEST_REDIS_TLS_OTHER_CA")}
    settings.KEYFOB = {
        "CLOCK": clock,
        "STORE": env("KEYFOB_TEST_REDIS_TLS_URL"),
        "ENGINE_OPTIONS": options,
    }
    reply = kf.obtain()
    assert (reply.status, reply.data["code"]) == (503, "store_unavailable")


@pytest.mark.parametrize(
    "url_var", ["KEYFOB_TEST_REDIS_SENTINEL_URL", "KEYFOB_TEST_REDIS_CLUSTER_URL"]
)
def test_login_and_revocation_through_sentinel_and_cluster(
    settings, clock, kf: Flavor, admin, url_var: str
):
    settings.KEYFOB = {
        "CLOCK": clock,
        "STORE": env(url_var),
        "ENGINE_OPTIONS": {"store_prefix": f"keyfob-drf-test:{uuid.uuid4().hex}:"},
    }
    tokens = kf.login()
    assert kf.hello(tokens["access"]).status == 200
    assert kf.blacklist(tokens["refresh"]).status == 200
    assert kf.hello(tokens["access"]).status == 401
