"""Constants and helpers shared by the keyfob module tests (importable because pytest puts
this directory on sys.path for the test modules beside it)."""

from __future__ import annotations

import base64
import json
from typing import Any

SECRET = "keyfob-python-tests-secret-0123456789abcdef"
"""An HS256 secret (at least 32 bytes) shared by the tests and PyJWT."""

START = 1_700_000_000
"""Where the manual clock starts (Unix seconds)."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    """A compact JWS's header and payload (decoded, unverified) and its signature segment."""
    header, payload, signature = token.split(".")

    def decode(segment: str) -> dict[str, Any]:
        decoded: dict[str, Any] = json.loads(
            base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        )
        return decoded

    return decode(header), decode(payload), signature
