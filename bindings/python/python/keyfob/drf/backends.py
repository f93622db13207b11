"""``TokenBackend``: simplejwt's JWT encoder/decoder, signing and checking with keyfob.

``encode(payload)`` signs any claims (``exp``/``iat``/``nbf`` may be datetimes; ``aud`` and
``iss`` are added when set); ``decode(token)`` checks the signature and then the claims as
simplejwt (through PyJWT) does: ``exp``, ``nbf`` and ``iat`` against now with ``leeway``,
``aud`` when an audience is set, ``iss`` when an issuer is set. No session is involved: the
token classes (``keyfob.drf.tokens``) check sessions.

Differences, on purpose: keys must be ones keyfob accepts (an HMAC secret of at least 32
bytes; an RSA, EC P-256 or Ed25519 key fitting the algorithm); ``jwk_url`` is refused, since
keyfob never fetches keys. Such a backend can be built, and raises ``TokenBackendError`` naming
the rule on first use.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from calendar import timegm
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from typing import Any

from django.utils.translation import gettext_lazy as _

import keyfob

from .exceptions import EngineError, TokenBackendError, TokenBackendExpiredToken
from .keys import engine_key
from .settings import api_settings
from .utils import format_lazy

# keyfob never fetches keys, so there is no JWK client (simplejwt's flag, for code that reads it).
JWK_CLIENT_AVAILABLE = False

# The algorithm names simplejwt accepts. keyfob signs HS256/384/512, RS256, ES256 and EdDSA;
# a backend naming another one raises TokenBackendError when it is used.
ALLOWED_ALGORITHMS = {
    "HS256",
    "HS384",
    "HS512",
    "RS256",
    "RS384",
    "RS512",
    "ES256",
    "ES384",
    "ES512",
    "PS256",
    "PS384",
    "PS512",
    "EdDSA",
}

_TIME_CLAIMS = ("exp", "iat", "nbf")


def _epoch(value: Any) -> Any:
    # As PyJWT: datetimes in the time claims become whole Unix seconds.
    return timegm(value.utctimetuple()) if isinstance(value, datetime) else value


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class TokenBackend:
    """Encodes and decodes JWTs with one key (simplejwt's constructor and methods)."""

    def __init__(
        self,
        algorithm: str,
        signing_key: str | bytes | None = None,
        verifying_key: str | bytes = "",
        audience: str | Iterable[str] | None = None,
        issuer: str | None = None,
        jwk_url: str | None = None,
        leeway: float | timedelta | None = None,
        json_encoder: type[json.JSONEncoder] | None = None,
    ) -> None:
        self._validate_algorithm(algorithm)
        self.algorithm = algorithm
        self.signing_key = signing_key
        self.verifying_key = verifying_key
        self.audience = audience
        self.issuer = issuer
        self.jwk_url = jwk_url
        self.jwks_client = None
        self.leeway = leeway
        self.json_encoder = json_encoder
        self._engine_lock = threading.Lock()
        self._engine: keyfob.Engine | None = None

    def _validate_algorithm(self, algorithm: str) -> None:
        if algorithm not in ALLOWED_ALGORITHMS:
            raise TokenBackendError(format_lazy(_("Unrecognized algorithm type '{}'"), algorithm))

    def get_leeway(self) -> timedelta:
        leeway = self.leeway
        if leeway is None:
            return timedelta(seconds=0)
        if isinstance(leeway, bool) or not isinstance(leeway, (int, float, timedelta)):
            raise TokenBackendError(
                format_lazy(
                    _("Unrecognized type '{}', 'leeway' must be of type int, float or timedelta."),
                    type(leeway),
                )
            )
        return leeway if isinstance(leeway, timedelta) else timedelta(seconds=leeway)

    # -- the key ----------------------------------------------------------------------------

    def get_engine(self) -> keyfob.Engine:
        """The keyfob engine holding this backend's key (built on first use)."""
        engine = self._engine
        if engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = self._build_engine()
                engine = self._engine
        return engine

    def _build_engine(self) -> keyfob.Engine:
        if self.jwk_url:
            raise TokenBackendError(
                _("keyfob never fetches keys (jwk_url); pass the verifying key instead")
            )
        if self.signing_key is None:
            raise TokenBackendError(_("TokenBackend needs a signing key"))
        options: dict[str, Any] = {"algorithm": self.algorithm}
        if self.verifying_key and not self.algorithm.startswith("HS"):
            options["verifying_keys"] = {"verifying-key": self.verifying_key}
        try:
            return keyfob.Engine(engine_key(self.signing_key), **options)
        except (EngineError, TypeError) as e:
            raise TokenBackendError(format_lazy(_("keyfob refuses this key: {}"), e)) from e

    # -- encode / decode --------------------------------------------------------------------

    def encode(self, payload: dict[str, Any]) -> str:
        """The signed token for ``payload`` (not changed), with ``aud``/``iss`` when set."""
        claims = {k: _epoch(v) if k in _TIME_CLAIMS else v for k, v in payload.items()}
        audience = self.get_audience()
        if audience is not None:
            claims["aud"] = audience if isinstance(audience, str) else list(audience)
        issuer = self.get_issuer()
        if issuer is not None:
            claims["iss"] = issuer
        try:
            text = json.dumps(claims, separators=(",", ":"), cls=self.get_json_encoder())
        except (TypeError, ValueError) as e:
            raise TokenBackendError(
                format_lazy(_("Cannot encode the token's claims: {}"), e)
            ) from e
        try:
            return self.get_engine().sign_payload(text)
        except EngineError as e:
            raise TokenBackendError(format_lazy(_("Cannot sign the token: {}"), e)) from e

    def decode(self, token: str | bytes, verify: bool = True) -> dict[str, Any]:
        """The claims of ``token`` after checking it (signature, then the time claims,
        audience and issuer); with ``verify=False``, only decoded, nothing checked.

        Raises ``TokenBackendExpiredToken`` for an expired token, ``TokenBackendError`` for
        anything else wrong with it."""
        if isinstance(token, bytes):
            try:
                token = token.decode("ascii")
            except UnicodeDecodeError as e:
                raise TokenBackendError(_("Token is invalid")) from e
        if not isinstance(token, str):
            raise TokenBackendError(_("Token is invalid"))
        if verify:
            header = self._unverified_header(token)
            if header.get("alg") != self.algorithm:
                # Before anything about the key: the token is not of this backend's algorithm.
                raise TokenBackendError(_("Invalid algorithm specified"))
            try:
                raw = self.get_engine().verify_signature(token)
            except keyfob.AlgorithmNotAllowedError as e:
                raise TokenBackendError(_("Invalid algorithm specified")) from e
            except EngineError as e:
                raise TokenBackendError(_("Token is invalid")) from e
        else:
            raw = self._unverified_payload(token)
        try:
            claims = json.loads(raw)
        except (UnicodeDecodeError, ValueError) as e:
            raise TokenBackendError(_("Token is invalid")) from e
        if not isinstance(claims, dict):
            raise TokenBackendError(_("Token is invalid"))
        if verify:
            self._check_claims(claims)
        return claims

    @staticmethod
    def _unverified_header(token: str) -> dict[str, Any]:
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenBackendError(_("Token is invalid"))
        try:
            header = json.loads(_b64decode(parts[0]))
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise TokenBackendError(_("Token is invalid")) from e
        if not isinstance(header, dict):
            raise TokenBackendError(_("Token is invalid"))
        return header

    @classmethod
    def _unverified_payload(cls, token: str) -> bytes:
        cls._unverified_header(token)
        try:
            return _b64decode(token.split(".")[1])
        except (binascii.Error, ValueError) as e:
            raise TokenBackendError(_("Token is invalid")) from e

    def _check_claims(self, claims: dict[str, Any]) -> None:
        now = datetime.now(tz=timezone.utc).timestamp()
        leeway = self.get_leeway().total_seconds()
        times = {}
        for name in _TIME_CLAIMS:
            if name in claims:
                value = claims[name]
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    raise TokenBackendError(_("Token is invalid"))
                times[name] = value
        if "exp" in times and times["exp"] <= now - leeway:
            raise TokenBackendExpiredToken(_("Token is expired"))
        for name in ("nbf", "iat"):
            if name in times and times[name] > now + leeway:
                raise TokenBackendError(_("Token is invalid"))
        audience = self.get_audience()
        if audience is not None:
            wanted = {audience} if isinstance(audience, str) else set(audience)
            got = claims.get("aud")
            given = {got} if isinstance(got, str) else set(got) if isinstance(got, list) else None
            if not given or not all(isinstance(a, str) for a in given) or not (wanted & given):
                raise TokenBackendError(_("Token is invalid"))
        issuer = self.get_issuer()
        if issuer is not None and claims.get("iss") != issuer:
            raise TokenBackendError(_("Token is invalid"))

    # -- what the checks read (the engine's backend reads them from the settings) -----------

    def get_audience(self) -> str | Iterable[str] | None:
        return self.audience

    def get_issuer(self) -> str | None:
        return self.issuer

    def get_json_encoder(self) -> type[json.JSONEncoder] | None:
        return self.json_encoder


_UNSET: Any = object()


class EngineTokenBackend(TokenBackend):
    """The backend of keyfob.drf's engine: its key and algorithm, and ``KEYFOB``'s audience,
    issuer, leeway and ``JSON_ENCODER``, read when used. An attribute assigned on the
    instance (``token_backend.leeway = 10``) wins over the setting until deleted."""

    def __init__(self) -> None:
        self._engine_lock = threading.Lock()
        self._engine = None
        self.jwks_client = None
        self.jwk_url = None

    def get_engine(self) -> keyfob.Engine:
        from .engine import get_engine

        return get_engine()

    def _setting(self, attribute: str, setting: str) -> Any:
        value = vars(self).get("_own_" + attribute, _UNSET)
        return getattr(api_settings, setting) if value is _UNSET else value

    @property  # type: ignore[override]
    def algorithm(self) -> str:
        return str(self._setting("algorithm", "ALGORITHM"))

    @algorithm.setter
    def algorithm(self, value: str) -> None:
        self._own_algorithm = value

    @property  # type: ignore[override]
    def signing_key(self) -> Any:
        from .engine import signing_key

        value = vars(self).get("_own_signing_key", _UNSET)
        return signing_key() if value is _UNSET else value

    @signing_key.setter
    def signing_key(self, value: Any) -> None:
        self._own_signing_key = value

    @property  # type: ignore[override]
    def verifying_key(self) -> Any:
        return self._setting("verifying_key", "VERIFYING_KEY")

    @verifying_key.setter
    def verifying_key(self, value: Any) -> None:
        self._own_verifying_key = value

    @property  # type: ignore[override]
    def audience(self) -> Any:
        return self._setting("audience", "AUDIENCE")

    @audience.setter
    def audience(self, value: Any) -> None:
        self._own_audience = value

    @property  # type: ignore[override]
    def issuer(self) -> Any:
        return self._setting("issuer", "ISSUER")

    @issuer.setter
    def issuer(self, value: Any) -> None:
        self._own_issuer = value

    @property  # type: ignore[override]
    def leeway(self) -> Any:
        return self._setting("leeway", "LEEWAY")

    @leeway.setter
    def leeway(self, value: Any) -> None:
        self._own_leeway = value

    @property  # type: ignore[override]
    def json_encoder(self) -> Any:
        return self._setting("json_encoder", "JSON_ENCODER")

    @json_encoder.setter
    def json_encoder(self, value: Any) -> None:
        self._own_json_encoder = value
