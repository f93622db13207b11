"""DRF authentication classes: ``JWTAuthentication`` and ``JWTStatelessUserAuthentication``."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import HTTP_HEADER_ENCODING, authentication
from rest_framework.request import Request

import keyfob

from . import dpop
from .exceptions import AuthenticationFailed, InvalidToken, TokenError, claim_of
from .settings import api_settings
from .tokens import REQUEST_CLIENT_ID, AccessToken, Token, get_md5_hash_password


def auth_header_types() -> tuple[str, ...]:
    return tuple(api_settings.AUTH_HEADER_TYPES)


class HeaderSchemes:
    """AUTH_HEADER_TYPES as bytes, computed once per settings generation: every request
    compares its scheme with them."""

    def __init__(self) -> None:
        generation = api_settings.generation  # read first: a reload meanwhile recomputes
        types = auth_header_types()
        self.generation = generation
        self.types = frozenset(h.encode(HTTP_HEADER_ENCODING) for h in types)
        # "Bearer " etc.: a header starting with one is certainly not the DPoP scheme.
        self.plain_prefixes = tuple(t + b" " for t in self.types if t.lower() != dpop.SCHEME)


_schemes: HeaderSchemes | None = None


def header_schemes() -> HeaderSchemes:
    global _schemes
    schemes = _schemes
    if schemes is None or schemes.generation != api_settings.generation:
        schemes = _schemes = HeaderSchemes()
    return schemes


def www_authenticate(realm: str) -> str:
    """The ``WWW-Authenticate`` value of a 401: ``Bearer realm="api"`` by default."""
    return f'{auth_header_types()[0]} realm="{realm}"'


def missing_user_id(error: TokenError) -> bool:
    return isinstance(error.cause, keyfob.MissingClaimError) and (
        claim_of(error.cause) == api_settings.USER_ID_CLAIM
    )


class JWTAuthentication(authentication.BaseAuthentication):
    """Authenticates a request by the access token in its ``Authorization`` header.

    The token's keyfob session must be alive: a logged-out, replayed or idle session fails
    at once. Each success slides the session's idle window.
    """

    www_authenticate_realm = "api"
    media_type = "application/json"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_model = get_user_model()

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        header = self.get_header(request)
        if header is None:
            return None
        if not header.startswith(header_schemes().plain_prefixes) and (
            dpop.is_dpop_authorization(header)
        ):
            # A DPoP-bound token with its proof (RFC 9449 §7).
            raw, _claims = dpop.authenticate(request, header)
            token = AccessToken(raw, verify=False)
            return self.get_user(token), token
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        # Without CLIENT_BINDING (the default) there is no client id to present.
        presented = (
            None
            if api_settings.CLIENT_BINDING is None
            else REQUEST_CLIENT_ID.set(dpop.client_id_of(request))
        )
        try:
            validated_token = self.get_validated_token(raw_token)
        except InvalidToken:
            dpop.note_bearer_failure(request, raw_token)
            raise
        finally:
            if presented is not None:
                REQUEST_CLIENT_ID.reset(presented)
        return self.get_user(validated_token), validated_token

    def authenticate_header(self, request: Request) -> str:
        # After a DPoP failure, DPoP's challenge; otherwise simplejwt's Bearer one.
        return dpop.challenge_of(request) or www_authenticate(self.www_authenticate_realm)

    def get_header(self, request: Request) -> bytes | None:
        # The Django request's META directly: DRF's Request would forward the lookup.
        header = getattr(request, "_request", request).META.get(api_settings.AUTH_HEADER_NAME)
        if isinstance(header, str):
            # Django's test client passes str.
            header = header.encode(HTTP_HEADER_ENCODING)
        return header

    def get_raw_token(self, header: bytes) -> bytes | None:
        parts = header.split()
        if len(parts) == 0:
            return None
        if parts[0] not in header_schemes().types:
            # Another scheme: leave the request to other authenticators.
            return None
        if len(parts) != 2:
            raise AuthenticationFailed(
                _("Authorization header must contain two space-delimited values"),
                code="bad_authorization_header",
            )
        return parts[1]

    def get_validated_token(self, raw_token: bytes) -> Token:
        failures = []
        for token_class in api_settings.AUTH_TOKEN_CLASSES:
            try:
                return token_class(raw_token)
            except TokenError as e:
                failures.append((token_class, e))
        messages = [
            {
                "token_class": token_class.__name__,
                "token_type": token_class.token_type,
                "message": e.args[0],
            }
            for token_class, e in failures
        ]
        if any(missing_user_id(e) for _, e in failures):
            # simplejwt accepts such a token, then fails to find its user: answer as it does.
            raise InvalidToken(_("Token contained no recognizable user identification"))
        raise InvalidToken(
            {"detail": _("Given token not valid for any token type"), "messages": messages}
        )

    def get_user(self, validated_token: Token) -> Any:
        try:
            user_id = validated_token[api_settings.USER_ID_CLAIM]
        except KeyError as e:
            raise InvalidToken(_("Token contained no recognizable user identification")) from e
        try:
            user = self.user_model.objects.get(**{api_settings.USER_ID_FIELD: user_id})
        except self.user_model.DoesNotExist as e:
            raise AuthenticationFailed(_("User not found"), code="user_not_found") from e
        if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
        if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
            api_settings.REVOKE_TOKEN_CLAIM
        ) != get_md5_hash_password(user.password):
            raise AuthenticationFailed(
                _("The user's password has been changed."), code="password_changed"
            )
        return user


class JWTStatelessUserAuthentication(JWTAuthentication):
    """Like ``JWTAuthentication`` but without a database lookup: the user is a ``TokenUser``."""

    def get_user(self, validated_token: Token) -> Any:
        if api_settings.USER_ID_CLAIM not in validated_token:
            raise InvalidToken(_("Token contained no recognizable user identification"))
        return api_settings.TOKEN_USER_CLASS(validated_token)


JWTTokenUserAuthentication = JWTStatelessUserAuthentication


def default_user_authentication_rule(user: Any) -> bool:
    """Who may obtain and refresh tokens: an existing user, and an active one unless
    CHECK_USER_IS_ACTIVE is off."""
    return user is not None and (not api_settings.CHECK_USER_IS_ACTIVE or user.is_active)
