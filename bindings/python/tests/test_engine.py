"""Every Engine method's success path, and the shapes of what it returns."""

from __future__ import annotations

import re

import keyfob
import pytest
from engine_support import SECRET, START, segments

HEX32 = re.compile(r"^[0-9a-f]{32}$")


def test_version_is_the_crate_version() -> None:
    assert re.match(r"^\d+\.\d+\.\d+", keyfob.__version__)
    assert keyfob._keyfob.__version__ == keyfob.__version__


def test_login_returns_a_token_pair_bound_to_a_new_session(engine: keyfob.Engine) -> None:
    pair = engine.login("alice")
    assert isinstance(pair, keyfob.TokenPair)
    assert pair.access.count(".") == 2 and pair.refresh is not None
    assert pair.refresh.count(".") == 2 and pair.refresh != pair.access
    assert HEX32.match(pair.session_id)
    assert engine.login("alice").session_id != pair.session_id


def test_validate_returns_the_access_claims_as_a_dict(engine: keyfob.Engine) -> None:
    pair = engine.login("alice", {"role": "admin", "scopes": ["a", "b"], "n": 1.5, "x": None})
    claims = engine.validate(pair.access)
    assert claims == {
        "token_type": "access",
        "exp": START + 300,
        "iat": START,
        "jti": claims["jti"],
        "user_id": "alice",
        "sid": pair.session_id,
        "role": "admin",
        "scopes": ["a", "b"],
        "n": 1.5,
        "x": None,
    }
    assert HEX32.match(claims["jti"])
    # The payload's order, as json.loads would give it.
    assert list(claims)[:6] == ["token_type", "exp", "iat", "jti", "user_id", "sid"]


@pytest.mark.parametrize(
    "extra",
    [None, {"role": "admin"}, {"nested": {"a": [1, 2.5, None, True]}}, {"esc": 'a"b\u00e9'}],
)
def test_the_claims_dict_is_json_loads_of_the_payload(
    engine: keyfob.Engine, extra: dict[str, object] | None
) -> None:
    # Plain tokens take a path that never parses the payload; the others parse it. Either
    # way the dict is what json.loads gives, keys in the same order.
    pair = engine.login("alice", extra)
    assert pair.refresh is not None
    for token, claims in [
        (pair.access, engine.validate(pair.access)),
        (pair.refresh, engine.verify(pair.refresh)),
    ]:
        _, payload, _ = segments(token)
        assert claims == payload
        assert list(claims) == list(payload)
        assert [type(v) for v in claims.values()] == [type(v) for v in payload.values()]


def test_int_user_ids_are_written_as_decimal_strings(engine: keyfob.Engine) -> None:
    assert engine.validate(engine.login(42).access)["user_id"] == "42"
    assert engine.validate(engine.login(-7).access)["user_id"] == "-7"
    assert engine.validate_sliding(engine.login_sliding(10**30).token)["user_id"] == str(10**30)


def test_nested_extra_claims_round_trip(engine: keyfob.Engine) -> None:
    extra = {"profile": {"langs": ["en", "de"], "age": 33, "vip": True}, "t": (1, 2)}
    claims = engine.validate(engine.login("u", extra).access)
    assert claims.get("profile") == {"langs": ["en", "de"], "age": 33, "vip": True}
    assert claims.get("t") == [1, 2]


def test_verify_accepts_every_token_type(engine: keyfob.Engine) -> None:
    pair = engine.login("bob")
    assert pair.refresh is not None
    assert engine.verify(pair.access)["token_type"] == "access"
    refresh_claims = engine.verify(pair.refresh)
    assert refresh_claims["token_type"] == "refresh"
    assert refresh_claims["exp"] == START + 43_200  # the session's absolute deadline
    assert engine.verify(engine.login_sliding("bob").token)["token_type"] == "sliding"


def test_refresh_rotates_and_keeps_the_session(
    engine: keyfob.Engine, manual_clock: keyfob.ManualClock
) -> None:
    pair = engine.login("carol", {"role": "ops"})
    assert pair.refresh is not None
    manual_clock.advance(60)
    new = engine.refresh(pair.refresh)
    assert new.session_id == pair.session_id
    assert new.refresh is not None and new.refresh != pair.refresh
    claims = engine.validate(new.access)
    assert claims["iat"] == START + 60 and claims.get("role") == "ops"
    assert engine.refresh(new.refresh).session_id == pair.session_id


def test_refresh_without_rotation_returns_no_refresh_token(
    manual_clock: keyfob.ManualClock,
) -> None:
    engine = keyfob.Engine(SECRET, clock=manual_clock, rotate_refresh=False)
    pair = engine.login("dave")
    assert pair.refresh is not None
    new = engine.refresh(pair.refresh)
    assert new.refresh is None
    assert new.session_id == pair.session_id
    assert engine.validate(new.access)["user_id"] == "dave"
    # The same refresh token keeps working without rotation.
    assert engine.refresh(pair.refresh).refresh is None


