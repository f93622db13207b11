"""The shared store from Python: engines in different processes (gunicorn workers) that
name one Redis see each other's logins, rotations and revocations at once.

Redis comes from ``KEYFOB_TEST_REDIS_URL`` (``scripts/test-redis.sh`` sets it) or, when
that is unset, from a throwaway ``redis-server`` this module starts on a free loopback port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyfob
import pytest
from engine_support import SECRET


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    url = os.environ.get("KEYFOB_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = shutil.which("redis-server")
    assert server, "redis-server is needed (scripts/test-python.sh installs it)"
    port = free_port()
    with tempfile.TemporaryDirectory() as workdir:
        args = [server, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--dir", workdir]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            for _ in range(100):  # up to 10 s for the server to listen
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                    break
                except OSError:
                    assert proc.poll() is None, "redis-server exited"
                    time.sleep(0.1)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses, so tests never see each other's sessions."""
    return f"keyfob-py-test:{uuid.uuid4().hex}:"


def shared(redis_url: str, prefix: str, **config: object) -> keyfob.Engine:
    return keyfob.Engine(SECRET, store=redis_url, store_prefix=prefix, **config)  # type: ignore[arg-type]


def test_two_engines_on_one_redis_share_sessions(redis_url: str, prefix: str) -> None:
    worker_a, worker_b = shared(redis_url, prefix), shared(redis_url, prefix)
    pair = worker_a.login("alice", {"role": "admin"})
    assert worker_b.validate(pair.access).get("role") == "admin"
    assert pair.refresh is not None
    rotated = worker_b.refresh(pair.refresh)
    with pytest.raises(keyfob.ReuseDetectedError):
        worker_a.refresh(pair.refresh)  # the replay is seen by the other worker
    with pytest.raises(keyfob.RevokedError):
        worker_b.validate(rotated.access)


def test_logout_on_one_engine_is_seen_by_the_other(redis_url: str, prefix: str) -> None:
    worker_a, worker_b = shared(redis_url, prefix), shared(redis_url, prefix)
    pairs = [worker_a.login("bob") for _ in range(3)]
    worker_b.revoke(pairs[0].access)
    with pytest.raises(keyfob.RevokedError):
        worker_a.validate(pairs[0].access)
    assert worker_b.revoke_user("bob") == 2
    for pair in pairs[1:]:
        with pytest.raises(keyfob.RevokedError):
            worker_a.validate(pair.access)


def test_the_near_cache_is_set_by_keywords(redis_url: str, prefix: str) -> None:
    cached = shared(redis_url, prefix, near_cache=True, near_cache_size=10)
    direct = shared(redis_url, prefix, near_cache=False)
    pair = cached.login("dana")
    for _ in range(3):
        assert cached.validate(pair.access)["user_id"] == "dana"
    direct.revoke(pair.access)
    # Refused by the caching engine as soon as Redis has told it (polled, generously bounded).
    deadline = time.monotonic() + 20
    while True:
        try:
            cached.validate(pair.access)
        except keyfob.RevokedError:
            break
        assert time.monotonic() < deadline, "the revocation never reached the cache"
        time.sleep(0.005)
    with pytest.raises(keyfob.ConfigError, match="near_cache_size"):
        shared(redis_url, prefix, near_cache_size=0)


def test_another_prefix_is_another_store(redis_url: str, prefix: str) -> None:
    pair = shared(redis_url, prefix).login("carol")
    with pytest.raises(keyfob.SessionUnknownError):
        shared(redis_url, prefix + "other:").validate(pair.access)


def test_another_process_sees_the_session(redis_url: str, prefix: str) -> None:
    engine = shared(redis_url, prefix)
    pair = engine.login(7)
    child = f"""
import keyfob, sys
engine = keyfob.Engine({SECRET!r}, store={redis_url!r}, store_prefix={prefix!r})
print(engine.validate(sys.argv[1])["user_id"])
engine.revoke_session({pair.session_id!r})
"""
    out = subprocess.run(
        [sys.executable, "-c", child, pair.access],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).parent,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "7"
    with pytest.raises(keyfob.RevokedError):
        engine.validate(pair.access)


def test_an_unreachable_redis_fails_closed() -> None:
    engine = keyfob.Engine(
        SECRET, store=f"redis://:hunter2@127.0.0.1:{free_port()}/0", store_timeout_ms=200
    )
    with pytest.raises(keyfob.StoreUnavailableError) as caught:
        engine.login("dave")
    assert caught.value.code == 19
    assert "hunter2" not in str(caught.value)
