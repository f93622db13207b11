"""The JWK Set endpoint (/.well-known/jwks.json in the example project): the engine's public
keys with cache headers and ETag revalidation; nothing for HMAC keys."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from keyfob.drf.engine import get_engine

URL = "/.well-known/jwks.json"


def ed25519_pem() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def eddsa(settings: Any, clock: Any) -> dict[str, Any]:
    private, _ = ed25519_pem()
    _, old_public = ed25519_pem()
    settings.KEYFOB = {
        "CLOCK": clock,
        "ALGORITHM": "EdDSA",
        "SIGNING_KEY": private,
        "ENGINE_OPTIONS": {"key_id": "2024-07", "verifying_keys": {"2024-01": old_public}},
    }
    return settings.KEYFOB


def test_hmac_keys_publish_nothing() -> None:
    response = Client().get(URL)
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "jwks_unavailable"
    assert "HS256 keys are shared secrets and are never published" in body["detail"]


def test_the_set_is_the_engines_with_cache_headers(eddsa: Any) -> None:
    response = Client().get(URL)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    published = json.loads(response.content)
    assert published == get_engine().jwks()
    assert [k["kid"] for k in published["keys"]] == ["2024-07", "2024-01"]
    assert all(k["use"] == "sig" and k["alg"] == "EdDSA" for k in published["keys"])
    cache = {part.strip() for part in response["Cache-Control"].split(",")}
    assert cache == {"public", "max-age=300"}
    assert response["ETag"].startswith('"') and len(response["ETag"]) == 34


def test_a_verifier_revalidates_with_its_etag(eddsa: Any) -> None:
    client = Client()
    first = client.get(URL)
    again = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == first["ETag"] and "max-age=300" in again["Cache-Control"]
    assert client.get(URL, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    head = client.head(URL)
    assert head.status_code == 200 and head["ETag"] == first["ETag"]
    assert client.post(URL).status_code == 405


def test_a_rotation_changes_the_etag(eddsa: Any, settings: Any) -> None:
    before = Client().get(URL)
    new_private, _ = ed25519_pem()
    settings.KEYFOB = {**eddsa, "SIGNING_KEY": new_private}
    after = Client().get(URL)
    assert after["ETag"] != before["ETag"]
    assert Client().get(URL, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


def test_max_age_follows_the_setting(eddsa: Any) -> None:
    eddsa["JWKS_MAX_AGE"] = timedelta(hours=1)
    assert "max-age=3600" in Client().get(URL)["Cache-Control"]


def test_a_signing_key_without_key_id_is_a_configuration_error(settings: Any, clock: Any) -> None:
    private, _ = ed25519_pem()
    settings.KEYFOB = {"CLOCK": clock, "ALGORITHM": "EdDSA", "SIGNING_KEY": private}
    with pytest.raises(ImproperlyConfigured, match="key_id"):
        Client().get(URL)
