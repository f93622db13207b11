"""Token introspection (RFC 7662) and revocation (RFC 7009) for other services.

Both endpoints are off by default (``404``): turn them on with ``KEYFOB["INTROSPECTION"]`` and
``KEYFOB["REVOCATION"]``. They take ``token`` (and an optional ``token_type_hint``, which
keyfob does not need) as a form (``application/x-www-form-urlencoded``, as the RFCs say) or
JSON body, and only from a caller the permission classes ``KEYFOB["OAUTH_PERMISSION_CLASSES"]``
let in. By default that is a client of ``KEYFOB["OAUTH_CLIENTS"]`` (client id -> secret)
authenticated with HTTP Basic (``client_secret_basic``, RFC 6749 §2.3.1: id and secret
form-encoded, then base64); other DRF permission classes (e.g. ``IsAdminUser``) may be used
instead, with the project's authentication classes. A failed client authentication is
``401 {"error": "invalid_client", ...}`` with ``WWW-Authenticate: Basic``.

``IntrospectionView`` checks the token as keyfob itself would (signature, claims, and a live
session, touching nothing) and answers ``{"active": false}`` for anything not valid: expired,
revoked, idle-ended, malformed, from another key. For an active token: ``active``, ``sub``
and ``user_id``, ``exp``, ``iat``, ``jti``, ``sid``, ``token_type`` (the OAuth type:
``Bearer``, or ``DPoP`` with ``cnf`` for a DPoP-bound token), ``token_use`` (keyfob's type:
``access``, ``refresh`` or ``sliding``; a resource server accepts ``access`` only), and
``iss``, ``aud``, ``nbf``, ``client_id`` when the token has them.

``RevocationView`` ends the token's session (logout: its access and refresh tokens stop
working at once) and answers ``200`` with an empty body, also for a token that is unknown,
invalid or already revoked (RFC 7009 §2.2). While the session store is unreachable both
answer ``503``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from typing import Any
from urllib.parse import unquote_plus

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import keyfob

from .engine import get_engine
from .exceptions import StoreUnavailable
from .settings import api_settings

REALM = "keyfob"
# Compared with when the client id is unknown, so that case costs what a known one does.
_UNKNOWN_CLIENT = secrets.token_bytes(32)


def _digest(secret: bytes) -> bytes:
    return hashlib.sha256(secret).digest()


def secret_matches(given: str, expected: str | None) -> bool:
    """Whether ``given`` is ``expected``, in time independent of where they differ and of
    either length: the SHA-256 digests (fixed length) are compared with
    ``hmac.compare_digest``. ``None`` (an unknown client) matches nothing, at the same cost."""
    want = _UNKNOWN_CLIENT if expected is None else expected.encode()
    same = hmac.compare_digest(_digest(given.encode()), _digest(want))
    return same and expected is not None


class OAuthClient:
    """The caller authenticated by ``ClientSecretBasic``: ``request.user`` on these endpoints."""

    is_authenticated = True
    is_anonymous = False
    # Not a user: permission classes that ask (IsAdminUser) get a plain no.
    is_staff = False
    is_superuser = False

    def __init__(self, client_id: str) -> None:
        self.client_id = client_id

    def __str__(self) -> str:
        return self.client_id


class ClientSecretBasic(BaseAuthentication):
    """HTTP Basic with a client of ``KEYFOB["OAUTH_CLIENTS"]`` (RFC 6749 §2.3.1)."""

    def authenticate(self, request: Request) -> tuple[OAuthClient, str] | None:
        header = get_authorization_header(request).split()
        if not header or header[0].lower() != b"basic":
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("malformed Basic credentials")
        try:
            decoded = base64.b64decode(header[1], validate=True).decode()
            raw_id, raw_secret = decoded.split(":", 1)
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise exceptions.AuthenticationFailed("malformed Basic credentials") from e
        client_id, secret = unquote_plus(raw_id), unquote_plus(raw_secret)
        clients = api_settings.OAUTH_CLIENTS or {}
        if not isinstance(clients, dict):
            raise ImproperlyConfigured("settings.KEYFOB['OAUTH_CLIENTS'] must be a dict")
        if not secret_matches(secret, clients.get(client_id)):
            raise exceptions.AuthenticationFailed("unknown client or wrong secret")
        return OAuthClient(client_id), client_id

    def authenticate_header(self, request: Request) -> str:
        return f'Basic realm="{REALM}"'


class IsOAuthClient(BasePermission):
    """Lets in a client authenticated by ``ClientSecretBasic``."""

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.user, OAuthClient)


class OAuthEndpoint(APIView):
    """What both endpoints share: on/off, client authentication, RFC 6749 §5.2 errors."""

    enabled_setting = ""
    parser_classes = (FormParser, JSONParser)
    renderer_classes = (JSONRenderer,)

    def get_authenticators(self) -> list[BaseAuthentication]:
        # The client's Basic credentials first, then the project's own authentication
        # (for permission classes such as IsAdminUser).
        return [ClientSecretBasic(), *super().get_authenticators()]

    def get_permissions(self) -> list[BasePermission]:
        paths = api_settings.OAUTH_PERMISSION_CLASSES
        return [import_string(p)() if isinstance(p, str) else p() for p in paths]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not getattr(api_settings, self.enabled_setting):
            raise exceptions.NotFound()
        super().initial(request, *args, **kwargs)

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
            response.status_code = status.HTTP_401_UNAUTHORIZED
            response.data = {"error": "invalid_client", "error_description": str(exc.detail)}
        response["Cache-Control"] = "no-store"
        return response

    def token_of(self, request: Request) -> str:
        token = request.data.get("token") if hasattr(request.data, "get") else None
        if not isinstance(token, str) or not token:
            raise InvalidRequest("the 'token' parameter is required")
        return token


class InvalidRequest(exceptions.APIException):
    """400 ``{"error": "invalid_request", "error_description": ...}`` (RFC 6749 §5.2)."""

    status_code = status.HTTP_400_BAD_REQUEST

    def __init__(self, description: str) -> None:
        super().__init__({"error": "invalid_request", "error_description": description})


class IntrospectionView(OAuthEndpoint):
    """POST ``token``: RFC 7662 introspection."""

    enabled_setting = "INTROSPECTION"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = self.token_of(request)
        try:
            claims = get_engine().verify(token)
        except keyfob.StoreUnavailableError as e:
            raise StoreUnavailable() from e
        except keyfob.KeyfobError:
            # Expired, revoked, idle, unknown, malformed, another key: not active, no reason.
            return self.no_store(Response({"active": False}))
        return self.no_store(Response(introspection(claims)))

    @staticmethod
    def no_store(response: Response) -> Response:
        response["Cache-Control"] = "no-store"
        return response


def introspection(claims: dict[str, Any]) -> dict[str, Any]:
    """RFC 7662 §2.2's members for an active token with these claims."""
    user_id = claims.get(api_settings.USER_ID_CLAIM)
    cnf = claims.get("cnf")
    bound = isinstance(cnf, dict) and "jkt" in cnf
    answer: dict[str, Any] = {
        "active": True,
        "sub": None if user_id is None else str(user_id),
        "user_id": user_id,
        "exp": claims.get("exp"),
        "iat": claims.get("iat"),
        "jti": claims.get(api_settings.JTI_CLAIM),
        "sid": claims.get("sid"),
        "token_type": "DPoP" if bound else "Bearer",
        "token_use": claims.get(api_settings.TOKEN_TYPE_CLAIM),
    }
    for optional in ("iss", "aud", "nbf", "client_id"):
        if optional in claims:
            answer[optional] = claims[optional]
    if bound:
        answer["cnf"] = cnf
    return {k: v for k, v in answer.items() if v is not None}


class RevocationView(OAuthEndpoint):
    """POST ``token``: RFC 7009 revocation (logout of the token's session)."""

    enabled_setting = "REVOCATION"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        token = self.token_of(request)
        try:
            get_engine().revoke(token)
        except keyfob.StoreUnavailableError as e:
            raise StoreUnavailable() from e
        except keyfob.KeyfobError:
            # Unknown, invalid or already revoked: nothing to end, and the RFC's answer is 200.
            pass
        response = Response(status=status.HTTP_200_OK)
        response["Cache-Control"] = "no-store"
        return response
