"""Asymmetric keys from Python (PEM text or bytes, as `cryptography` writes them) and key
rotation through `key_id` + `verifying_keys`, checked both ways against PyJWT."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import keyfob
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from engine_support import SECRET, b64url, segments


def private_key(algorithm: str) -> Any:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def pem_pair(key: Any) -> tuple[bytes, bytes]:
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def simplejwt_claims() -> dict[str, Any]:
    now = int(time.time())
    return {"token_type": "access", "exp": now + 300, "iat": now, "jti": "f" * 32, "user_id": 3}


@pytest.mark.parametrize("algorithm", ["EdDSA", "ES256", "RS256"])
def test_asymmetric_tokens_interoperate_with_pyjwt(algorithm: str) -> None:
    key = private_key(algorithm)
    private, public = pem_pair(key)
    engine = keyfob.Engine(private, algorithm=algorithm, accept_sessionless=True)
    pair = engine.login("u")
    assert segments(pair.access)[0]["alg"] == algorithm
    assert jwt.decode(pair.access, public, algorithms=[algorithm])["user_id"] == "u"
    minted = jwt.encode(simplejwt_claims(), key, algorithm=algorithm)
    assert engine.validate(minted)["user_id"] == 3
    # The PEM as text is the same key.
    same = keyfob.Engine(private.decode(), algorithm=algorithm, accept_sessionless=True)
    assert same.verify(minted)["jti"] == "f" * 32


def test_a_key_that_does_not_fit_the_algorithm_is_a_config_error() -> None:
    private, _ = pem_pair(private_key("EdDSA"))
    with pytest.raises(keyfob.ConfigError):
        keyfob.Engine(private, algorithm="ES256")
    with pytest.raises(keyfob.ConfigError):
        keyfob.Engine("not a pem key, though long enough to be a secret", algorithm="RS256")


def test_hs_and_rs_confusion_is_refused() -> None:
    private, public = pem_pair(private_key("RS256"))
    engine = keyfob.Engine(private, algorithm="RS256", accept_sessionless=True)
    # The classic attack: HS256 with the (public) RSA key as the HMAC secret. PyJWT refuses
    # to build it, so it is signed by hand.
    signing_input = (
        b64url(b'{"alg":"HS256","typ":"JWT"}')
        + "."
        + b64url(json.dumps(simplejwt_claims()).encode())
    )
    mac = hmac.new(public, signing_input.encode(), hashlib.sha256).digest()
    with pytest.raises(keyfob.AlgorithmNotAllowedError):
        engine.validate(signing_input + "." + b64url(mac))


def test_rotating_the_signing_key_keeps_old_tokens_valid() -> None:
    old_secret, new_secret = SECRET, "the-new-signing-secret-0123456789abcdef"
    old_token = jwt.encode(simplejwt_claims(), old_secret, "HS256", headers={"kid": "2024"})
    engine = keyfob.Engine(
        new_secret,
        key_id="2025",
        verifying_keys={"2024": old_secret},
        accept_sessionless=True,
    )
    assert engine.validate(old_token)["user_id"] == 3
    new_access = engine.login("u").access
    assert segments(new_access)[0]["kid"] == "2025"
    assert jwt.decode(new_access, new_secret, algorithms=["HS256"])["user_id"] == "u"
    unknown = jwt.encode(simplejwt_claims(), old_secret, "HS256", headers={"kid": "2023"})
    with pytest.raises(keyfob.UnknownKeyError):
        engine.validate(unknown)
