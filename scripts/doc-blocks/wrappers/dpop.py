"""Wrapper for `python fragment=dpop` blocks: an `engine`, a `user_id`, and a DPoP `client`
whose `proof(method, url, access=None)` signs a proof for one request with PyJWT (as
examples/django/dpop_client.py does)."""

import base64
import hashlib
import secrets
import time

import jwt
import keyfob
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


class Client:
    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_jwk = ECAlgorithm.to_jwk(self.private_key.public_key(), as_dict=True)

    def proof(self, method, url, access=None):
        claims = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url,
                  "iat": int(time.time())}
        if access is not None:
            digest = hashlib.sha256(access.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        headers = {"typ": "dpop+jwt", "jwk": self.public_jwk}
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers=headers)


engine = keyfob.Engine("change-me-to-32-or-more-random-bytes!")
user_id = "alice"
client = Client()
public_jwk = client.public_jwk

BLOCK
