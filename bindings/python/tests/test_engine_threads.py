"""One engine shared by many threads: every operation stays consistent (the engine is
`Send + Sync` in Rust; writes run with the GIL released, in-memory reads keep it)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import keyfob
import pytest
from engine_support import SECRET

WORKERS = 8
ROUNDS = 400


def test_threads_hammer_one_engine() -> None:
    engine = keyfob.Engine(SECRET)

    def one_user_session(i: int) -> str:
        user = f"user{i}"
        pair = engine.login(user, {"i": i})
        claims = engine.validate(pair.access)
        assert (
            claims["user_id"] == user and claims.get("i") == i and claims["sid"] == pair.session_id
        )
        assert pair.refresh is not None
        new = engine.refresh(pair.refresh)
        assert new.session_id == pair.session_id
        assert engine.validate(new.access).get("i") == i
        assert new.refresh is not None
        if i % 2:
            engine.revoke(new.refresh)  # logout
        else:
            with pytest.raises(keyfob.ReuseDetectedError):
                engine.refresh(pair.refresh)  # replay of the rotated token
        with pytest.raises(keyfob.RevokedError):
            engine.validate(new.access)
        return pair.session_id

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        sessions = list(pool.map(one_user_session, range(ROUNDS)))

    assert len(set(sessions)) == ROUNDS
    stats = engine.stats()
    assert stats["sessions"] == ROUNDS
    assert stats["revoked_sessions"] == ROUNDS


def test_concurrent_refreshes_of_one_token_converge_within_the_grace() -> None:
    engine = keyfob.Engine(SECRET, reuse_grace_s=60)
    pair = engine.login("u")
    assert pair.refresh is not None
    refresh = pair.refresh
    start = threading.Barrier(WORKERS)

    def refresh_once(_: int) -> str | None:
        start.wait()
        return engine.refresh(refresh).refresh

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        results = list(pool.map(refresh_once, range(WORKERS)))

    # One rotation happened; every caller got the same successor.
    assert len(set(results)) == 1 and results[0] != refresh
    assert results[0] is not None
    engine.refresh(results[0])


def test_concurrent_refreshes_without_grace_let_exactly_one_win() -> None:
    engine = keyfob.Engine(SECRET)
    pair = engine.login("u")
    assert pair.refresh is not None
    refresh = pair.refresh
    start = threading.Barrier(WORKERS)

    def refresh_once(_: int) -> str:
        start.wait()
        try:
            engine.refresh(refresh)
            return "rotated"
        except keyfob.KeyfobError as e:
            return e.name

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        outcomes = list(pool.map(refresh_once, range(WORKERS)))

    assert outcomes.count("rotated") == 1
    # The losers are replays: the first revokes the session, the rest find it revoked.
    assert set(outcomes) - {"rotated"} <= {"reuse_detected", "revoked"}
    assert "reuse_detected" in outcomes
    with pytest.raises(keyfob.RevokedError):
        engine.validate(pair.access)


def test_threads_share_a_manual_clock() -> None:
    clock = keyfob.ManualClock(1_000)
    engine = keyfob.Engine(SECRET, clock=clock)

    def tick(_: int) -> None:
        for _ in range(100):
            clock.advance(1)
            engine.now()

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(tick, range(WORKERS)))
    assert engine.now() == 1_000 + WORKERS * 100
