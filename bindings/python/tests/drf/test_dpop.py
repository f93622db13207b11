"""keyfob.drf: DPoP-bound tokens (RFC 9449) and KEYFOB["CLIENT_BINDING"].

Requests go through Django's test client to the keyfob URLs (``/kf/api/``), so the URL a
proof must name is ``http://testserver/kf/api/...``. Proofs are signed with PyJWT and
`cryptography` (tests/dpop_support.py); their `iat` is the engine's manual clock."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from dpop_support import DpopKey

from .conftest import Flavor, Reply
from .test_drop_in import token_not_valid

pytestmark = pytest.mark.django_db

BASE = "http://testserver/kf/api/"
TOKEN = BASE + "token/"
REFRESH = BASE + "token/refresh/"
HELLO = BASE + "hello/"
HELLO_BODY = {"message": "Hello, World!"}


def claims_of(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class Client:
    """The keyfob flavour's test client, with a DPoP key."""

    def __init__(self, kf: Flavor, key: DpopKey) -> None:
        self.kf = kf
        self.key = key

    def proof(self, method: str, url: str, **claims: Any) -> str:
        claims.setdefault("iat", self.kf.clock.now())
        return self.key.proof(method, url, **claims)

    def post(self, path: str, data: Any, proof: str | None) -> Reply:
        extra = {} if proof is None else {"HTTP_DPOP": proof}
        response = self.kf.client.post(self.kf.prefix + path, data, format="json", **extra)
        return self.kf._reply(response)

    def get(self, path: str, authorization: str | None, proof: str | None) -> Reply:
        extra = {}
        if authorization is not None:
            extra["HTTP_AUTHORIZATION"] = authorization
        if proof is not None:
            extra["HTTP_DPOP"] = proof
        return self.kf._reply(self.kf.client.get(self.kf.prefix + path, **extra))

    def login(self) -> dict[str, str]:
        reply = self.post(
            "token/", {"username": "admin", "password": "admin"}, self.proof("POST", TOKEN)
        )
        assert reply.status == 200, reply.raw
        return reply.data

    def refresh(self, refresh: str, proof: str | None = "fresh") -> Reply:
        if proof == "fresh":
            proof = self.proof("POST", REFRESH)
        return self.post("token/refresh/", {"refresh": refresh}, proof)

    def hello(self, access: str, proof: str | None = "fresh", scheme: str = "DPoP") -> Reply:
        if proof == "fresh":
            proof = self.proof("GET", HELLO, access=access)
        return self.get("hello/", f"{scheme} {access}", proof)


@pytest.fixture(params=["ES256", "EdDSA"])
def client(request: pytest.FixtureRequest, kf: Flavor) -> Client:
    return Client(kf, DpopKey(request.param))


def proof_refused(reply: Reply) -> None:
    """A protected view's answer to a bad proof: RFC 9449 §7.1's challenge, a JSON body."""
    assert reply.status == 401, reply.raw
    assert reply.www_authenticate is not None
    assert reply.www_authenticate.startswith('DPoP error="invalid_dpop_proof", error_description="')
    assert reply.www_authenticate.endswith(', algs="ES256 EdDSA"')
    assert reply.data["code"] == "invalid_dpop_proof" and reply.data["detail"]
    assert reply.headers["Content-Type"] == "application/json"


def token_endpoint_refused(reply: Reply) -> None:
    """A token endpoint's answer to a bad proof: RFC 9449 §5's OAuth error response."""
    assert reply.status == 400, reply.raw
    assert set(reply.data) == {"error", "error_description"}
    assert reply.data["error"] == "invalid_dpop_proof"


# -- the happy path --------------------------------------------------------------------------


def test_a_dpop_login_gets_bound_tokens(client: Client) -> None:
    tokens = client.login()
    assert set(tokens) == {"refresh", "access", "token_type"}
    assert tokens["token_type"] == "DPoP"
    for kind in ("access", "refresh"):
        assert claims_of(tokens[kind])["cnf"] == {"jkt": client.key.thumbprint}

    hello = client.hello(tokens["access"])
    assert (hello.status, hello.data) == (200, HELLO_BODY)

    renewed = client.refresh(tokens["refresh"])
    assert renewed.status == 200, renewed.raw
    assert set(renewed.data) == {"access", "refresh", "token_type"}
    assert renewed.data["token_type"] == "DPoP"
    assert claims_of(renewed.data["access"])["cnf"] == {"jkt": client.key.thumbprint}
    assert client.hello(renewed.data["access"]).status == 200

    # verify and logout need no proof; logout ends the bound session.
    assert client.post("token/verify/", {"token": renewed.data["access"]}, None).status == 200
    assert client.post("token/blacklist/", {"refresh": renewed.data["refresh"]}, None).status == 200
    gone = client.hello(renewed.data["access"])
    assert gone.status == 401 and gone.www_authenticate is not None
    assert gone.www_authenticate.startswith('DPoP error="invalid_token"')
    assert gone.data == {"detail": "Token is blacklisted", "code": "token_not_valid"}


