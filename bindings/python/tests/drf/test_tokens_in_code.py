"""Tokens built in code are real keyfob tokens: ``for_user`` logs in (one session), the
token API is simplejwt's, what a caller sets is what the token carries, and time travel in
tests (freezegun, time-machine) reaches the engine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock

import freezegun
import jwt
import pytest
import time_machine
from keyfob.drf.authentication import JWTAuthentication
from keyfob.drf.exceptions import InvalidToken, TokenError
from keyfob.drf.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from keyfob.drf.tokens import AccessToken, RefreshToken, SlidingToken, Token, UntypedToken
from keyfob.drf.utils import aware_utcnow, datetime_to_epoch
from rest_framework.test import APIClient

KEY = "keyfob-tests-only-secret-key-0123456789abcdefghijklmnop"


@pytest.fixture
def wall_clock(settings: Any) -> None:
    """The engine on Python's own clock (no KEYFOB["CLOCK"]), as in a project's tests."""
    settings.KEYFOB = {}


def authenticated(raw: str) -> bool:
    try:
        JWTAuthentication().get_validated_token(raw.encode())
    except InvalidToken:
        return False
    return True


@pytest.mark.django_db
def test_for_user_tokens_are_accepted_and_share_one_session(admin: Any) -> None:
    refresh = RefreshToken.for_user(admin)
    access = refresh.access_token
    assert refresh["sid"] == access["sid"] and refresh["user_id"] == str(admin.pk)
    assert RefreshToken(str(refresh))["jti"] == refresh["jti"]
    assert authenticated(str(access))
    # Logging the session out ends both.
    RefreshToken(str(refresh)).blacklist()
    assert not authenticated(str(access))
    with pytest.raises(TokenError, match="blacklisted"):
        RefreshToken(str(refresh))


@pytest.mark.django_db
def test_access_and_sliding_for_user(admin: Any) -> None:
    access = AccessToken.for_user(admin)
    assert "sid" in access and authenticated(str(access))
    sliding = SlidingToken.for_user(admin)
    assert SlidingToken(str(sliding))["user_id"] == str(admin.pk)
    assert sliding["refresh_exp"] > sliding["exp"]


@pytest.mark.django_db
def test_claims_exist_from_construction_and_what_is_set_is_carried(admin: Any) -> None:
    refresh = RefreshToken.for_user(admin)
    assert {"exp", "iat", "jti"} <= set(refresh.payload)
    refresh["name"] = "Ada"
    refresh.set_exp(lifetime=timedelta(hours=2))
    assert "name" in refresh and refresh.get("missing", 7) == 7
    checked = RefreshToken(str(refresh))
    assert checked["name"] == "Ada"
    assert checked["exp"] == datetime_to_epoch(refresh.current_time + timedelta(hours=2))
    access = refresh.access_token
    access.set_exp(lifetime=timedelta(seconds=90))
    del access["name"]
    validated = AccessToken(str(access))
    assert "name" not in validated
    assert validated["exp"] == datetime_to_epoch(access.current_time + timedelta(seconds=90))
    assert validated["sid"] == refresh["sid"]
    # The new claims ride along on refreshes (rotation carries the refresh token's claims).
    rotated = TokenRefreshSerializer(data={"refresh": str(refresh)})
    assert rotated.is_valid(), rotated.errors
    assert AccessToken(rotated.validated_data["access"])["name"] == "Ada"


def test_tokens_built_from_scratch_are_as_simplejwts() -> None:
    with pytest.raises(TokenError):
        Token()
    access, refresh = AccessToken(token=None), RefreshToken()
    assert access["token_type"] == "access" and refresh["token_type"] == "refresh"
    assert access["exp"] - access["iat"] == 300
    old = refresh["jti"]
    refresh.set_jti()
    assert refresh["jti"] != old and len(refresh["jti"]) == 32
    # A token naming no user identifies nobody: valid as a token, never a login.
    assert UntypedToken(str(refresh)).payload == refresh.payload
    validated = JWTAuthentication().get_validated_token(str(access).encode())
    with pytest.raises(InvalidToken, match="no recognizable user"):
        JWTAuthentication().get_user(validated)
    expired = AccessToken()
    expired.set_exp(lifetime=-timedelta(seconds=1))
    with pytest.raises(TokenError, match="expired"):
        expired.check_exp()


@pytest.mark.django_db
def test_pyjwt_reads_tokens_built_in_code(admin: Any) -> None:
    refresh = RefreshToken.for_user(admin)
    refresh["scope"] = ["read"]
    claims = jwt.decode(str(refresh), KEY, algorithms=["HS256"])
    assert claims["scope"] == ["read"] and claims["sid"] == refresh["sid"]


@pytest.mark.django_db
def test_an_empty_user_id_gets_tokens_as_in_simplejwt(settings: Any, admin: Any) -> None:
    settings.KEYFOB = {**settings.KEYFOB, "USER_ID_FIELD": "email", "USER_ID_CLAIM": "email"}
    assert admin.email == ""
    refresh = RefreshToken.for_user(admin)
    assert refresh["email"] == "" and RefreshToken(str(refresh))["email"] == ""
    assert AccessToken(str(refresh.access_token))["email"] == ""


@pytest.mark.django_db
@pytest.mark.parametrize("context", [MagicMock(), {}, {"request": None}, {"request": object()}])
def test_any_serializer_context_simplejwt_accepts(admin: Any, context: Any) -> None:
    serializer = TokenObtainPairSerializer(
        context=context, data={"username": "admin", "password": "admin"}
    )
    assert serializer.is_valid(), serializer.errors
    assert AccessToken(serializer.validated_data["access"])["user_id"] == str(admin.pk)


@pytest.mark.django_db
@pytest.mark.usefixtures("wall_clock")
@pytest.mark.parametrize("travel", ["freezegun", "time_machine"])
def test_time_travel_expires_access_tokens_and_ends_idle_sessions(admin: Any, travel: str) -> None:
    start = aware_utcnow()

    def at(seconds: int) -> Any:
        moment = start + timedelta(seconds=seconds)
        if travel == "freezegun":
            return freezegun.freeze_time(moment)
        return time_machine.travel(moment, tick=False)

    client = APIClient()
    RefreshToken.for_user(admin)  # the engine is built before time moves, as in a project
    with at(0):
        refresh = RefreshToken.for_user(admin)
        access = str(refresh.access_token)
        assert authenticated(access)
    with at(301):  # past ACCESS_TOKEN_LIFETIME (5 minutes)
        assert not authenticated(access)
        renewed = client.post("/kf/api/token/refresh/", {"refresh": str(refresh)}, format="json")
        assert renewed.status_code == 200, renewed.content
        assert authenticated(renewed.data["access"])
    with at(301 + 1801):  # past IDLE_TIMEOUT (30 minutes) since the refresh
        gone = client.post(
            "/kf/api/token/refresh/", {"refresh": renewed.data["refresh"]}, format="json"
        )
        assert gone.status_code == 401
        assert gone.data["detail"] == "Token is expired"
