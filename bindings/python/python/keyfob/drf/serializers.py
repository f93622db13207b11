"""The token endpoints' serializers, shaped as simplejwt's (same fields, same errors)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.models import update_last_login
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers

import keyfob

from . import dpop
from .engine import get_engine
from .exceptions import TOKEN_IS_BLACKLISTED, EngineError, TokenError, raise_token_error
from .metadata import login_request
from .settings import api_settings
from .tokens import (
    LOGIN_PRESENTATION,
    AccessToken,
    RefreshToken,
    SlidingToken,
    Token,
    UntypedToken,
    blacklist_installed,
    engine_call,
)
from .utils import datetime_to_epoch


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
        with dpop.token_endpoint_errors():
            # A DPoP header (or KEYFOB["CLIENT_BINDING"]) binds the new session.
            request = self.context.get("request")
            presented = LOGIN_PRESENTATION.set(dpop.presentation(request))
            try:
                with login_request(request):  # the client's IP and user agent
                    refresh = self.get_token(self.user)
            finally:
                LOGIN_PRESENTATION.reset(presented)
            # Claims get_token added: the session's, so that refreshes keep them.
            refresh.save_claims_to_session()
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
        token = self.get_token(self.user)
        token.save_claims_to_session()
        data["token"] = str(token)
        if api_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return data


def restamped(raw: str, now: Any, deadline: Any) -> str:
    """The engine's new access token ``raw``, its ``iat``/``exp`` moved to keyfob.drf's
    clock when that reads another second than the engine's (a test patched
    ``keyfob.drf.tokens.aware_utcnow``): tokens carry the times their callers see."""
    if datetime_to_epoch(now) == get_engine().now():
        return raw
    access = AccessToken(raw, verify=False)
    access.current_time = now
    access.set_iat()
    access.set_exp()
    if isinstance(deadline, int) and access["exp"] > deadline:
        access["exp"] = deadline
    return str(access)


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
            refresh = self.token_class(raw)
        except TokenError as e:
            if isinstance(e.cause, keyfob.RevokedError):
                # Possibly a spent (rotated-out) refresh token: the engine's refresh must see
                # the replay, so that it revokes the whole session.
                with dpop.token_endpoint_errors():
                    engine_call(get_engine().refresh, raw, **presented)
            raise
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        if user_id:
            # As simplejwt: a deleted user is an error (DoesNotExist), an inactive one a 401.
            user = get_user_model().objects.get(**{api_settings.USER_ID_FIELD: user_id})
            if not api_settings.USER_AUTHENTICATION_RULE(user):
                raise exceptions.AuthenticationFailed(
                    self.error_messages["no_active_account"], "no_active_account"
                )
        if not refresh._engine_checked:
            return self._refresh_without_session(refresh)
        with dpop.token_endpoint_errors():
            pair = engine_call(get_engine().refresh, raw, **presented)
        data = {"access": pair.access}
        if pair.refresh is not None:
            data["refresh"] = pair.refresh
            deadline = decode_exp(pair.refresh)
            if blacklist_installed():
                RefreshToken(pair.refresh, verify=False).outstand()
                if api_settings.BLACKLIST_AFTER_ROTATION:
                    refresh.blacklist()  # the spent token's row; its session lives on
        else:
            deadline = refresh.payload.get("exp")
        if not dpop.is_bound(pair.access):
            data["access"] = restamped(pair.access, refresh.current_time, deadline)
        else:
            data["token_type"] = "DPoP"
        return data

    def _refresh_without_session(self, refresh: Token) -> dict[str, Any]:
        """A refresh token naming no user: simplejwt's refresh, which no session backs."""
        data = {"access": str(refresh.access_token)}  # type: ignore[attr-defined]
        if api_settings.ROTATE_REFRESH_TOKENS:
            if api_settings.BLACKLIST_AFTER_ROTATION and blacklist_installed():
                refresh.blacklist()  # type: ignore[attr-defined]
            refresh.set_jti()
            refresh.set_exp()
            refresh.set_iat()
            refresh.outstand()
            data["refresh"] = str(refresh)
        return data


def decode_exp(raw: str) -> Any:
    from .tokens import decode_payload

    return decode_payload(raw).get("exp")


class TokenRefreshSlidingSerializer(serializers.Serializer):
    token = serializers.CharField()
    token_class = SlidingToken

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        token = self.token_class(attrs["token"])
        if not token._engine_checked:
            # A sliding token naming no user: simplejwt's renewal, which no session backs.
            token.check_exp(api_settings.SLIDING_TOKEN_REFRESH_EXP_CLAIM)
            token.set_exp()
            token.set_iat()
            return {"token": str(token)}
        renewed = engine_call(get_engine().refresh_sliding, attrs["token"])
        return {"token": renewed.token}


class TokenVerifySerializer(serializers.Serializer):
    token = serializers.CharField(write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            token = UntypedToken(attrs["token"])
        except TokenError as e:
            # simplejwt (with its blacklist app) answers a blacklisted token with a 400.
            if isinstance(e.cause, (keyfob.RevokedError, keyfob.ReuseDetectedError)):
                raise serializers.ValidationError(TOKEN_IS_BLACKLISTED) from e
            raise
        if not token._engine_checked and blacklist_installed():
            from .token_blacklist.models import BlacklistedToken

            jti = token.get(api_settings.JTI_CLAIM)
            if BlacklistedToken.objects.filter(token__jti=jti).exists():
                raise serializers.ValidationError(TOKEN_IS_BLACKLISTED)
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
                except EngineError:
                    pass
            raise
        if token._engine_checked or blacklist_installed():
            token.blacklist()
        return {}
