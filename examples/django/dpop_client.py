"""A DPoP client (RFC 9449) for the example API: its tokens are useless without its key.

    python dpop_client.py [URL]     # URL of the running example, default http://127.0.0.1:8000

It makes an ES256 key pair, logs in with a DPoP proof (so the session is bound to the key),
calls /api/hello/, refreshes, then plays a thief who stole the tokens but not the key, and
finally logs out. Exits 0 when the server behaved as described, 1 otherwise.

Needs: requests, PyJWT, cryptography (all in the repository's .venv). Start the server with
``make demo`` (user admin/admin) or ``python manage.py runserver``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import secrets
import sys
import time
from typing import Any

import jwt
import requests
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm


class DpopKey:
    """A client key pair; proofs carry the public half in their header."""

    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        self.public_jwk = ECAlgorithm.to_jwk(
            self.private_key.public_key(), as_dict=True
        )

    def proof(self, method: str, url: str, access: str | None = None) -> str:
        """A proof for one request: its method and URL, now, a fresh id, and with an access
        token its hash (``ath``)."""
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method,
            "htu": url,
            "iat": int(time.time()),
        }
        if access is not None:
            digest = hashlib.sha256(access.encode()).digest()
            claims["ath"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        headers = {"typ": "dpop+jwt", "jwk": self.public_jwk}
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers=headers)


def shorten(body: str) -> str:
    """The body with each token cut to its first characters (they are long, and secret)."""
    return re.sub(r"(eyJ[A-Za-z0-9_-]{8})[A-Za-z0-9_.-]+", r"\1…", body)


class Api:
    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = requests.Session()
        self.failures = 0

    def url(self, path: str) -> str:
        return f"{self.base}{path}"

    def post(
        self, path: str, body: dict[str, str], proof: str | None
    ) -> requests.Response:
        headers = {} if proof is None else {"DPoP": proof}
        return self.http.post(self.url(path), json=body, headers=headers, timeout=10)

    def get(
        self, path: str, authorization: str, proof: str | None
    ) -> requests.Response:
        headers = {"Authorization": authorization}
        if proof is not None:
            headers["DPoP"] = proof
        return self.http.get(self.url(path), headers=headers, timeout=10)

    def expect(self, what: str, response: requests.Response, status: int) -> Any:
        ok = response.status_code == status
        self.failures += not ok
        mark = "ok " if ok else "FAILED"
        print(f"[{mark}] {what}: {response.status_code} {shorten(response.text)}")
        challenge = response.headers.get("WWW-Authenticate")
        if challenge:
            print(f"         WWW-Authenticate: {challenge}")
        return response.json() if response.content else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("url", nargs="?", default="http://127.0.0.1:8000")
    parser.add_argument("--username", default="admin")
    parser.add_argument("--password", default="admin")
    args = parser.parse_args()
    api = Api(args.url)
    key = DpopKey()
    credentials = {"username": args.username, "password": args.password}

    print("== the client: log in with a DPoP proof, call the API, refresh")
    login = api.post(
        "/api/token/", credentials, key.proof("POST", api.url("/api/token/"))
    )
    tokens = api.expect("login with a proof", login, 200)
    if login.status_code != 200:
        return 1
    if tokens.get("token_type") != "DPoP":
        print(f"[FAILED] expected token_type DPoP, got {tokens.get('token_type')!r}")
        return 1
    access, refresh = tokens["access"], tokens["refresh"]
    hello_url = api.url("/api/hello/")
    api.expect(
        "GET /api/hello/ with Authorization: DPoP",
        api.get("/api/hello/", f"DPoP {access}", key.proof("GET", hello_url, access)),
        200,
    )
    refresh_url = api.url("/api/token/refresh/")
    renewed = api.expect(
        "refresh with a proof",
        api.post(
            "/api/token/refresh/", {"refresh": refresh}, key.proof("POST", refresh_url)
        ),
        200,
    )
    access, refresh = renewed["access"], renewed["refresh"]

    print("\n== a thief with the tokens (and an overheard proof), but not the key")
    thief = DpopKey()
    api.expect(
        "stolen refresh token, no proof",
        api.post("/api/token/refresh/", {"refresh": refresh}, None),
        400,
    )
    api.expect(
        "stolen refresh token, the thief's own key",
        api.post(
            "/api/token/refresh/",
            {"refresh": refresh},
            thief.proof("POST", refresh_url),
        ),
        400,
    )
    overheard = key.proof("GET", hello_url, access)
    api.expect(
        "the client's request", api.get("/api/hello/", f"DPoP {access}", overheard), 200
    )
    api.expect(
        "the same proof replayed",
        api.get("/api/hello/", f"DPoP {access}", overheard),
        401,
    )
    api.expect(
        "stolen access token as Bearer",
        api.get("/api/hello/", f"Bearer {access}", None),
        401,
    )
    api.expect(
        "stolen access token, the thief's own key",
        api.get("/api/hello/", f"DPoP {access}", thief.proof("GET", hello_url, access)),
        401,
    )

    print("\n== the client is not disturbed, then logs out")
    renewed = api.expect(
        "refresh with a proof",
        api.post(
            "/api/token/refresh/", {"refresh": refresh}, key.proof("POST", refresh_url)
        ),
        200,
    )
    access, refresh = renewed["access"], renewed["refresh"]
    api.expect(
        "GET /api/hello/",
        api.get("/api/hello/", f"DPoP {access}", key.proof("GET", hello_url, access)),
        200,
    )
    api.expect(
        "log out", api.post("/api/token/blacklist/", {"refresh": refresh}, None), 200
    )
    api.expect(
        "GET /api/hello/ after logout",
        api.get("/api/hello/", f"DPoP {access}", key.proof("GET", hello_url, access)),
        401,
    )

    print(
        f"\n{'all as expected' if api.failures == 0 else f'{api.failures} unexpected answers'}"
    )
    return 0 if api.failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
