"""Engine.jwks(): the public keys as a JWK Set whose parameters match what the
`cryptography` package derives on its own from the same keys, in every encoding keyfob
reads; PyJWT verifies tokens with the published keys alone, across a rotation; HMAC keys are
never published."""

from __future__ import annotations

import base64
import json
from typing import Any

import jwt
import keyfob
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from engine_support import SECRET

ALGORITHMS = ("EdDSA", "ES256", "RS256")


def b64url_int(value: int) -> str:
    raw = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def new_key(algorithm: str) -> Any:
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "ES256":
        return ec.generate_private_key(ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def expected_params(key: Any) -> dict[str, str]:
    """The JWK parameters, from cryptography's own view of the public key."""
    public = key.public_key()
    if isinstance(public, ed25519.Ed25519PublicKey):
        raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(raw)}
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return {
            "kty": "EC",
            "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")),
            "y": b64url(numbers.y.to_bytes(32, "big")),
        }
    assert isinstance(public, rsa.RSAPublicKey)
    rsa_numbers = public.public_numbers()
    return {"kty": "RSA", "n": b64url_int(rsa_numbers.n), "e": b64url_int(rsa_numbers.e)}


def encodings(key: Any) -> list[bytes]:
    """Every PEM encoding of `key` keyfob reads: PKCS#8 and SPKI, and for RSA PKCS#1 too."""
    pkcs8 = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    spki = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    found = [pkcs8, spki]
    if isinstance(key, rsa.RSAPrivateKey):
        found.append(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            )
        )
        found.append(
            key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.PKCS1
            )
        )
    return found


def pkcs8(key: Any) -> bytes:
    return encodings(key)[0]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_the_jwk_is_the_public_key_cryptography_sees(algorithm: str) -> None:
    key = new_key(algorithm)
    engine = keyfob.Engine(pkcs8(key), algorithm=algorithm, key_id="signing")
    (jwk,) = engine.jwks()["keys"]
    assert jwk == {**expected_params(key), "kid": "signing", "use": "sig", "alg": algorithm}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_every_encoding_of_a_verifying_key_publishes_the_same_jwk(algorithm: str) -> None:
    signing, probe = new_key(algorithm), new_key(algorithm)
    want = expected_params(probe)
    for i, pem in enumerate(encodings(probe)):
        engine = keyfob.Engine(
            pkcs8(signing),
            algorithm=algorithm,
            key_id="signing",
            verifying_keys={f"probe-{i}": pem},
        )
        keys = engine.jwks()["keys"]
        assert [k["kid"] for k in keys] == ["signing", f"probe-{i}"]
        assert keys[1] == {**want, "kid": f"probe-{i}", "use": "sig", "alg": algorithm}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_pyjwt_verifies_with_the_published_keys_across_a_rotation(algorithm: str) -> None:
    old, new = new_key(algorithm), new_key(algorithm)
    before = keyfob.Engine(pkcs8(old), algorithm=algorithm, key_id="old")
    old_token = before.login("alice").access
    after = keyfob.Engine(
        pkcs8(new),
        algorithm=algorithm,
        key_id="new",
        verifying_keys={"old": encodings(old)[1]},
    )
    new_token = after.login("bob").access
    published = jwt.PyJWKSet.from_json(json.dumps(after.jwks()))
    for token, user in ((old_token, "alice"), (new_token, "bob")):
        kid = jwt.get_unverified_header(token)["kid"]
        claims = jwt.decode(token, published[kid].key, algorithms=[algorithm])
        assert claims["user_id"] == user
    # The set from before the rotation has no key for the new token.
    stale = jwt.PyJWKSet.from_json(json.dumps(before.jwks()))
    with pytest.raises(KeyError):
        stale["new"]
    # A key is not interchangeable with another's kid.
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(new_token, published["old"].key, algorithms=[algorithm])


@pytest.mark.parametrize("algorithm", ("HS256", "HS384", "HS512"))
def test_hmac_keys_are_never_published(algorithm: str) -> None:
    engine = keyfob.Engine(SECRET, algorithm=algorithm, key_id="k", verifying_keys={"o": SECRET})
    with pytest.raises(keyfob.ConfigError, match="never published") as caught:
        engine.jwks()
    assert SECRET not in str(caught.value)


def test_a_signing_key_without_key_id_is_refused() -> None:
    engine = keyfob.Engine(pkcs8(new_key("EdDSA")), algorithm="EdDSA")
    with pytest.raises(keyfob.ConfigError, match="key_id"):
        engine.jwks()


def test_each_call_returns_a_fresh_dict() -> None:
    engine = keyfob.Engine(pkcs8(new_key("ES256")), algorithm="ES256", key_id="k")
    first = engine.jwks()
    first["keys"].clear()
    assert len(engine.jwks()["keys"]) == 1
