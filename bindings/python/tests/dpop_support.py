"""DPoP proofs for the tests, made with PyJWT and `cryptography` (not with keyfob): a client
key pair and proof JWTs over a request (RFC 9449 §4.2)."""

from __future__ import annotations

import hashlib
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from engine_support import b64url
from jwt.algorithms import ECAlgorithm, OKPAlgorithm


class DpopKey:
    """A client's DPoP key: ES256 (P-256) or EdDSA (Ed25519)."""

    def __init__(self, alg: str = "ES256") -> None:
        self.alg = alg
        self.private_key: Any
        if alg == "ES256":
            self.private_key = ec.generate_private_key(ec.SECP256R1())
            self.jwk: dict[str, Any] = ECAlgorithm.to_jwk(
                self.private_key.public_key(), as_dict=True
            )
        elif alg == "EdDSA":
            self.private_key = ed25519.Ed25519PrivateKey.generate()
            self.jwk = OKPAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)
        else:
            raise ValueError(alg)

    @property
    def thumbprint(self) -> str:
        """RFC 7638, computed here independently of keyfob."""
        members = ("crv", "kty", "x", "y") if self.jwk["kty"] == "EC" else ("crv", "kty", "x")
        canonical = "{" + ",".join(f'"{m}":"{self.jwk[m]}"' for m in members) + "}"
        return b64url(hashlib.sha256(canonical.encode()).digest())

    def proof(
        self,
        method: str,
        url: str,
        *,
        access: str | None = None,
        iat: int | None = None,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        """A proof for `method url`; with `access`, carrying its `ath`."""
        payload: dict[str, Any] = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()) if iat is None else iat,
        }
        if access is not None:
            payload["ath"] = access_token_hash(access)
        payload.update(claims)
        headers = {"typ": "dpop+jwt", "jwk": self.jwk, **(header or {})}
        return jwt.encode(payload, self.private_key, algorithm=self.alg, headers=headers)


def access_token_hash(access: str) -> str:
    return b64url(hashlib.sha256(access.encode()).digest())
