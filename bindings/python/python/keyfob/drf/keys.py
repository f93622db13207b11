"""Key formats keyfob.drf accepts beyond the engine's: an EC P-256 private key in SEC1 PEM
(``-----BEGIN EC PRIVATE KEY-----``, what ``openssl ecparam -genkey`` writes and simplejwt
accepts) is re-wrapped as the PKCS#8 PEM the engine reads. Only the wrapping changes."""

from __future__ import annotations

import base64
import binascii
from typing import Any

_SEC1_BEGIN = "-----BEGIN EC PRIVATE KEY-----"
_SEC1_END = "-----END EC PRIVATE KEY-----"
# AlgorithmIdentifier { id-ecPublicKey, prime256v1 }, DER.
_EC_P256_ALGORITHM = bytes.fromhex("301306072a8648ce3d020106082a8648ce3d030107")
_P256_OID = bytes.fromhex("06082a8648ce3d030107")


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        size = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(size)]) + size
    return bytes([tag]) + length + body


def engine_key(key: Any) -> Any:
    """``key`` as the engine reads it: a SEC1 P-256 PEM becomes PKCS#8; anything else
    (including SEC1 keys on other curves, which the engine then refuses) is unchanged."""
    text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
    if not isinstance(text, str) or _SEC1_BEGIN not in text:
        return key
    try:
        body = text.split(_SEC1_BEGIN, 1)[1].split(_SEC1_END, 1)[0]
        sec1 = base64.b64decode("".join(body.split()), validate=True)
    except (IndexError, binascii.Error, ValueError):
        return key
    if _P256_OID not in sec1:
        return key
    pkcs8 = base64.b64encode(
        _der(0x30, bytes.fromhex("020100") + _EC_P256_ALGORITHM + _der(0x04, sec1))
    ).decode()
    lines = "\n".join(pkcs8[i : i + 64] for i in range(0, len(pkcs8), 64))
    return f"-----BEGIN PRIVATE KEY-----\n{lines}\n-----END PRIVATE KEY-----\n"
