"""Other services checking the example server's tokens with libraries that share no
code with keyfob: PyJWT's PyJWKClient and jwcrypto verify access tokens with the keys from
/.well-known/jwks.json, before and after a key rotation, for EdDSA, ES256 and RS256; authlib's
OAuth 2 client introspects (RFC 7662) and revokes (RFC 7009) them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from example_server import ExampleServer, prepare_database
from jwcrypto import jwk as jwcrypto_jwk
from jwcrypto import jws as jwcrypto_jws
from jwcrypto import jwt as jwcrypto_jwt

from .test_drop_in import tampered

CLIENT_ID, CLIENT_SECRET = "gateway", "gateway-secret-0123456789"


def private_pem(algorithm: str) -> bytes:
    key: Any
    if algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    elif algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("verifying-elsewhere")


@pytest.fixture(scope="module")
def db_path(workdir: Path) -> Path:
    return prepare_database(workdir)


@pytest.fixture
def server(workdir: Path, db_path: Path) -> Iterator[ExampleServer]:
    running = ExampleServer(workdir, db_path)
    yield running
    running.stop()


def login(server: ExampleServer) -> dict[str, str]:
    response = requests.post(
        server.url + "/api/token/", json={"username": "admin", "password": "admin"}, timeout=10
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, str] = response.json()
    return tokens


def verify_with_jwcrypto(jwks_url: str, token: str, algorithm: str) -> dict[str, Any]:
    """jwcrypto's check with the key the token's kid names in the published set."""
    keys = jwcrypto_jwk.JWKSet.from_json(requests.get(jwks_url, timeout=10).text)
    key = keys.get_key(jwt.get_unverified_header(token)["kid"])
    assert key is not None
    checked = jwcrypto_jwt.JWT(jwt=token, key=key, algs=[algorithm], expected_type="JWS")
    claims: dict[str, Any] = json.loads(checked.claims)
    return claims


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256"])
def test_independent_verifiers_use_the_jwks_across_a_rotation(
    server: ExampleServer, workdir: Path, algorithm: str
) -> None:
    old_key, new_key = workdir / f"{algorithm}-old.pem", workdir / f"{algorithm}-new.pem"
    old_key.write_bytes(private_pem(algorithm))
    new_key.write_bytes(private_pem(algorithm))
    jwks_url = server.url + "/.well-known/jwks.json"

    server.start(
        KEYFOB_ALGORITHM=algorithm, KEYFOB_SIGNING_KEY_FILE=str(old_key), KEYFOB_KEY_ID="old"
    )
    before = login(server)
    response = requests.get(jwks_url, timeout=10)
    assert response.status_code == 200 and "max-age=300" in response.headers["Cache-Control"]
    assert [k["kid"] for k in response.json()["keys"]] == ["old"]
    # PyJWT: the client a gateway or a Python service would use, fetching the set itself.
    pyjwk_client = jwt.PyJWKClient(jwks_url)
    key = pyjwk_client.get_signing_key_from_jwt(before["access"])
    assert key.key_id == "old"
    claims = jwt.decode(before["access"], key.key, algorithms=[algorithm])
    assert claims["token_type"] == "access" and claims["user_id"] == "1"
    assert verify_with_jwcrypto(jwks_url, before["access"], algorithm)["sid"] == claims["sid"]
    # Both refuse a token altered after signing.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(tampered(before["access"]), key.key, algorithms=[algorithm])
    with pytest.raises(jwcrypto_jws.InvalidJWSSignature):
        verify_with_jwcrypto(jwks_url, tampered(before["access"]), algorithm)

    # Rotation: a new key signs under a new kid; the old one is kept for verification.
    server.stop()
    server.start(
        KEYFOB_ALGORITHM=algorithm,
        KEYFOB_SIGNING_KEY_FILE=str(new_key),
        KEYFOB_KEY_ID="new",
        KEYFOB_VERIFYING_KEY_FILES=f"old={old_key}",
    )
    after = login(server)
    assert [k["kid"] for k in requests.get(jwks_url, timeout=10).json()["keys"]] == [
        "new",
        "old",
    ]
    # A verifier fetching the set now (its cached copy expired) verifies old and new tokens.
    pyjwk_client = jwt.PyJWKClient(jwks_url)
    for token, kid in ((after["access"], "new"), (before["access"], "old")):
        key = pyjwk_client.get_signing_key_from_jwt(token)
        assert key.key_id == kid
        assert jwt.decode(token, key.key, algorithms=[algorithm])["user_id"] == "1"
        assert verify_with_jwcrypto(jwks_url, token, algorithm)["token_type"] == "access"
    # keyfob itself agrees: the new login's token works on the server.
    hello = requests.get(
        server.url + "/api/hello/",
        headers={"Authorization": f"Bearer {after['access']}"},
        timeout=10,
    )
    assert hello.json() == {"message": "Hello, World!"}


def test_an_oauth_client_introspects_and_revokes(server: ExampleServer) -> None:
    server.start(KEYFOB_OAUTH_CLIENTS=f"{CLIENT_ID}:{CLIENT_SECRET},other:other-secret")
    introspect, revoke = server.url + "/oauth/introspect/", server.url + "/oauth/revoke/"
    tokens = login(server)
    client = OAuth2Session(CLIENT_ID, CLIENT_SECRET)

    answer = client.introspect_token(introspect, token=tokens["access"])
    assert answer.status_code == 200
    body = answer.json()
    assert body["active"] is True and body["token_use"] == "access"
    assert body["sub"] == body["user_id"] == "1" and body["token_type"] == "Bearer"
    claims = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert (body["exp"], body["iat"], body["jti"], body["sid"]) == (
        claims["exp"],
        claims["iat"],
        claims["jti"],
        claims["sid"],
    )
    assert client.introspect_token(introspect, token="not-a-token").json() == {"active": False}

    # A client with a wrong secret is turned away.
    intruder = OAuth2Session(CLIENT_ID, "wrong-secret")
    refused = intruder.introspect_token(introspect, token=tokens["access"])
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    assert intruder.revoke_token(revoke, token=tokens["refresh"]).status_code == 401

    # Revoking the refresh token ends the session: introspection and the API both see it.
    revoked = client.revoke_token(revoke, token=tokens["refresh"], token_type_hint="refresh_token")
    assert revoked.status_code == 200
    for token in (tokens["access"], tokens["refresh"]):
        assert client.introspect_token(introspect, token=token).json() == {"active": False}
    hello = requests.get(
        server.url + "/api/hello/",
        headers={"Authorization": f"Bearer {tokens['access']}"},
        timeout=10,
    )
    assert hello.status_code == 401 and "blacklisted" in hello.text
    # Unknown and already-revoked tokens: 200 all the same (RFC 7009 §2.2).
    assert client.revoke_token(revoke, token=tokens["refresh"]).status_code == 200
    assert client.revoke_token(revoke, token="garbage").status_code == 200
