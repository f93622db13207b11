"""Session management from Python, on the memory store, on Redis and on a Redis Cluster
(``scripts/test-redis.sh`` starts it and names it in ``KEYFOB_TEST_REDIS_CLUSTER_URL``,
where a user's sessions are listed and ended in steps across slots): metadata kept with a
session, listing a user's sessions, ending all but one, the per-user cap, claims changed
mid-session, the event handler (exceptions logged, never raised) and metrics."""

from __future__ import annotations

import logging
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyfob
import pytest
from engine_support import SECRET, START
from redis_server import RedisServer


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    url = os.environ.get("KEYFOB_TEST_REDIS_URL")
    if url:
        yield url
        return
    with tempfile.TemporaryDirectory() as workdir:
        server = RedisServer(Path(workdir), appendonly=False)
        server.start()
        try:
            yield server.url
        finally:
            server.close()


@pytest.fixture(params=["memory", "redis", "cluster"])
def store(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The store keywords of an engine: in memory, or on Redis (one server or a Cluster)
    under a prefix of its own."""
    if request.param == "memory":
        return {}
    prefix = f"keyfob-py-test:{uuid.uuid4().hex}:"
    if request.param == "cluster":
        cluster = os.environ.get("KEYFOB_TEST_REDIS_CLUSTER_URL")
        if not cluster:
            pytest.fail("KEYFOB_TEST_REDIS_CLUSTER_URL is not set: run scripts/test-redis.sh")
        return {"store": cluster, "store_prefix": prefix, "store_timeout_ms": 5000}
    url: str = request.getfixturevalue("redis_url")
    return {"store": url, "store_prefix": prefix}


def make(store: dict[str, Any], clock: keyfob.ManualClock, **config: Any) -> keyfob.Engine:
    return keyfob.Engine(SECRET, clock=clock, **store, **config)


def test_login_metadata_is_listed_newest_first(
    store: dict[str, Any], manual_clock: keyfob.ManualClock
) -> None:
    engine = make(store, manual_clock)
    first = engine.login(
        42,
        label="Firefox on macOS",
        ip="203.0.113.7",
        user_agent="Mozilla/5.0",
        data={"device": "laptop", "seen": [1, 2]},
    )
    manual_clock.advance(10)
    second = engine.login(42, ip="2001:db8::1")
    engine.login(7)
    sessions = engine.sessions(42)
    assert [s["session_id"] for s in sessions] == [second.session_id, first.session_id]
    old = sessions[1]
    assert old == {
        "session_id": first.session_id,
        "user_id": "42",
        "created_at": START,
        "last_seen": START,
        "idle_deadline": START + 1800,
        "absolute_deadline": START + 43200,
        "label": "Firefox on macOS",
        "ip": "203.0.113.7",
        "user_agent": "Mozilla/5.0",
        "data": {"device": "laptop", "seen": [1, 2]},
        "claims": {},
    }
    assert sessions[0]["label"] is None and sessions[0]["ip"] == "2001:db8::1"
    # Activity moves last_seen.
    manual_clock.advance(5)
    engine.validate(first.access)
    info = engine.session(first.session_id)
    assert info is not None and info["last_seen"] == START + 15
    # Ended sessions are gone from both.
    engine.revoke_session(second.session_id)
    assert [s["session_id"] for s in engine.sessions("42")] == [first.session_id]
    assert engine.session(second.session_id) is None
    assert engine.sessions("nobody") == []


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"label": "x" * 257}, "label"),
        ({"user_agent": "y" * 300}, "user_agent"),
        ({"ip": "not-an-ip"}, "ip"),
        ({"data": {"blob": "z" * 5000}}, "data"),
    ],
)
def test_metadata_out_of_bounds_is_a_value_error(
    engine: keyfob.Engine, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(keyfob.InvalidArgumentError, match=message) as caught:
        engine.login("u", **kwargs)
    assert isinstance(caught.value, ValueError)
    assert engine.sessions("u") == []


def test_metadata_of_the_wrong_type_is_a_type_error(engine: keyfob.Engine) -> None:
    with pytest.raises(TypeError, match="data"):
        engine.login("u", data=["not", "a", "dict"])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="label"):
        engine.login("u", label=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="data"):
        engine.login("u", data={"k": object()})
    with pytest.raises(keyfob.InvalidArgumentError):
        engine.session("not-a-session-id")


def test_revoke_user_keeps_one_session(
    store: dict[str, Any], manual_clock: keyfob.ManualClock
) -> None:
    engine = make(store, manual_clock)
    here, phone, tablet = (engine.login("alice") for _ in range(3))
    assert engine.revoke_user("alice", keep=here.session_id) == 2
    engine.validate(here.access)
    for pair in (phone, tablet):
        with pytest.raises(keyfob.RevokedError):
            engine.validate(pair.access)
    assert [s["session_id"] for s in engine.sessions("alice")] == [here.session_id]
    assert engine.revoke_user("alice") == 1


def test_the_cap_ends_the_oldest_session(
    store: dict[str, Any], manual_clock: keyfob.ManualClock
) -> None:
    events: list[keyfob.Event] = []
    engine = make(store, manual_clock, max_sessions_per_user=2, on_event=events.append)
    first = engine.login("bob")
    manual_clock.advance(1)
    second = engine.login("bob")
    manual_clock.advance(1)
    events.clear()
    third = engine.login("bob")
    with pytest.raises(keyfob.RevokedError):
        engine.validate(first.access)
    engine.validate(second.access)
    engine.validate(third.access)
    assert [(e["kind"], e["reason"], e["session_id"]) for e in events] == [
        ("login", None, third.session_id),
        ("session_revoked", "cap", first.session_id),
    ]
    with pytest.raises(keyfob.ConfigError, match="max_sessions_per_user"):
        keyfob.Engine(SECRET, max_sessions_per_user=0)
    with pytest.raises(TypeError):
        keyfob.Engine(SECRET, max_sessions_per_user="2")  # type: ignore[arg-type]


def test_a_removed_role_is_gone_on_the_next_refresh(
    store: dict[str, Any], manual_clock: keyfob.ManualClock
) -> None:
    engine = make(store, manual_clock)
    pair = engine.login("carol", {"role": "admin", "team": "blue"})
    engine.update_session(pair.session_id, {"role": None, "plan": "pro"})
    # Without the option, the token minted before still says what it said.
    assert engine.validate(pair.access).get("role") == "admin"
    assert pair.refresh is not None
    renewed = engine.refresh(pair.refresh)
    claims = engine.validate(renewed.access)
    assert "role" not in claims
    assert (claims.get("team"), claims.get("plan")) == ("blue", "pro")
    info = engine.session(pair.session_id)
    assert info is not None and info["claims"] == {"team": "blue", "plan": "pro"}


def test_a_removed_role_is_gone_at_once_with_the_option(
    store: dict[str, Any], manual_clock: keyfob.ManualClock
) -> None:
    engine = make(store, manual_clock, session_claims_on_validate=True)
    pair = engine.login("carol", {"role": "admin"})
    assert engine.validate(pair.access).get("role") == "admin"
    engine.update_session(pair.session_id, {"role": None})
    claims = engine.validate(pair.access)
    assert "role" not in claims
    assert claims["user_id"] == "carol" and claims["sid"] == pair.session_id


def test_update_session_refuses_what_it_cannot_do(engine: keyfob.Engine) -> None:
    pair = engine.login("dave")
    with pytest.raises(keyfob.SessionUnknownError):
        engine.update_session("0123456789abcdef0123456789abcdef", {"a": 1})
    with pytest.raises(keyfob.InvalidArgumentError, match="reserved"):
        engine.update_session(pair.session_id, {"user_id": "mallory"})
    with pytest.raises(keyfob.InvalidArgumentError):
        engine.update_session(pair.session_id, {"blob": "x" * 5000})
    with pytest.raises(TypeError):
        engine.update_session(pair.session_id, ["a"])  # type: ignore[arg-type]
    engine.revoke_session(pair.session_id)
    with pytest.raises(keyfob.RevokedError):
        engine.update_session(pair.session_id, {"a": 1})


def test_events_carry_the_session_and_its_metadata(
    store: dict[str, Any], manual_clock: keyfob.ManualClock
) -> None:
    events: list[keyfob.Event] = []
    engine = make(store, manual_clock)
    engine.set_event_handler(events.append)
    pair = engine.login("erin", label="phone", ip="198.51.100.2", user_agent="app/1")
    assert events == [
        {
            "kind": "login",
            "session_id": pair.session_id,
            "user_id": "erin",
            "reason": None,
            "at": START,
            "label": "phone",
            "ip": "198.51.100.2",
            "user_agent": "app/1",
        }
    ]
    events.clear()
    assert pair.refresh is not None
    engine.refresh(pair.refresh)
    with pytest.raises(keyfob.ReuseDetectedError):
        engine.refresh(pair.refresh)
    assert [(e["kind"], e["reason"]) for e in events] == [
        ("refresh", None),
        ("reuse_detected", None),
        ("session_revoked", "reuse"),
    ]
    events.clear()
    a, b = engine.login("erin"), engine.login("erin")
    events.clear()
    engine.revoke(a.access)
    engine.revoke_session(b.session_id)
    c = engine.login("erin")
    engine.revoke_user("erin")
    assert [(e["kind"], e["reason"]) for e in events] == [
        ("session_revoked", "logout"),
        ("session_revoked", "admin"),
        ("login", None),
        ("session_revoked", "revoke_user"),
    ]
    assert events[-1]["session_id"] == c.session_id
    events.clear()
    idle = engine.login("frank")
    manual_clock.advance(1800)
    assert idle.refresh is not None
    with pytest.raises(keyfob.SessionIdleError):
        engine.refresh(idle.refresh)
    assert [e["kind"] for e in events] == ["login", "idle_expired"]
    engine.set_event_handler(None)
    engine.login("erin")
    assert events[-1]["kind"] == "idle_expired", "no handler, no events"


def test_a_raising_handler_is_logged_not_raised(
    engine: keyfob.Engine, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(event: keyfob.Event) -> None:
        raise RuntimeError(f"handler bug on {event['kind']}")

    engine.set_event_handler(broken)
    with caplog.at_level(logging.ERROR, logger="keyfob"):
        pair = engine.login("gina")
    engine.validate(pair.access)
    [record] = [r for r in caplog.records if r.name == "keyfob"]
    assert "login" in record.getMessage()
    assert record.exc_info is not None and "handler bug on login" in str(record.exc_info[1])
    with pytest.raises(TypeError, match="callable"):
        engine.set_event_handler(3)  # type: ignore[arg-type]


def test_the_handler_may_call_the_engine(manual_clock: keyfob.ManualClock) -> None:
    seen: list[int] = []
    engine = keyfob.Engine(SECRET, clock=manual_clock)
    engine.set_event_handler(lambda e: seen.append(len(engine.sessions(e["user_id"] or ""))))
    engine.login("hana")
    engine.login("hana")
    assert seen == [1, 2]


def test_metrics_count_operations_errors_and_latency(
    store: dict[str, Any], manual_clock: keyfob.ManualClock
) -> None:
    engine = make(store, manual_clock)
    pair = engine.login("ivan")
    for _ in range(3):
        engine.validate(pair.access)
    with pytest.raises(keyfob.MalformedError):
        engine.validate("not.a.token")
    engine.sessions("ivan")
    m = engine.metrics()
    assert m["operations"]["login"] == 1
    assert m["operations"]["validate"] == 4
    assert m["operations"]["sessions"] == 1
    assert m["errors"] == {"malformed": 1}
    assert m["live_sessions"] == 1
    assert m["near_cache"] is None or set(m["near_cache"]) == {"hits", "misses", "invalidations"}
    listed = m["store_latency"]["user_sessions"]
    assert listed["count"] == 1 and listed["sum"] > 0
    bounds = [b for b, _ in listed["buckets"]]
    assert bounds == sorted(bounds) and all(isinstance(b, float) for b in bounds)
    counts = [n for _, n in listed["buckets"]]
    assert counts == sorted(counts) and counts[-1] <= listed["count"]
    assert all(isinstance(b, tuple) for b in listed["buckets"])
