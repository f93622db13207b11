"""Where keyfob is deliberately stronger than simplejwt, and the session time rules (idle
timeout, absolute lifetime) through ``keyfob.ManualClock`` (``KEYFOB["CLOCK"]``, the
documented test hook)."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings as django_settings
from keyfob.drf.engine import get_engine

from .conftest import Flavor
from .test_drop_in import token_not_valid

pytestmark = pytest.mark.django_db

BLACKLISTED = {"detail": "Token is blacklisted", "code": "token_not_valid"}
EXPIRED = {"detail": "Token is expired", "code": "token_not_valid"}


def configure(settings, clock, **keyfob):
    settings.KEYFOB = {"CLOCK": clock, **keyfob}


def test_logout_ends_the_session_for_its_access_token(sj: Flavor, kf: Flavor):
    for f in (sj, kf):
        tokens = f.login()
        assert f.hello(tokens["access"]).status == 200
        assert f.blacklist(tokens["refresh"]).status == 200
        after = f.hello(tokens["access"])
        if f is sj:
            # simplejwt: the access token lives on until it expires.
            assert after.status == 200
        else:
            assert after.status == 401
            assert after.body == token_not_valid("Token is blacklisted")
            assert kf.verify(tokens["access"]).body == {
                "non_field_errors": ["Token is blacklisted"]
            }


def test_logout_leaves_other_sessions_alone(kf: Flavor):
    laptop, phone = kf.login(), kf.login()
    assert kf.blacklist(laptop["refresh"]).status == 200
    assert kf.hello(laptop["access"]).status == 401
    assert kf.hello(phone["access"]).status == 200
    assert kf.refresh(phone["refresh"]).status == 200


def test_replay_of_rotated_refresh_token_revokes_the_whole_session(sj: Flavor, kf: Flavor):
    for f in (sj, kf):
        first = f.login()
        second = f.refresh(first["refresh"]).data
        assert f.refresh(first["refresh"]).body == BLACKLISTED  # the replay
        successor = f.refresh(second["refresh"])
        if f is sj:
            # simplejwt: only the replayed token is refused; the thief's successor lives on.
            assert successor.status == 200
        else:
            assert successor.status == 401
            assert successor.body == BLACKLISTED
            assert f.hello(second["access"]).body == token_not_valid("Token is blacklisted")
            assert f.hello(first["access"]).status == 401


def test_reuse_grace_lets_concurrent_refreshes_converge(settings, clock, kf: Flavor):
    configure(settings, clock, REUSE_GRACE=timedelta(seconds=10))
    first = kf.login()
    a = kf.refresh(first["refresh"]).data
    clock.advance(5)
    b = kf.refresh(first["refresh"])  # a second tab, a moment later
    assert b.status == 200
    assert b.data["refresh"] == a["refresh"]
    assert kf.hello(b.data["access"]).status == 200
    clock.advance(10)
    assert kf.refresh(first["refresh"]).body == BLACKLISTED


def test_session_ends_after_idle_timeout(settings, clock, kf: Flavor):
    configure(
        settings,
        clock,
        IDLE_TIMEOUT=timedelta(minutes=10),
        ACCESS_TOKEN_LIFETIME=timedelta(hours=1),
    )
    tokens = kf.login()
    clock.advance(599)
    assert kf.hello(tokens["access"]).status == 200  # activity slides the idle window
    clock.advance(599)
    assert kf.hello(tokens["access"]).status == 200
    clock.advance(601)  # ten minutes without a request
    assert kf.hello(tokens["access"]).body == token_not_valid("Token is expired")
    assert kf.refresh(tokens["refresh"]).body == EXPIRED


def test_refreshing_keeps_an_idle_limited_session_alive(settings, clock, kf: Flavor):
    configure(settings, clock, IDLE_TIMEOUT=timedelta(minutes=10))
    refresh = kf.login()["refresh"]
    for _ in range(6):  # an hour of refreshing every nine minutes
        clock.advance(540)
        reply = kf.refresh(refresh)
        assert reply.status == 200, reply.raw
        refresh = reply.data["refresh"]
        assert kf.hello(reply.data["access"]).status == 200


def test_session_ends_at_refresh_token_lifetime_however_often_it_refreshes(
    settings, clock, kf: Flavor
):
    configure(
        settings,
        clock,
        IDLE_TIMEOUT=timedelta(minutes=10),
        REFRESH_TOKEN_LIFETIME=timedelta(hours=1),
    )
    tokens = kf.login()
    elapsed = 0
    while elapsed + 300 < 3600:
        clock.advance(300)
        elapsed += 300
        reply = kf.refresh(tokens["refresh"])
        assert reply.status == 200, (elapsed, reply.raw)
        tokens = reply.data
        # No token outlives the session: access exp is clipped to the absolute deadline.
        claims = jwt.decode(tokens["access"], options={"verify_signature": False})
        assert claims["exp"] <= clock.now() - elapsed + 3600
    clock.advance(3600 - elapsed)
    assert kf.refresh(tokens["refresh"]).body == EXPIRED
    assert kf.hello(tokens["access"]).status == 401


def test_access_token_lifetime_still_applies(settings, clock, kf: Flavor):
    configure(settings, clock, ACCESS_TOKEN_LIFETIME=timedelta(minutes=1))
    tokens = kf.login()
    clock.advance(59)
    assert kf.hello(tokens["access"]).status == 200
    clock.advance(1)
    assert kf.hello(tokens["access"]).body == token_not_valid("Token is expired")
    assert kf.refresh(tokens["refresh"]).status == 200


def simplejwt_pair(admin):
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(admin)
    return str(refresh.access_token), str(refresh)


def test_simplejwt_tokens_rejected_without_accept_sessionless(kf: Flavor, admin):
    access, refresh = simplejwt_pair(admin)
    assert kf.hello(access).body == token_not_valid("Token is invalid")
    assert kf.refresh(refresh).body == {"detail": "Token is invalid", "code": "token_not_valid"}


def test_simplejwt_tokens_accepted_with_accept_sessionless(settings, clock, kf: Flavor, admin):
    configure(settings, clock, ACCEPT_SESSIONLESS_TOKENS=True)
    access, refresh = simplejwt_pair(admin)
    assert kf.hello(access).body == {"message": "Hello, World!"}
    assert kf.verify(access).body == {}
    # Refreshing upgrades the migrated login to a keyfob session...
    upgraded = kf.refresh(refresh)
    assert upgraded.status == 200
    claims = jwt.decode(upgraded.data["refresh"], django_settings.SECRET_KEY, algorithms=["HS256"])
    assert len(claims["sid"]) == 32
    assert kf.hello(upgraded.data["access"]).status == 200
    # ...and the simplejwt refresh token is spent.
    assert kf.refresh(refresh).body == BLACKLISTED


def test_revoke_user_ends_every_session(kf: Flavor, admin):
    a, b = kf.login(), kf.login()
    assert get_engine().revoke_user(str(admin.id)) == 2
    assert kf.hello(a["access"]).status == 401
    assert kf.refresh(b["refresh"]).body == BLACKLISTED


def test_sliding_token_is_bound_to_a_session(settings, clock, kf: Flavor):
    configure(settings, clock, AUTH_TOKEN_CLASSES=("keyfob.drf.tokens.SlidingToken",))
    token = kf.post("token/sliding/", {"username": "admin", "password": "admin"}).data["token"]
    assert kf.hello(token).status == 200
    claims = jwt.decode(token, options={"verify_signature": False})
    get_engine().revoke_session(claims["sid"])
    assert kf.hello(token).body["messages"] == [
        {"token_class": "SlidingToken", "token_type": "sliding", "message": "Token is blacklisted"}
    ]
    assert kf.post("token/sliding/refresh/", {"token": token}).body == BLACKLISTED


def test_logout_with_a_spent_refresh_token_still_ends_the_session(kf: Flavor):
    first = kf.login()
    second = kf.refresh(first["refresh"]).data
    assert kf.blacklist(first["refresh"]).body == BLACKLISTED  # as simplejwt answers
    assert kf.hello(second["access"]).status == 401
    assert kf.refresh(second["refresh"]).body == BLACKLISTED
