"""Introspection (RFC 7662) and revocation (RFC 7009) at /oauth/introspect/ and /oauth/revoke/
(the example project's URLs): off by default, for authenticated clients only, inactive for
anything keyfob itself would refuse, and revocation that ends sessions and never errors on
a bad token."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import keyfob
import pytest
from dpop_support import DpopKey
from keyfob.drf.engine import get_engine
from keyfob.drf.oauth import secret_matches
from rest_framework.test import APIClient

INTROSPECT, REVOKE = "/oauth/introspect/", "/oauth/revoke/"
CLIENT, SECRET = "gateway", "s3cret-of-the-gateway"
INACTIVE = {"active": False}
FORM = "application/x-www-form-urlencoded"

pytestmark = pytest.mark.django_db


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


@pytest.fixture
def enabled(settings: Any, clock: Any) -> dict[str, Any]:
    settings.KEYFOB = {
        "CLOCK": clock,
        "INTROSPECTION": True,
        "REVOCATION": True,
        "OAUTH_CLIENTS": {CLIENT: SECRET, "other": "another-secret"},
    }
    return settings.KEYFOB


class Service:
    """A resource server calling the endpoints with its client credentials."""

    def __init__(self, authorization: str | None = basic(CLIENT, SECRET)) -> None:
        self.client = APIClient()
        self.extra = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}

    def post(self, url: str, token: str | None, form: dict[str, str]) -> Any:
        data = dict(form) if token is None else {"token": token, **form}
        # As the RFCs have it: application/x-www-form-urlencoded.
        return self.client.post(url, urlencode(data), content_type=FORM, **self.extra)

    def introspect(self, token: str | None, **form: str) -> Any:
        return self.post(INTROSPECT, token, form)

    def revoke(self, token: str | None, **form: str) -> Any:
        return self.post(REVOKE, token, form)


def test_off_by_default(admin: Any) -> None:
    pair = get_engine().login(str(admin.id))
    assert Service().introspect(pair.access).status_code == 404
    assert Service().revoke(pair.refresh).status_code == 404
    assert get_engine().verify(pair.access)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic(CLIENT, "wrong-secret"),
        basic("nobody", SECRET),
        basic(CLIENT, SECRET + "x"),
        basic("other", SECRET),
        "Basic not-base64!",
        "Basic " + base64.b64encode(b"no-colon").decode(),
    ],
)
def test_a_client_must_authenticate(enabled: Any, admin: Any, authorization: str | None) -> None:
    pair = get_engine().login(str(admin.id))
    for response in (
        Service(authorization).introspect(pair.access),
        Service(authorization).revoke(pair.refresh),
    ):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response["WWW-Authenticate"] == 'Basic realm="keyfob"'
        assert response["Cache-Control"] == "no-store"
    assert get_engine().verify(pair.refresh)  # not revoked


def test_an_active_access_token(enabled: Any, admin: Any, clock: Any) -> None:
    pair = get_engine().login(str(admin.id))
    response = Service().introspect(pair.access, token_type_hint="access_token")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    claims = get_engine().verify(pair.access)
    assert response.json() == {
        "active": True,
        "sub": str(admin.id),
        "user_id": str(admin.id),
        "exp": clock.now() + 300,
        "iat": clock.now(),
        "jti": claims["jti"],
        "sid": pair.session_id,
        "token_type": "Bearer",
        "token_use": "access",
    }


def test_a_refresh_token_says_so(enabled: Any, admin: Any) -> None:
    pair = get_engine().login(str(admin.id))
    body = Service().introspect(pair.refresh, token_type_hint="refresh_token").json()
    assert body["active"] is True and body["token_use"] == "refresh"
    assert body["sid"] == pair.session_id


def test_issuer_audience_and_a_client_id_claim_are_reported(
    enabled: Any, admin: Any, clock: Any
) -> None:
    enabled.update({"ISSUER": "https://auth.example", "AUDIENCE": "api"})
    pair = get_engine().login(str(admin.id), {"client_id": "mobile-app"})
    body = Service().introspect(pair.access).json()
    assert body["iss"] == "https://auth.example" and body["aud"] == "api"
    assert body["client_id"] == "mobile-app"


def test_a_dpop_bound_token_reports_its_key(enabled: Any, admin: Any, clock: Any) -> None:
    key = DpopKey()
    url = "http://testserver/api/token/"
    proof = key.proof("POST", url, iat=clock.now())
    pair = get_engine().login(str(admin.id), dpop=keyfob.DpopRequest(proof, "POST", url))
    body = Service().introspect(pair.access).json()
    assert body["active"] is True and body["token_type"] == "DPoP"
    assert body["cnf"] == {"jkt": key.thumbprint}


def test_anything_not_valid_is_inactive(enabled: Any, admin: Any, clock: Any) -> None:
    engine = get_engine()
    service = Service()
    other_engine = keyfob.Engine("another-secret-key-that-is-long-enough-123")
    pair = engine.login(str(admin.id))
    for garbage in ("", "x", "a.b.c", pair.access[:-2], other_engine.login("1").access):
        if garbage:
            assert service.introspect(garbage).json() == INACTIVE, garbage
    # Expired: the access token after its 5 minutes (the session lives on).
    clock.advance(301)
    assert service.introspect(pair.access).json() == INACTIVE
    assert service.introspect(pair.refresh).json()["active"] is True
    # Revoked: logout ends every token of the session.
    revoked = engine.login(str(admin.id))
    engine.revoke(revoked.refresh)
    assert service.introspect(revoked.access).json() == INACTIVE
    assert service.introspect(revoked.refresh).json() == INACTIVE


def test_introspection_does_not_keep_a_session_alive(enabled: Any, admin: Any, clock: Any) -> None:
    pair = get_engine().login(str(admin.id))
    clock.advance(1000)
    assert Service().introspect(pair.refresh).json()["active"] is True
    # Idle since the login: the 30-minute idle timeout ends it, introspection or not.
    clock.advance(801)
    assert Service().introspect(pair.refresh).json() == INACTIVE


def test_a_request_without_a_token_is_invalid(enabled: Any) -> None:
    for response in (Service().introspect(None), Service().revoke(None, token_type_hint="x")):
        assert response.status_code == 400
        assert response.json()["error"] == "invalid_request"


def test_json_bodies_are_accepted_too(enabled: Any, admin: Any) -> None:
    pair = get_engine().login(str(admin.id))
    client = APIClient()
    response = client.post(
        INTROSPECT,
        {"token": pair.access},
        format="json",
        HTTP_AUTHORIZATION=basic(CLIENT, SECRET),
    )
    assert response.json()["active"] is True


def test_revocation_ends_the_session(enabled: Any, admin: Any) -> None:
    engine = get_engine()
    for revoked_by in ("refresh", "access"):
        pair = engine.login(str(admin.id))
        response = Service().revoke(getattr(pair, revoked_by))
        assert response.status_code == 200 and response.content == b""
        assert Service().introspect(pair.access).json() == INACTIVE
        with pytest.raises(keyfob.RevokedError):
            engine.refresh(pair.refresh)
        # Revoking again, or anything unknown, is still a 200 (RFC 7009 §2.2).
        assert Service().revoke(pair.refresh).status_code == 200
    for unknown in ("x", "a.b.c", keyfob.Engine("y" * 40).login("1").refresh):
        assert Service().revoke(unknown).status_code == 200


def test_a_permission_class_may_replace_client_credentials(
    enabled: Any, admin: Any, django_user_model: Any
) -> None:
    enabled["OAUTH_PERMISSION_CLASSES"] = ["rest_framework.permissions.IsAdminUser"]
    staff = django_user_model.objects.create_user("ops", password="ops", is_staff=True)
    staff_access = get_engine().login(str(staff.id)).access
    pair = get_engine().login(str(admin.id))
    as_staff = Service(f"Bearer {staff_access}").introspect(pair.access)
    assert as_staff.status_code == 200 and as_staff.json()["active"] is True
    not_staff = get_engine().login(str(admin.id)).access
    assert Service(f"Bearer {not_staff}").introspect(pair.access).status_code == 403
    # A client of OAUTH_CLIENTS is not a staff user.
    assert Service().introspect(pair.access).status_code == 403


def test_secrets_are_compared_whole() -> None:
    assert secret_matches("abc", "abc")
    for given, expected in (("abc", "abd"), ("ab", "abc"), ("abcd", "abc"), ("", "abc")):
        assert not secret_matches(given, expected)
    assert not secret_matches("anything", None)
    assert not secret_matches("", None)