def test_a_login_without_dpop_is_simplejwts(client: Client, kf: Flavor) -> None:
    tokens = kf.login()
    assert set(tokens) == {"refresh", "access"}
    assert "cnf" not in claims_of(tokens["access"])
    # Proofs sent along with unbound tokens change nothing.
    renewed = client.refresh(tokens["refresh"])
    assert (renewed.status, set(renewed.data)) == (200, {"access", "refresh"})
    assert kf.hello(renewed.data["access"]).data == HELLO_BODY


def test_the_query_string_is_not_part_of_htu(client: Client) -> None:
    tokens = client.login()
    proof = client.proof("GET", HELLO, access=tokens["access"])
    reply = client.get("hello/?page=2", f"DPoP {tokens['access']}", proof)
    assert (reply.status, reply.data) == (200, HELLO_BODY)


# -- a stolen access token -------------------------------------------------------------------


def test_a_bound_access_token_sent_as_bearer_is_refused(client: Client, kf: Flavor) -> None:
    tokens = client.login()
    reply = kf.hello(tokens["access"])
    assert reply.status == 401
    # simplejwt's body, DPoP's challenge (RFC 9449 §7.2).
    assert reply.data == token_not_valid("Token is invalid")
    assert reply.www_authenticate is not None
    assert reply.www_authenticate.startswith('DPoP error="invalid_token"')


def test_unbound_bearer_failures_keep_the_bearer_challenge(kf: Flavor) -> None:
    tokens = kf.login()
    reply = kf.hello(tokens["access"][:-2])
    assert reply.status == 401 and reply.www_authenticate == 'Bearer realm="api"'


@pytest.mark.parametrize(
    "bad_proof",
    [
        "missing",
        "other key",
        "wrong htu",
        "wrong htm",
        "no ath",
        "stale iat",
        "two proofs",
        "not a jwt",
    ],
)
def test_resource_requests_need_a_good_proof(client: Client, bad_proof: str) -> None:
    tokens = client.login()
    access = tokens["access"]
    proof = {
        "missing": None,
        "other key": DpopKey().proof("GET", HELLO, access=access, iat=client.kf.clock.now()),
        "wrong htu": client.proof("GET", BASE + "who/", access=access),
        "wrong htm": client.proof("POST", HELLO, access=access),
        "no ath": client.proof("GET", HELLO),
        "stale iat": client.proof("GET", HELLO, access=access, iat=client.kf.clock.now() - 61),
        "two proofs": client.proof("GET", HELLO, access=access)
        + ","
        + client.proof("GET", HELLO, access=access),
        "not a jwt": "not-a-proof",
    }[bad_proof]
    proof_refused(client.hello(access, proof))
    # The rightful client is not disturbed.
    assert client.hello(access).status == 200


def test_a_replayed_resource_proof_is_refused(client: Client) -> None:
    tokens = client.login()
    proof = client.proof("GET", HELLO, access=tokens["access"])
    assert client.hello(tokens["access"], proof).status == 200
    replayed = client.hello(tokens["access"], proof)
    proof_refused(replayed)
    assert "replayed" in replayed.data["detail"] or "replay" in replayed.www_authenticate


def test_an_unbound_token_with_the_dpop_scheme_is_refused(client: Client, kf: Flavor) -> None:
    tokens = kf.login()
    reply = client.hello(tokens["access"])
    assert reply.status == 401
    assert reply.www_authenticate is not None
    assert reply.www_authenticate.startswith('DPoP error="invalid_token"')
    assert reply.data["code"] == "token_not_valid"


# -- a stolen refresh token ------------------------------------------------------------------


