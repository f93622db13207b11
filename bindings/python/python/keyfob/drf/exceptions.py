"""simplejwt's exception classes, and keyfob's engine errors mapped to simplejwt's messages."""

from __future__ import annotations

import re
from typing import Any, NoReturn

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status

import keyfob

# The base class of the engine's errors: the one name keyfob.drf catches them by.
EngineError = keyfob.KeyfobError


class TokenError(Exception):
    """A token was refused; ``args[0]`` is the user-facing message, ``.cause`` keyfob's error."""

    def __init__(self, message: Any, cause: EngineError | None = None) -> None:
        super().__init__(message)
        self.cause = cause


class ExpiredTokenError(TokenError):
    pass


class TokenBackendError(Exception):
    """``TokenBackend`` could not encode or decode a token (simplejwt's class)."""


class TokenBackendExpiredToken(TokenBackendError):
    """``TokenBackend.decode`` found the token expired."""


class DetailDictMixin:
    """Bodies of the form ``{"detail": ..., "code": ...}``, as simplejwt answers."""

    default_detail: Any
    default_code: str

    def __init__(self, detail: dict[str, Any] | str | None = None, code: str | None = None) -> None:
        detail_dict: dict[str, Any] = {"detail": self.default_detail, "code": self.default_code}
        if isinstance(detail, dict):
            detail_dict.update(detail)
        elif detail is not None:
            detail_dict["detail"] = detail
        if code is not None:
            detail_dict["code"] = code
        super().__init__(detail_dict)  # type: ignore[call-arg]


class AuthenticationFailed(DetailDictMixin, exceptions.AuthenticationFailed):
    pass


class InvalidToken(AuthenticationFailed):
    status_code = status.HTTP_401_UNAUTHORIZED
    default_detail = _("Token is invalid or expired")
    default_code = "token_not_valid"


class StoreUnavailable(DetailDictMixin, exceptions.APIException):
    """The session store cannot be reached or answered too late: the server's fault, not the
    token's, so a 503 the client may retry, never a 401 that would log the user out. Body:
    ``{"detail": "Session store unavailable, try again later.", "code": "store_unavailable"}``.
    """

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = _("Session store unavailable, try again later.")
    default_code = "store_unavailable"


TOKEN_IS_INVALID = _("Token is invalid")
TOKEN_IS_EXPIRED = _("Token is expired")
TOKEN_HAS_WRONG_TYPE = _("Token has wrong type")
TOKEN_IS_BLACKLISTED = _("Token is blacklisted")

# keyfob error class -> simplejwt's message. Anything else is "Token is invalid".
_MESSAGES: tuple[tuple[type[EngineError], Any], ...] = (
    (keyfob.ExpiredError, TOKEN_IS_EXPIRED),
    # The session ended (idle, or its absolute lifetime): to the client, an expired token.
    (keyfob.SessionIdleError, TOKEN_IS_EXPIRED),
    (keyfob.SessionExpiredError, TOKEN_IS_EXPIRED),
    (keyfob.WrongTypeError, TOKEN_HAS_WRONG_TYPE),
    # Logout and refresh-token replay both end the session: simplejwt's "blacklisted".
    (keyfob.RevokedError, TOKEN_IS_BLACKLISTED),
    (keyfob.ReuseDetectedError, TOKEN_IS_BLACKLISTED),
)

_CLAIM_IN_MESSAGE = re.compile(r"'([^']*)'\s*$")


def message_for(error: EngineError) -> Any:
    """simplejwt's user-facing message for a keyfob engine error."""
    for cls, message in _MESSAGES:
        if isinstance(error, cls):
            return message
    if isinstance(error, keyfob.MissingClaimError):
        from .settings import api_settings

        claim = claim_of(error)
        if claim == "exp":
            return _("Token has no '{}' claim").format("exp")
        if claim == api_settings.JTI_CLAIM:
            return _("Token has no id")
        if claim == api_settings.TOKEN_TYPE_CLAIM:
            return _("Token has no type")
    if isinstance(error, keyfob.InvalidClaimError):
        from .settings import api_settings

        # simplejwt compares the type claim with what it wants, whatever its value.
        if claim_of(error) == api_settings.TOKEN_TYPE_CLAIM:
            return TOKEN_HAS_WRONG_TYPE
    return TOKEN_IS_INVALID


def claim_of(error: EngineError) -> str | None:
    """The claim a missing_claim / invalid_claim error names."""
    match = _CLAIM_IN_MESSAGE.search(str(error))
    return match.group(1) if match else None


def raise_token_error(error: EngineError) -> NoReturn:
    """Re-raise a keyfob engine error as what simplejwt would raise in its place."""
    if isinstance(error, keyfob.StoreUnavailableError):
        raise StoreUnavailable() from error
    if isinstance(error, keyfob.ConfigError):
        raise ImproperlyConfigured(f"settings.KEYFOB: {error}") from error
    cls = ExpiredTokenError if isinstance(error, keyfob.ExpiredError) else TokenError
    raise cls(message_for(error), error) from error
