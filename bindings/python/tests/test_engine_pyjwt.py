"""Interop with PyJWT, both ways, with the same key: PyJWT decodes keyfob's tokens, and a
PyJWT-minted token shaped as simplejwt writes it is checked by keyfob (accepted only when
sessionless tokens are)."""

from __future__ import annotations

import time
import uuid

import jwt
import keyfob
import pytest
from engine_support import SECRET, segments


@pytest.fixture
def engine() -> keyfob.Engine:
    # PyJWT checks exp against the real time, so keyfob runs on it too.
    return keyfob.Engine(SECRET)


def simplejwt_token(token_type: str = "access", lifetime: int = 300, **extra: object) -> str:
    """What djangorestframework-simplejwt 5.5 mints: HS256, these claims, int user id."""
    now = int(time.time())
    claims = {
        "token_type": token_type,
        "exp": now + lifetime,
        "iat": now,
        "jti": uuid.uuid4().hex,
        "user_id": 1,
        **extra,
    }
    return jwt.encode(claims, SECRET, algorithm="HS256")


def test_pyjwt_decodes_keyfob_access_tokens(engine: keyfob.Engine) -> None:
    pair = engine.login(1, {"role": "admin"})
    decoded = jwt.decode(pair.access, SECRET, algorithms=["HS256"])
    assert decoded["user_id"] == "1" and decoded["token_type"] == "access"
    assert decoded["sid"] == pair.session_id and decoded["role"] == "admin"
    assert decoded == engine.validate(pair.access)
    header, _, _ = segments(pair.access)
    assert header == {"alg": "HS256", "typ": "JWT"}
    assert jwt.get_unverified_header(pair.access) == header


def test_pyjwt_decodes_refresh_and_sliding_tokens(engine: keyfob.Engine) -> None:
    pair = engine.login("bob")
    assert pair.refresh is not None
    assert jwt.decode(pair.refresh, SECRET, algorithms=["HS256"])["token_type"] == "refresh"
    sliding = engine.login_sliding("bob").token
    claims = jwt.decode(sliding, SECRET, algorithms=["HS256"])
    assert claims["token_type"] == "sliding" and claims["refresh_exp"] > claims["exp"]


def test_pyjwt_with_the_wrong_key_rejects_keyfob_tokens(engine: keyfob.Engine) -> None:
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(engine.login("u").access, SECRET + "x", algorithms=["HS256"])


def test_pyjwt_checks_issuer_and_audience_keyfob_writes() -> None:
    engine = keyfob.Engine(SECRET, issuer="https://auth.example", audience="api")
    access = engine.login("u").access
    claims = jwt.decode(
        access, SECRET, algorithms=["HS256"], audience="api", issuer="https://auth.example"
    )
    assert claims["aud"] == "api"
    with pytest.raises(jwt.InvalidAudienceError):
        jwt.decode(access, SECRET, algorithms=["HS256"], audience="other")


def test_simplejwt_shaped_token_is_accepted_when_sessionless_tokens_are() -> None:
    engine = keyfob.Engine(SECRET, accept_sessionless=True)
    token = simplejwt_token(role="staff")
    claims = engine.validate(token)
    assert claims["user_id"] == 1  # the claims as the token carries them
    assert claims.get("role") == "staff" and "sid" not in claims
    assert engine.verify(token)["jti"] == claims["jti"]


def test_simplejwt_shaped_token_is_rejected_without_sessionless(engine: keyfob.Engine) -> None:
    with pytest.raises(keyfob.SessionRequiredError) as caught:
        engine.validate(simplejwt_token())
    assert caught.value.code == 14 and caught.value.name == "session_required"
    with pytest.raises(keyfob.SessionRequiredError):
        engine.verify(simplejwt_token())


def test_sessionless_tokens_are_still_fully_checked() -> None:
    engine = keyfob.Engine(SECRET, accept_sessionless=True)
    with pytest.raises(keyfob.ExpiredError):
        engine.validate(simplejwt_token(lifetime=-10))
    with pytest.raises(keyfob.WrongTypeError):
        engine.validate(simplejwt_token("refresh"))
    forged = jwt.encode(
        {"token_type": "access", "exp": int(time.time()) + 60, "jti": "x", "user_id": 1},
        "a-different-secret-of-32-bytes-or-more",
        algorithm="HS256",
    )
    with pytest.raises(keyfob.BadSignatureError):
        engine.validate(forged)


def test_sessionless_refresh_token_upgrades_to_a_session_once() -> None:
    # simplejwt's refresh tokens live a day: keyfob must allow tokens that long.
    engine = keyfob.Engine(SECRET, accept_sessionless=True, refresh_lifetime_s=86_400)
    old_refresh = simplejwt_token("refresh", lifetime=86_400)
    pair = engine.refresh(old_refresh)
    assert pair.refresh is not None
    assert engine.validate(pair.access)["sid"] == pair.session_id
    with pytest.raises(keyfob.RevokedError):
        engine.refresh(old_refresh)  # its jti is spent


def test_revoking_sessionless_tokens_and_users() -> None:
    engine = keyfob.Engine(SECRET, accept_sessionless=True)
    token = simplejwt_token()
    engine.revoke(token)
    with pytest.raises(keyfob.RevokedError):
        engine.validate(token)
    other = simplejwt_token()
    engine.validate(other)
    engine.revoke_user(1)
    with pytest.raises(keyfob.RevokedError):
        engine.validate(other)


def test_sessionless_tokens_may_not_outlive_keyfobs_own() -> None:
    engine = keyfob.Engine(SECRET, accept_sessionless=True, refresh_lifetime_s=3_600)
    with pytest.raises(keyfob.InvalidClaimError):
        engine.refresh(simplejwt_token("refresh", lifetime=86_400))
