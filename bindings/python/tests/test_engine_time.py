"""The session time rules, driven to the second by ManualClock: access expiry, the sliding
idle window, the absolute lifetime that no refresh extends, sliding tokens, leeway."""

from __future__ import annotations

from datetime import timedelta

import keyfob
import pytest
from engine_support import SECRET, START


@pytest.fixture
def clock() -> keyfob.ManualClock:
    return keyfob.ManualClock(START)


def make(clock: keyfob.ManualClock, **config: object) -> keyfob.Engine:
    base: dict[str, object] = {
        "access_lifetime_s": 300,
        "idle_timeout_s": timedelta(minutes=30),
        "refresh_lifetime_s": timedelta(hours=2),
    }
    base.update(config)
    return keyfob.Engine(SECRET, clock=clock, **base)  # type: ignore[arg-type]


def test_access_token_expires_at_its_exp(clock: keyfob.ManualClock) -> None:
    engine = make(clock)
    access = engine.login("u").access
    clock.advance(299)
    engine.validate(access)
    clock.advance(1)  # exp <= now: expired, as simplejwt
    with pytest.raises(keyfob.ExpiredError):
        engine.validate(access)
    with pytest.raises(keyfob.ExpiredError):
        engine.verify(access)


def test_leeway_tolerates_clock_skew(clock: keyfob.ManualClock) -> None:
    engine = make(clock, leeway_s=10)
    access = engine.login("u").access
    clock.advance(309)
    engine.validate(access)
    clock.advance(1)
    with pytest.raises(keyfob.ExpiredError):
        engine.validate(access)


def test_session_ends_after_idle_timeout_without_activity(clock: keyfob.ManualClock) -> None:
    engine = make(clock)
    pair = engine.login("u")
    assert pair.refresh is not None
    clock.advance(30 * 60)
    with pytest.raises(keyfob.SessionIdleError):
        engine.refresh(pair.refresh)


def test_activity_slides_the_idle_window(clock: keyfob.ManualClock) -> None:
    engine = make(clock, access_lifetime_s=7200)
    pair = engine.login("u")
    for _ in range(3):
        clock.advance(29 * 60)
        engine.validate(pair.access)  # each request moves the idle deadline
    clock.advance(29 * 60)
    assert pair.refresh is not None
    engine.refresh(pair.refresh)  # 116 minutes after login, still alive


def test_validate_without_touch_does_not_slide(clock: keyfob.ManualClock) -> None:
    engine = make(clock, access_lifetime_s=3600, touch_on_validate=False)
    pair = engine.login("u")
    clock.advance(29 * 60)
    engine.validate(pair.access)
    clock.advance(60)
    with pytest.raises(keyfob.SessionIdleError):
        engine.validate(pair.access)


def test_verify_does_not_slide(clock: keyfob.ManualClock) -> None:
    engine = make(clock, access_lifetime_s=3600)
    pair = engine.login("u")
    clock.advance(29 * 60)
    engine.verify(pair.access)
    clock.advance(60)
    with pytest.raises(keyfob.SessionIdleError):
        engine.verify(pair.access)


def test_refreshing_never_extends_the_absolute_lifetime(clock: keyfob.ManualClock) -> None:
    engine = make(clock)
    pair = engine.login("u")
    refresh = pair.refresh
    assert refresh is not None
    for _ in range(7):  # every 15 minutes, well inside the idle window
        clock.advance(15 * 60)
        new = engine.refresh(refresh)
        assert new.refresh is not None
        refresh = new.refresh
        # Access tokens never outlive the session either.
        assert engine.validate(new.access)["exp"] <= START + 7200
    clock.set(START + 7200)
    with pytest.raises((keyfob.ExpiredError, keyfob.SessionExpiredError)):
        engine.refresh(refresh)


def test_a_session_past_its_absolute_lifetime_is_expired(clock: keyfob.ManualClock) -> None:
    # Access lifetime longer than the session: the token's exp is clipped, the session ends.
    engine = make(clock, access_lifetime_s=3 * 3600, idle_timeout_s=3 * 3600)
    access = engine.login("u").access
    assert engine.validate(access)["exp"] == START + 7200
    clock.set(START + 7200)
    with pytest.raises((keyfob.ExpiredError, keyfob.SessionExpiredError)):
        engine.validate(access)


def test_sliding_token_expires_but_its_session_lives_on(clock: keyfob.ManualClock) -> None:
    engine = make(clock, sliding_lifetime_s=300)
    sliding = engine.login_sliding("u")
    clock.advance(200)
    renewed = engine.refresh_sliding(sliding.token)
    clock.advance(200)  # the first token has expired, the renewed one has not
    with pytest.raises(keyfob.ExpiredError):
        engine.validate_sliding(sliding.token)
    assert engine.validate_sliding(renewed.token)["exp"] == START + 500


def test_sliding_session_is_idle_after_the_timeout(clock: keyfob.ManualClock) -> None:
    engine = make(clock, sliding_lifetime_s=3600, idle_timeout_s=600)
    sliding = engine.login_sliding("u")
    clock.advance(600)
    with pytest.raises(keyfob.SessionIdleError):
        engine.refresh_sliding(sliding.token)


def test_revocation_takes_effect_at_once_for_live_access_tokens(
    clock: keyfob.ManualClock,
) -> None:
    engine = make(clock)
    pair = engine.login("u")
    engine.validate(pair.access)
    engine.revoke_session(pair.session_id)
    with pytest.raises(keyfob.RevokedError):
        engine.validate(pair.access)


def test_sweep_drops_ended_sessions(clock: keyfob.ManualClock) -> None:
    engine = make(clock)
    for i in range(5):
        engine.login(i)
    clock.advance(30 * 60)  # all idle
    assert engine.sweep() == 5
    assert engine.stats()["sessions"] == 0


def test_a_callable_clock_is_read_at_each_call() -> None:
    now: list[float] = [START]
    engine = keyfob.Engine(SECRET, clock=lambda: now[0], access_lifetime_s=60)
    pair = engine.login("u")
    now[0] = START + 59.9  # floats round down
    assert engine.now() == START + 59
    engine.validate(pair.access)
    now[0] = START + 60
    with pytest.raises(keyfob.ExpiredError):
        engine.validate(pair.access)


@pytest.mark.parametrize("bad", ["soon", None, float("nan"), True, 10**30])
def test_a_clock_returning_no_time_is_refused(bad: object) -> None:
    engine = keyfob.Engine(SECRET, clock=lambda: bad)  # type: ignore[arg-type, return-value]
    with pytest.raises((TypeError, ValueError)):
        engine.login("u")


def test_clock_time_time_follows_freezegun_started_later() -> None:
    import time

    import freezegun

    engine = keyfob.Engine(SECRET, clock=time.time, access_lifetime_s=60)
    with freezegun.freeze_time("2031-05-01 00:00:00"):
        pair = engine.login("u")
        assert engine.now() == 1935360000
    with freezegun.freeze_time("2031-05-01 00:01:00"):
        with pytest.raises(keyfob.ExpiredError):
            engine.validate(pair.access)


def test_clock_must_be_a_clock() -> None:
    with pytest.raises(TypeError, match="clock"):
        keyfob.Engine(SECRET, clock=5)  # type: ignore[arg-type]
