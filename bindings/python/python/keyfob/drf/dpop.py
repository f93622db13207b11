"""Client binding for keyfob.drf: DPoP (RFC 9449) and the host's client id.

Token endpoints: a login (``POST /api/token/``) with a ``DPoP`` header is bound to the proof's
key, and its response adds ``"token_type": "DPoP"``; refreshing it needs a proof from the same
key. Without the header everything is as in simplejwt (Bearer, same bodies). A bad proof there
is a 400 ``{"error": "invalid_dpop_proof", "error_description": ...}`` (RFC 9449 §5).

Protected views: ``Authorization: DPoP <access>`` with a ``DPoP`` proof over the request (its
``ath`` the access token's hash). A bad proof is a 401 with
``WWW-Authenticate: DPoP error="invalid_dpop_proof"`` (RFC 9449 §7.1); a bound token presented
as Bearer is refused with ``DPoP error="invalid_token"``.

``htu`` is checked against ``request.build_absolute_uri()``: behind a TLS-terminating proxy set
``SECURE_PROXY_SSL_HEADER`` (and ``USE_X_FORWARDED_HOST``) so Django sees the URL the client
used.

``KEYFOB["CLIENT_BINDING"]``: a callable (or its import path) ``request -> str | None`` giving
the client binding value the host vouches for (an authenticated OAuth client id, a device id).
It is passed to the engine on login, refresh and every authenticated request; a refresh from
another client is refused (and, by default, ends the session); with
``ENGINE_OPTIONS["bind_validate"]`` every request must come from the same client.

Sliding tokens (``TokenObtainSlidingView``) are never bound: a ``DPoP`` header there is
ignored and the token is a Bearer token.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.request import Request

import keyfob

from .engine import get_engine
from .exceptions import (
    AuthenticationFailed,
    EngineError,
    InvalidToken,
    TokenError,
    raise_token_error,
)
from .settings import api_settings
from .tokens import decode_payload

# The authorization scheme of DPoP-bound tokens (schemes are case-insensitive, RFC 9110 §11.1).
SCHEME = b"dpop"
# The proof algorithms the engine verifies, advertised in challenges (RFC 9449 §7.1).
ALGS = "ES256 EdDSA"
# Where a failed authentication leaves its challenge for ``authenticate_header``.
_CHALLENGE_ATTR = "_keyfob_dpop_challenge"

DPOP_ERRORS = (keyfob.DpopInvalidError, keyfob.DpopReplayedError)


class InvalidDpopProof(exceptions.APIException):
    """A token endpoint's answer to a bad proof: OAuth's error response (RFC 9449 §5)."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "invalid_dpop_proof"

    def __init__(self, description: str) -> None:
        super().__init__({"error": "invalid_dpop_proof", "error_description": description})


class DpopAuthenticationFailed(AuthenticationFailed):
    """A protected view's answer to a bad proof: 401 ``{"detail", "code"}``."""

    default_detail = _("Invalid DPoP proof")
    default_code = "invalid_dpop_proof"


# -- reading the request ---------------------------------------------------------------------


def proof_of(request: Request | None) -> str | None:
    """The request's ``DPoP`` header. Servers join repeated headers with commas, which a
    JWS never holds: more than one proof is refused (RFC 9449 §4.3, check 1)."""
    if request is None:
        return None
    value = request.META.get("HTTP_DPOP")
    if value is None:
        return None
    value = value.strip()
    if not value or "," in value or any(c.isspace() for c in value):
        raise keyfob.DpopInvalidError("the request must carry exactly one DPoP proof")
    return str(value)


def dpop_request(request: Request | None) -> keyfob.DpopRequest | None:
    """The request's proof with its method and URL, as the engine checks them."""
    proof = proof_of(request)
    if proof is None or request is None:
        return None
    return keyfob.DpopRequest(proof, request.method or "", request.build_absolute_uri())


def client_id_of(request: Request | None) -> str | None:
    """The client binding value ``KEYFOB["CLIENT_BINDING"]`` gives for this request."""
    binding = api_settings.CLIENT_BINDING
    if binding is None or request is None:
        return None
    value = binding(request)
    if value is not None and not isinstance(value, str):
        raise TypeError("KEYFOB['CLIENT_BINDING'] must return str or None")
    return value


