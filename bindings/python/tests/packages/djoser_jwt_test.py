"""djoser's JWT endpoints (/auth/jwt/create/, refresh/, verify/) served by keyfob, and its
user endpoint authenticated by the tokens they hand out."""

import keyfob.drf.views
import pytest
from django.contrib.auth import get_user_model
from djoser.urls import jwt as djoser_jwt
from rest_framework.test import APIClient


@pytest.fixture
def client(db):
    get_user_model().objects.create_user("ada", "ada@example.com", "pw")
    return APIClient()


def test_djoser_serves_keyfobs_views():
    views = {p.name: p.callback.view_class for p in djoser_jwt.urlpatterns}
    assert views["jwt-create"] is keyfob.drf.views.TokenObtainPairView
    assert views["jwt-verify"] is keyfob.drf.views.TokenVerifyView


def test_create_refresh_verify(client):
    pair = client.post("/auth/jwt/create/", {"username": "ada", "password": "pw"}).data
    assert set(pair) == {"access", "refresh"}
    me = client.get("/auth/users/me/", HTTP_AUTHORIZATION=f"JWT {pair['access']}")
    assert me.status_code == 200 and me.data["username"] == "ada"
    assert client.post("/auth/jwt/verify/", {"token": pair["access"]}).status_code == 200
    new = client.post("/auth/jwt/refresh/", {"refresh": pair["refresh"]})
    assert new.status_code == 200 and set(new.data) == {"access", "refresh"}
    assert client.post("/auth/jwt/verify/", {"token": new.data["access"]}).status_code == 200
    # keyfob: the spent refresh token is refused, and replaying it ends the session.
    assert client.post("/auth/jwt/refresh/", {"refresh": pair["refresh"]}).status_code == 401
    gone = client.get("/auth/users/me/", HTTP_AUTHORIZATION=f"JWT {new.data['access']}")
    assert gone.status_code == 401


def test_bad_credentials_and_tokens(client):
    bad = client.post("/auth/jwt/create/", {"username": "ada", "password": "nope"})
    assert bad.status_code == 401
    assert bad.data["detail"] == "No active account found with the given credentials"
    verify = client.post("/auth/jwt/verify/", {"token": "not.a.token"})
    assert verify.status_code == 401 and verify.data["code"] == "token_not_valid"
