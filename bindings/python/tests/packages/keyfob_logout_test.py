"""dj-rest-auth's JWT login and logout, served by keyfob through install_as_simplejwt: its
logout (which blacklists only when 'rest_framework_simplejwt.token_blacklist' is installed)
ends the keyfob session, so the access token stops working and the refresh token is refused."""

import keyfob.drf.tokens
import rest_framework_simplejwt.tokens
from dj_rest_auth.tests.utils import override_api_settings
from django.contrib.auth import get_user_model
from django.test import TestCase, override_settings
from rest_framework.test import APIClient


@override_settings(ROOT_URLCONF="tests.urls")
class LogoutRevokesTheSession(TestCase):
    @override_api_settings(USE_JWT=True, JWT_AUTH_HTTPONLY=False, SESSION_LOGIN=False)
    def test_logout_revokes_the_session(self):
        assert rest_framework_simplejwt.tokens is keyfob.drf.tokens
        get_user_model().objects.create_user("ada", "", "pw")
        client = APIClient()
        pair = client.post("/login/", {"username": "ada", "password": "pw"}, format="json").data
        assert keyfob.drf.tokens.RefreshToken(pair["refresh"])["sid"]
        bearer = {"HTTP_AUTHORIZATION": f"Bearer {pair['access']}"}
        assert client.get("/protected-view/", **bearer).status_code == 200
        assert client.post("/logout/", {"refresh": pair["refresh"]}).status_code == 200
        refused = client.get("/protected-view/", **bearer)
        # 403, not 401: the suite lists SessionAuthentication first, which sends no challenge.
        assert refused.status_code == 403 and refused.data["code"] == "token_not_valid"
        refreshed = client.post("/token/refresh/", {"refresh": pair["refresh"]})
        assert refreshed.status_code == 401
