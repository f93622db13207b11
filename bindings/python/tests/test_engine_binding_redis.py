"""Client binding on the Redis store: the binding lives in the session in Redis, and proof ids are
recorded there too, so a proof replayed to another worker is refused."""

from __future__ import annotations

import keyfob
import pytest
from dpop_support import DpopKey
from test_engine_redis import prefix, redis_url, shared

__all__ = ["prefix", "redis_url"]  # fixtures, imported for this module's tests

REFRESH_URL = "https://api.example.com/api/token/refresh/"
HELLO_URL = "https://api.example.com/api/hello/"


def test_a_proof_replayed_to_another_worker_is_refused(redis_url: str, prefix: str) -> None:
    worker_a, worker_b = shared(redis_url, prefix), shared(redis_url, prefix)
    key = DpopKey()
    login = keyfob.DpopRequest(
        key.proof("POST", "https://api.example.com/api/token/"),
        "POST",
        "https://api.example.com/api/token/",
    )
    pair = worker_a.login("alice", dpop=login)
    assert pair.refresh is not None
    overheard = keyfob.DpopRequest(key.proof("POST", REFRESH_URL), "POST", REFRESH_URL)
    renewed = worker_b.refresh(pair.refresh, dpop=overheard)
    assert renewed.refresh is not None
    # Worker A never saw this proof; the store did.
    with pytest.raises(keyfob.DpopReplayedError):
        worker_a.refresh(renewed.refresh, dpop=overheard)
    # The binding is the session's, whichever worker checks it.
    with pytest.raises(keyfob.DpopInvalidError):
        worker_a.validate(renewed.access)
    with pytest.raises(keyfob.DpopInvalidError):
        worker_a.refresh(
            renewed.refresh,
            dpop=keyfob.DpopRequest(DpopKey().proof("POST", REFRESH_URL), "POST", REFRESH_URL),
        )
    resource = keyfob.DpopRequest(
        key.proof("GET", HELLO_URL, access=renewed.access), "GET", HELLO_URL
    )
    assert worker_a.validate(renewed.access, dpop=resource)["cnf"] == {"jkt": key.thumbprint}


def test_a_client_mismatch_on_one_worker_ends_the_session_everywhere(
    redis_url: str, prefix: str
) -> None:
    worker_a, worker_b = shared(redis_url, prefix), shared(redis_url, prefix)
    pair = worker_a.login("bob", client_id="device-1")
    assert pair.refresh is not None
    with pytest.raises(keyfob.ClientMismatchError):
        worker_b.refresh(pair.refresh, client_id="device-2")
    with pytest.raises(keyfob.RevokedError):
        worker_a.refresh(pair.refresh, client_id="device-1")