def presentation(request: object) -> dict[str, Any]:
    """What the request presents, as keyword arguments of the engine's login/refresh.

    ``request`` is a serializer's ``context.get("request")``: anything but a request (a
    test's stand-in, or nothing) presents nothing, as simplejwt ignores it too."""
    if not isinstance(request, (Request, HttpRequest)):
        return {"client_id": None, "dpop": None}
    return {"client_id": client_id_of(request), "dpop": dpop_request(request)}  # type: ignore[arg-type]


# -- token endpoints -------------------------------------------------------------------------


@contextmanager
def token_endpoint_errors() -> Iterator[None]:
    """Proof failures at a token endpoint as RFC 9449 §5's 400; other errors pass through."""
    try:
        yield
    except DPOP_ERRORS as e:
        raise InvalidDpopProof(reason(e)) from e
    except TokenError as e:
        if isinstance(e.cause, DPOP_ERRORS):
            raise InvalidDpopProof(reason(e.cause)) from e
        raise


def reason(error: EngineError) -> str:
    """The engine's reason without its "DPoP proof is invalid: " prefix."""
    text = str(error)
    return text.split(": ", 1)[1] if ": " in text else text


def is_bound(token: str) -> bool:
    """Whether a token the engine has just issued or accepted is DPoP-bound (``cnf.jkt``)."""
    cnf = decode_payload(token).get("cnf")
    return isinstance(cnf, dict) and "jkt" in cnf


# -- protected views -------------------------------------------------------------------------


def is_dpop_authorization(header: bytes) -> bool:
    parts = header.split()
    return bool(parts) and parts[0].lower() == SCHEME


def challenge_of(request: Request) -> str | None:
    """The ``WWW-Authenticate`` value a DPoP failure on this request left, if any."""
    value = getattr(request, _CHALLENGE_ATTR, None)
    return value if isinstance(value, str) else None


def _challenge(request: Request, error: str, description: str) -> None:
    quoted = description.replace("\\", "\\\\").replace('"', '\\"')
    setattr(
        request,
        _CHALLENGE_ATTR,
        f'DPoP error="{error}", error_description="{quoted}", algs="{ALGS}"',
    )


def note_bearer_failure(request: Request, raw_token: bytes) -> None:
    """A DPoP-bound token sent as Bearer was refused: say so with DPoP's challenge (RFC 9449
    §7.2). The body stays simplejwt's; unbound tokens keep the Bearer challenge."""
    try:
        bound = is_bound(raw_token.decode("ascii"))
    except (UnicodeDecodeError, TokenError):
        return
    if bound:
        _challenge(request, "invalid_token", "the token is DPoP-bound: use the DPoP scheme")


def authenticate(request: Request, header: bytes) -> tuple[str, dict[str, Any]]:
    """Check ``Authorization: DPoP <access>`` with its proof; returns the token and its claims.

    Raises 401s carrying a DPoP challenge, or ``StoreUnavailable`` (503)."""
    parts = header.split()
    if len(parts) != 2:
        _challenge(request, "invalid_token", "the DPoP scheme takes one token")
        raise InvalidToken(_("Authorization header must contain two space-delimited values"))
    try:
        raw = parts[1].decode("ascii")
    except UnicodeDecodeError as e:
        _challenge(request, "invalid_token", "the token is not ASCII")
        raise InvalidToken() from e
    try:
        proof = dpop_request(request)
        if proof is None:
            raise keyfob.DpopInvalidError("the DPoP scheme needs a DPoP proof header")
        claims = get_engine().validate(raw, dpop=proof, client_id=client_id_of(request))
    except DPOP_ERRORS as e:
        _challenge(request, "invalid_dpop_proof", reason(e))
        raise DpopAuthenticationFailed(reason(e)) from e
    except EngineError as e:
        try:
            raise_token_error(e)  # the store's 503 and config errors leave here
        except TokenError as refused:
            _challenge(request, "invalid_token", str(refused.args[0]))
            raise InvalidToken(refused.args[0]) from e
    if not is_bound(raw):
        # A Bearer token dressed as DPoP: the proof proved nothing about it.
        _challenge(request, "invalid_token", "the token is not DPoP-bound: use the Bearer scheme")
        raise InvalidToken(_("Token is not DPoP-bound"))
    return raw, claims
