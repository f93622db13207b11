"""The token endpoints' serializers, shaped as simplejwt's (same fields, same errors)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers

import keyfob

from . import dpop
from .engine import get_engine
from .exceptions import TOKEN_IS_BLACKLISTED, TokenError, raise_token_error
from .settings import api_settings
from .tokens import RefreshToken, SlidingToken, Token, UntypedToken, engine_call


class PasswordField(serializers.CharField):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("style", {})
        kwargs["style"]["input_type"] = "password"
        kwargs["write_only"] = True
        super().__init__(*args, **kwargs)


class TokenObtainSerializer(serializers.Serializer):
    """Checks credentials; subclasses turn ``self.user`` into tokens."""

    username_field = get_user_model().USERNAME_FIELD
    token_class: type[Token] | None = None

    default_error_messages = {
        "no_active_account": _("No active account found with the given credentials")
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields[self.username_field] = serializers.CharField(write_only=True)
        self.fields["password"] = PasswordField()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        credentials = {
            self.username_field: attrs[self.username_field],
            "password": attrs["password"],
        }
        if "request" in self.context:
            credentials["request"] = self.context["request"]
        self.user = authenticate(**credentials)
        if not api_settings.USER_AUTHENTICATION_RULE(self.user):
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        return {}

    @classmethod
    def get_token(cls, user: Any) -> Token:
        """Override to add claims: ``token = super().get_token(user); token["name"] = ...``."""
        assert cls.token_class is not None
        return cls.token_class.for_user(user)


class TokenObtainPairSerializer(TokenObtainSerializer):
    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = super().validate(attrs)
        refresh = self.get_token(self.user)
        with dpop.token_endpoint_errors():
            if isinstance(refresh, RefreshToken):
                # A DPoP header (or KEYFOB["CLIENT_BINDING"]) binds the new session.
                refresh.presentation = dpop.presentation(self.context.get("request"))
            data["refresh"] = str(refresh)
        data["access"] = str(refresh.access_token)  # type: ignore[attr-defined]
        if dpop.is_bound(data["refresh"]):
            data["token_type"] = "DPoP"  # RFC 9449 §5; Bearer responses stay simplejwt's
        if api_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return data


class TokenObtainSlidingSerializer(TokenObtainSerializer):
    token_class = SlidingToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        data = super().validate(attrs)
        data["token"] = str(self.get_token(self.user))
        if api_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return data


def _active_user_exists(user_id: Any) -> bool:
    try:
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
    except (ValueError, TypeError, DjangoValidationError):
        return False
    return bool(api_settings.USER_AUTHENTICATION_RULE(user))


class TokenRefreshSerializer(serializers.Serializer):
    """Refresh: a new access token, and with rotation (the default) a new refresh token.

    The presented refresh token is spent; presenting it again revokes the whole session.
    """

    refresh = serializers.CharField()
    access = serializers.CharField(read_only=True)
    token_class = RefreshToken

    default_error_messages = {
        "no_active_account": _("No active account found for the given token.")
    }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raw = attrs["refresh"]
        with dpop.token_endpoint_errors():
            # A bound session needs its client id and/or a proof from its key.
            presented = dpop.presentation(self.context.get("request"))
        try:
            checked = self.token_class(raw)
        except TokenError as e:
            if isinstance(e.cause, keyfob.RevokedError):
                # Possibly a spent (rotated-out) refresh token: the engine's refresh must see
                # the replay, so that it revokes the whole session.
                with dpop.token_endpoint_errors():
                    engine_call(get_engine().refresh, raw, **presented)
            raise
        user_id = checked.payload.get(api_settings.USER_ID_CLAIM)
        # simplejwt answers a deleted user with a server error; keyfob with the same 401 as
        # an inactive one.
        if user_id and not _active_user_exists(user_id):
            raise exceptions.AuthenticationFailed(
                self.error_messages["no_active_account"], "no_active_account"
            )
        with dpop.token_endpoint_errors():
            pair = engine_call(get_engine().refresh, raw, **presented)
        data = {"access": pair.access}
        if pair.refresh is not None:
            data["refresh"] = pair.refresh
        if dpop.is_bound(pair.access):
            data["token_type"] = "DPoP"
        return data


class TokenRefreshSlidingSerializer(serializers.Serializer):
    token = serializers.CharField()
    token_class = SlidingToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        renewed = engine_call(get_engine().refresh_sliding, attrs["token"])
        return {"token": renewed.token}


class TokenVerifySerializer(serializers.Serializer):
    token = serializers.CharField(write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            UntypedToken(attrs["token"])
        except TokenError as e:
            # simplejwt (with its blacklist app) answers a blacklisted token with a 400.
            if isinstance(e.cause, (keyfob.RevokedError, keyfob.ReuseDetectedError)):
                raise serializers.ValidationError(TOKEN_IS_BLACKLISTED) from e
            raise
        return {}


class TokenBlacklistSerializer(serializers.Serializer):
    """Logout: revokes the refresh token's session, so its access tokens stop working too."""

    refresh = serializers.CharField(write_only=True)
    token_class = RefreshToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        raw = attrs["refresh"]
        try:
            token = self.token_class(raw)
        except TokenError as e:
            if isinstance(e.cause, keyfob.RevokedError):
                # A spent refresh token presented to log out: end its session all the same
                # (a no-op when the session is already revoked), then answer as simplejwt.
                try:
                    get_engine().revoke(raw)
                except keyfob.StoreUnavailableError as unavailable:
                    raise_token_error(unavailable)
                except keyfob.KeyfobError:
                    pass
            raise
        token.blacklist()
        return {}
