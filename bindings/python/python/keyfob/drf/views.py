"""The token endpoints, as simplejwt's views (same URLs, bodies, status codes and headers)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from .authentication import www_authenticate
from .cookies import CookieTransport
from .exceptions import InvalidToken, TokenError
from .settings import api_settings


class TokenViewBase(CookieTransport, generics.GenericAPIView):
    permission_classes = ()
    authentication_classes = ()

    serializer_class: type[BaseSerializer] | None = None
    # The settings key naming the serializer; read per request so tests can override it.
    serializer_setting = ""

    www_authenticate_realm = "api"

    @property
    def _serializer_class(self) -> str:
        """The import path of the serializer (simplejwt's attribute; "" on the base view)."""
        if not self.serializer_setting:
            return ""
        return str(getattr(api_settings, self.serializer_setting))

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.serializer_class:
            return self.serializer_class
        path = self._serializer_class
        try:
            return import_string(path)
        except ImportError as e:
            raise ImportError(f"Could not import serializer '{path}'") from e

    def get_authenticate_header(self, request: Request) -> str:
        return www_authenticate(self.www_authenticate_realm)

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as e:
            raise InvalidToken(e.args[0]) from e
        return Response(serializer.validated_data, status=status.HTTP_200_OK)


class TokenObtainPairView(TokenViewBase):
    """Credentials in, ``{"refresh", "access"}`` out: one new keyfob session."""

    serializer_setting = "TOKEN_OBTAIN_SERIALIZER"


class TokenRefreshView(TokenViewBase):
    """A refresh token in, ``{"access"}`` (plus ``"refresh"`` when rotating) out."""

    serializer_setting = "TOKEN_REFRESH_SERIALIZER"

    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().post(request, *args, **kwargs)
        except ObjectDoesNotExist as e:
            # The token's user was deleted. The serializer raises DoesNotExist as simplejwt's
            # does (code calling it may rely on that); the endpoint answers as for an
            # inactive user instead of simplejwt's server error.
            raise exceptions.AuthenticationFailed(
                _("No active account found for the given token."), "no_active_account"
            ) from e


class TokenObtainSlidingView(TokenViewBase):
    """Credentials in, ``{"token"}`` (a sliding token) out."""

    serializer_setting = "SLIDING_TOKEN_OBTAIN_SERIALIZER"


class TokenRefreshSlidingView(TokenViewBase):
    """A sliding token in, a renewed one out, while its session lives."""

    serializer_setting = "SLIDING_TOKEN_REFRESH_SERIALIZER"


class TokenVerifyView(TokenViewBase):
    """Any token in, ``{}`` if it is valid and its session alive."""

    serializer_setting = "TOKEN_VERIFY_SERIALIZER"


class TokenBlacklistView(TokenViewBase):
    """A refresh token in, its session revoked (logout). No app to install, no migrations."""

    serializer_setting = "TOKEN_BLACKLIST_SERIALIZER"


token_obtain_pair = TokenObtainPairView.as_view()
token_refresh = TokenRefreshView.as_view()
token_obtain_sliding = TokenObtainSlidingView.as_view()
token_refresh_sliding = TokenRefreshSlidingView.as_view()
token_verify = TokenVerifyView.as_view()
token_blacklist = TokenBlacklistView.as_view()