@pytest.mark.parametrize(
    "theft", ["without the key", "with another key", "wrong htu", "wrong htm", "stale iat"]
)
def test_a_stolen_refresh_token_is_refused(client: Client, theft: str) -> None:
    tokens = client.login()
    now = client.kf.clock.now()
    proof = {
        "without the key": None,
        "with another key": DpopKey().proof("POST", REFRESH, iat=now),
        "wrong htu": client.proof("POST", TOKEN),
        "wrong htm": client.proof("PUT", REFRESH),
        "stale iat": client.proof("POST", REFRESH, iat=now - 61),
    }[theft]
    token_endpoint_refused(client.refresh(tokens["refresh"], proof))
    # Nothing was revoked or rotated: the rightful client refreshes with the same token.
    assert client.refresh(tokens["refresh"]).status == 200


def test_a_replayed_refresh_proof_is_refused(client: Client) -> None:
    tokens = client.login()
    overheard = client.proof("POST", REFRESH)
    renewed = client.refresh(tokens["refresh"], overheard)
    assert renewed.status == 200
    replayed = client.refresh(renewed.data["refresh"], overheard)
    token_endpoint_refused(replayed)
    assert "replayed" in replayed.data["error_description"]


def test_two_proofs_at_the_token_endpoint_are_refused(client: Client) -> None:
    two = client.proof("POST", TOKEN) + ", " + client.proof("POST", TOKEN)
    reply = client.post("token/", {"username": "admin", "password": "admin"}, two)
    token_endpoint_refused(reply)


def test_a_bad_login_proof_issues_nothing(client: Client) -> None:
    reply = client.post(
        "token/", {"username": "admin", "password": "admin"}, client.proof("POST", REFRESH)
    )
    token_endpoint_refused(reply)
    assert "htu" in reply.data["error_description"]


def test_wrong_credentials_are_checked_before_the_proof(client: Client) -> None:
    reply = client.post("token/", {"username": "admin", "password": "nope"}, "garbage")
    assert reply.status == 401
    assert reply.data == {"detail": "No active account found with the given credentials"}


# -- client-id binding -----------------------------------------------------------------------


def client_from_header(request: Any) -> str | None:
    """The test's CLIENT_BINDING: a device id header (a real app would authenticate it)."""
    value = request.META.get("HTTP_X_DEVICE_ID")
    return value if isinstance(value, str) else None


def test_client_binding_setting(settings: Any, kf: Flavor) -> None:
    settings.KEYFOB = {**settings.KEYFOB, "CLIENT_BINDING": f"{__name__}.client_from_header"}
    credentials = {"username": "admin", "password": "admin"}
    login = kf.client.post(kf.prefix + "token/", credentials, format="json", HTTP_X_DEVICE_ID="d1")
    tokens = login.json()
    assert set(tokens) == {"refresh", "access"}  # no DPoP, so a Bearer response

    def refresh(refresh: str, device: str | None) -> Any:
        extra = {} if device is None else {"HTTP_X_DEVICE_ID": device}
        return kf.client.post(
            kf.prefix + "token/refresh/", {"refresh": refresh}, format="json", **extra
        )

    same = refresh(tokens["refresh"], "d1")
    assert same.status_code == 200
    other = refresh(same.json()["refresh"], "d2")
    assert other.status_code == 401
    assert other.json() == {"detail": "Token is invalid", "code": "token_not_valid"}
    # The mismatch ended the session: the rightful device is logged out too.
    assert refresh(same.json()["refresh"], "d1").status_code == 401
    assert kf.hello(same.json()["access"]).status == 401


def test_bind_validate_checks_the_client_on_every_request(settings: Any, kf: Flavor) -> None:
    settings.KEYFOB = {
        **settings.KEYFOB,
        "CLIENT_BINDING": client_from_header,
        "ENGINE_OPTIONS": {"bind_validate": True, "client_mismatch_revokes": False},
    }
    credentials = {"username": "admin", "password": "admin"}
    login = kf.client.post(kf.prefix + "token/", credentials, format="json", HTTP_X_DEVICE_ID="d1")
    access = login.json()["access"]

    def hello(device: str | None) -> int:
        extra = {} if device is None else {"HTTP_X_DEVICE_ID": device}
        response = kf.client.get(
            kf.prefix + "hello/", HTTP_AUTHORIZATION=f"Bearer {access}", **extra
        )
        return int(response.status_code)

    assert hello("d1") == 200
    assert hello("d2") == 401
    assert hello(None) == 401
    assert hello("d1") == 200  # refused, not revoked (client_mismatch_revokes off)