def test_sliding_login_validate_and_refresh(
    engine: keyfob.Engine, manual_clock: keyfob.ManualClock
) -> None:
    sliding = engine.login_sliding("erin", {"k": "v"})
    assert isinstance(sliding, keyfob.SlidingToken)
    assert HEX32.match(sliding.session_id)
    claims = engine.validate_sliding(sliding.token)
    assert claims["token_type"] == "sliding"
    assert claims["exp"] == START + 300
    assert claims["refresh_exp"] == START + 43_200
    assert claims.get("k") == "v"
    manual_clock.advance(100)
    renewed = engine.refresh_sliding(sliding.token)
    assert renewed.session_id == sliding.session_id
    assert engine.validate_sliding(renewed.token)["exp"] == START + 400


def test_revoke_logs_the_session_out(engine: keyfob.Engine) -> None:
    pair = engine.login("frank")
    assert pair.refresh is not None
    engine.revoke(pair.refresh)
    with pytest.raises(keyfob.RevokedError):
        engine.validate(pair.access)


def test_revoke_session_reports_whether_it_was_live(engine: keyfob.Engine) -> None:
    pair = engine.login("gina")
    assert engine.revoke_session(pair.session_id) is True
    assert engine.revoke_session(pair.session_id) is False
    with pytest.raises(keyfob.RevokedError):
        engine.validate(pair.access)


def test_revoke_user_ends_every_session_of_that_user_only(engine: keyfob.Engine) -> None:
    by_int, by_str, sliding = engine.login(7), engine.login("7"), engine.login_sliding(7)
    other = engine.login(8)
    assert engine.revoke_user(7) == 3
    with pytest.raises(keyfob.RevokedError):
        engine.validate(by_int.access)
    with pytest.raises(keyfob.RevokedError):
        engine.validate(by_str.access)
    with pytest.raises(keyfob.RevokedError):
        engine.validate_sliding(sliding.token)
    assert engine.validate(other.access)["user_id"] == "8"
    assert engine.revoke_user(7) == 0


def test_stats_and_sweep(engine: keyfob.Engine, manual_clock: keyfob.ManualClock) -> None:
    assert engine.stats() == {
        "sessions": 0,
        "revoked_sessions": 0,
        "denied_jtis": 0,
        "user_epochs": 0,
    }
    pairs = [engine.login(f"user{i}") for i in range(3)]
    engine.revoke_session(pairs[0].session_id)
    engine.revoke_user("user1")
    stats = engine.stats()
    assert stats["sessions"] == 3
    assert stats["revoked_sessions"] == 2
    assert stats["user_epochs"] == 1
    assert engine.sweep() == 0  # nothing has ended yet
    manual_clock.advance(43_200 + 1)  # past every absolute deadline
    assert engine.sweep() >= 3
    assert engine.stats()["sessions"] == 0


def test_now_follows_the_clock(engine: keyfob.Engine, manual_clock: keyfob.ManualClock) -> None:
    assert engine.now() == START
    manual_clock.advance(5)
    assert engine.now() == START + 5


def test_engine_on_the_system_clock() -> None:
    import time

    engine = keyfob.Engine(SECRET)
    assert abs(engine.now() - time.time()) < 5
    assert engine.validate(engine.login("sys").access)["user_id"] == "sys"


def test_signing_key_as_bytes_is_the_same_key(engine: keyfob.Engine) -> None:
    other = keyfob.Engine(SECRET.encode(), clock=keyfob.ManualClock(START))
    # Same key, different store: the signature checks out, the session is unknown there.
    with pytest.raises(keyfob.SessionUnknownError):
        other.validate(engine.login("k").access)


def test_token_pair_is_frozen_comparable_and_does_not_show_tokens(engine: keyfob.Engine) -> None:
    pair = engine.login("henry")
    with pytest.raises(AttributeError):
        pair.access = "x"  # type: ignore[misc]
    text = repr(pair)
    assert text.startswith("TokenPair(access='")
    assert pair.session_id in text
    assert pair.access not in text and pair.access[:12] in text
    assert pair.refresh is not None and pair.refresh not in text
    assert pair == pair and hash(pair) == hash(pair)
    assert pair != engine.login("henry")
    sliding = engine.login_sliding("henry")
    assert sliding.token not in repr(sliding) and sliding.session_id in repr(sliding)
    with pytest.raises(AttributeError):
        sliding.token = "x"  # type: ignore[misc]


def test_engine_repr_never_shows_the_key(engine: keyfob.Engine) -> None:
    assert SECRET not in repr(engine)
    assert "HS256" in repr(engine)


def test_manual_clock(manual_clock: keyfob.ManualClock) -> None:
    from datetime import timedelta

    assert manual_clock.now() == START
    manual_clock.advance(10)
    manual_clock.advance(timedelta(minutes=1))
    assert manual_clock.now() == START + 70
    manual_clock.advance(-70)
    assert manual_clock.now() == START
    manual_clock.set(5)
    assert manual_clock.now() == 5
    assert repr(manual_clock) == "ManualClock(5)"
    with pytest.raises(ValueError, match="whole number of seconds"):
        manual_clock.advance(timedelta(milliseconds=1500))
    with pytest.raises(TypeError, match="seconds must be int"):
        manual_clock.advance(1.5)  # type: ignore[arg-type]
