import pytest
from django.contrib.auth import get_user_model
from freezegun import freeze_time
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from shop.serializers import ShopTokenObtainPairSerializer


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(
        username="ada", password="pw", first_name="Ada", last_name="Lovelace"
    )


def client_for(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_login_carries_the_custom_claims(user):
    reply = APIClient().post("/api/token/", {"username": "ada", "password": "pw"})
    assert reply.status_code == 200
    access = AccessToken(reply.data["access"])
    assert access["name"] == "Ada Lovelace" and access["staff"] is False
    assert client_for(reply.data["access"]).get("/api/me/").data == {
        "username": "ada",
        "name": "Ada Lovelace",
    }


def test_a_token_made_in_the_test_authenticates(user):
    token = ShopTokenObtainPairSerializer.get_token(user).access_token
    assert client_for(token).get("/api/me/").status_code == 200
    plain = AccessToken.for_user(user)
    plain["name"] = "someone"
    assert client_for(plain).get("/api/me/").data["name"] == "someone"


def test_access_tokens_expire(user):
    with freeze_time("2030-01-01 12:00:00"):
        access = AccessToken.for_user(user)
        access["name"] = "Ada"
        access = str(access)
        assert client_for(access).get("/api/me/").status_code == 200
    with freeze_time("2030-01-01 12:09:59"):
        assert client_for(access).get("/api/me/").status_code == 200
    with freeze_time("2030-01-01 12:10:01"):
        reply = client_for(access).get("/api/me/")
        assert reply.status_code == 401
        assert reply.data["code"] == "token_not_valid"


def test_refresh_rotates(user):
    pair = APIClient().post("/api/token/", {"username": "ada", "password": "pw"}).data
    new = APIClient().post("/api/token/refresh/", {"refresh": pair["refresh"]})
    assert new.status_code == 200 and new.data["refresh"] != pair["refresh"]
    assert AccessToken(new.data["access"])["name"] == "Ada Lovelace"
    again = APIClient().post("/api/token/refresh/", {"refresh": pair["refresh"]})
    assert again.status_code == 401


def test_logout_everywhere(user):
    one = APIClient().post("/api/token/", {"username": "ada", "password": "pw"}).data
    two = APIClient().post("/api/token/", {"username": "ada", "password": "pw"}).data
    assert client_for(one["access"]).post("/api/logout-everywhere/").status_code == 205
    for pair in (one, two):
        reply = APIClient().post("/api/token/refresh/", {"refresh": pair["refresh"]})
        assert reply.status_code == 401


def test_a_refresh_token_expires_after_a_day(user):
    with freeze_time("2030-01-01 12:00:00"):
        refresh = str(RefreshToken.for_user(user))
    with freeze_time("2030-01-02 12:00:01"):
        reply = APIClient().post("/api/token/refresh/", {"refresh": refresh})
        assert reply.status_code == 401
