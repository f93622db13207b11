"""Cookie mode: the tokens of browser apps in ``HttpOnly`` cookies, CSRF-checked.

Off by default: the token views then answer in the body exactly as simplejwt does. With
``KEYFOB["COOKIE_MODE"] = True``:

- the obtain and refresh views set the refresh token as a cookie (``REFRESH_COOKIE_NAME``)
  whose path is ``REFRESH_COOKIE_PATH``, a prefix of the refresh and logout URLs only, so the
  browser sends it nowhere else; with ``COOKIE_ACCESS_TOKEN`` they set the access token too
  (``ACCESS_COOKIE_NAME`` at ``ACCESS_COOKIE_PATH``). Both live until the session's absolute
  deadline (the refresh token's ``exp``), with ``COOKIE_DOMAIN``, ``COOKIE_SECURE``,
  ``COOKIE_HTTPONLY`` and ``COOKIE_SAMESITE``. The response body leaves out the tokens that
  went into cookies, and is never cached (``Cache-Control: no-store``);
- the refresh and logout views read the refresh cookie when the body has no ``refresh``;
  the logout view then clears both cookies (also when the token was already refused). A
  token sent in the body is answered as in body mode: no cookie is set or cleared for it;
- ``JWTCookieAuthentication`` authenticates a request by its ``Authorization`` header as
  ``JWTAuthentication`` does, else by the access cookie;
- every unsafe request a cookie authenticates, and (``COOKIE_LOGIN_CSRF``) every login, must
  pass Django's CSRF check (``keyfob.drf.csrf``): else ``403``
  ``{"detail": "CSRF Failed: ...", "code": "csrf_failed"}``. Tokens sent in a header or in
  the body need no CSRF token. A login also rotates the CSRF token, as Django's ``login()``
  does.

A view's own ``cookie_mode`` (``as_view(cookie_mode=False)``) overrides the setting, so one
project can serve browsers in cookie mode and, at other URLs, mobile clients in body mode.
Sliding tokens have no cookie mode.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.middleware.csrf import rotate_token
from rest_framework.request import Request
from rest_framework.response import Response

from . import dpop
from .authentication import JWTAuthentication
from .csrf import enforce_csrf, require_middleware
from .engine import get_engine
from .settings import api_settings
from .tokens import REQUEST_CLIENT_ID, Token, decode_payload

OBTAIN, REFRESH, LOGOUT = "obtain", "refresh", "logout"

# The role of each token view in cookie mode, by the setting naming its serializer.
ROLES = {
    "TOKEN_OBTAIN_SERIALIZER": OBTAIN,
    "TOKEN_REFRESH_SERIALIZER": REFRESH,
    "TOKEN_BLACKLIST_SERIALIZER": LOGOUT,
}

SAMESITE = ("Lax", "Strict", "None")


@dataclass(frozen=True)
class CookieSettings:
    """The cookie settings of ``KEYFOB``, checked."""

    access: bool
    refresh_name: str
    refresh_path: str
    access_name: str
    access_path: str
    domain: str | None
    secure: bool
    httponly: bool
    samesite: str
    login_csrf: bool

    def set(self, response: Response, name: str, value: str, path: str, max_age: int) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            domain=self.domain,
            secure=self.secure,
            httponly=self.httponly,
            samesite=self.samesite,
        )

    def clear(self, response: Response, name: str, path: str) -> None:
        # The same attributes as when set, so the browser overwrites that very cookie.
        response.set_cookie(
            name,
            "",
            max_age=0,
            expires="Thu, 01 Jan 1970 00:00:00 GMT",
            path=path,
            domain=self.domain,
            secure=self.secure,
            httponly=self.httponly,
            samesite=self.samesite,
        )


def cookie_settings() -> CookieSettings:
    s = api_settings
    samesite = str(s.COOKIE_SAMESITE).capitalize()
    if samesite not in SAMESITE:
        raise ImproperlyConfigured(
            "settings.KEYFOB['COOKIE_SAMESITE'] must be 'Lax', 'Strict' or 'None'"
        )
    if samesite == "None" and not s.COOKIE_SECURE:
        raise ImproperlyConfigured(
            "settings.KEYFOB: COOKIE_SAMESITE 'None' needs COOKIE_SECURE (browsers refuse it)"
        )
    for key in ("REFRESH_COOKIE_PATH", "ACCESS_COOKIE_PATH"):
        if not str(getattr(s, key)).startswith("/"):
            raise ImproperlyConfigured(f"settings.KEYFOB['{key}'] must be a path starting with /")
    if s.REFRESH_COOKIE_NAME == s.ACCESS_COOKIE_NAME:
        raise ImproperlyConfigured(
            "settings.KEYFOB: REFRESH_COOKIE_NAME and ACCESS_COOKIE_NAME must differ"
        )
    return CookieSettings(
        access=bool(s.COOKIE_ACCESS_TOKEN),
        refresh_name=str(s.REFRESH_COOKIE_NAME),
        refresh_path=str(s.REFRESH_COOKIE_PATH),
        access_name=str(s.ACCESS_COOKIE_NAME),
        access_path=str(s.ACCESS_COOKIE_PATH),
        domain=s.COOKIE_DOMAIN,
        secure=bool(s.COOKIE_SECURE),
        httponly=bool(s.COOKIE_HTTPONLY),
        samesite=samesite,
        login_csrf=bool(s.COOKIE_LOGIN_CSRF),
    )


class CookieTransport:
    """Cookie mode for the token views (a base of ``TokenViewBase``). Each view's role comes
    from ``cookie_role`` or else from its ``serializer_setting``; views without one (verify,
    sliding) and every view with cookie mode off pass through untouched."""

    cookie_role: str | None = None
    # None: KEYFOB["COOKIE_MODE"]; True/False: this view's own, e.g. a body-mode copy of the
    # token URLs for mobile clients beside the browser's: ``as_view(cookie_mode=False)``.
    cookie_mode: bool | None = None
    serializer_setting = ""

    # The refresh token this request's cookie presented, once its CSRF check passed.
    _cookie_token: str | None = None

    def role(self) -> str | None:
        return self.cookie_role or ROLES.get(self.serializer_setting)

    def cookies_on(self) -> bool:
        return bool(api_settings.COOKIE_MODE if self.cookie_mode is None else self.cookie_mode)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        role = self.role()
        if role is None or request.method != "POST" or not self.cookies_on():
            return
        cookies = cookie_settings()
        require_middleware()
        if role == OBTAIN:
            if cookies.login_csrf:
                enforce_csrf(request)
            return
        body = request.data if isinstance(request.data, Mapping) else {}
        given = body.get("refresh")
        if isinstance(given, str) and given:
            return  # a token in the body: body mode for this request
        from_cookie = request.COOKIES.get(cookies.refresh_name)
        if from_cookie:
            # The browser sent it on its own: only a page of this site may have asked.
            enforce_csrf(request)
            self._cookie_token = from_cookie

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        if self._cookie_token is not None and "data" in kwargs:
            given: Any = kwargs["data"]
            # A copy of the body (a QueryDict stays one), with the cookie's token in it.
            is_mapping = isinstance(given, Mapping)
            data: Any = given.copy() if is_mapping else {}
            data["refresh"] = self._cookie_token
            kwargs["data"] = data
        return super().get_serializer(*args, **kwargs)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        role = self.role()
        if role is None or request.method != "POST" or not self.cookies_on():
            return response
        if role != OBTAIN and self._cookie_token is None:
            # A token from the body is answered in the body, as in body mode: cookies are set
            # or cleared only for a login or for a request that passed the CSRF check, so no
            # other site can plant its own session in the browser or wipe the user's.
            return response
        cookies = cookie_settings()
        if role == LOGOUT:
            # Done, or the token was refused (already logged out, expired): either way the
            # browser's cookies are dead.
            if response.status_code in (200, 401):
                cookies.clear(response, cookies.refresh_name, cookies.refresh_path)
                cookies.clear(response, cookies.access_name, cookies.access_path)
            return response
        if response.status_code == 200 and isinstance(response.data, dict):
            self._into_cookies(response, cookies)
            response["Cache-Control"] = "no-store"
            if role == OBTAIN:
                # A new login gets a new CSRF token, as with Django's login().
                rotate_token(request._request)
        return response

    def _into_cookies(self, response: Response, cookies: CookieSettings) -> None:
        data = response.data
        refresh = data.pop("refresh", None)
        # The session's absolute deadline: every refresh token's exp (rotation keeps it).
        # Both tokens were just minted or accepted by the engine, so their claims hold.
        source = refresh or self._cookie_token
        if source is None:
            return
        max_age = max(0, int(decode_payload(source)["exp"]) - get_engine().now())
        if refresh is not None:
            cookies.set(response, cookies.refresh_name, refresh, cookies.refresh_path, max_age)
        if cookies.access and "access" in data:
            access = data.pop("access")
            cookies.set(response, cookies.access_name, access, cookies.access_path, max_age)


class JWTCookieAuthentication(JWTAuthentication):
    """``JWTAuthentication`` that, for a request without an ``Authorization`` header, reads
    the access token from the access cookie (``KEYFOB["ACCESS_COOKIE_NAME"]``). An unsafe
    request authenticated by the cookie must pass Django's CSRF check (else 403
    ``csrf_failed``); a request with the header needs none."""

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        if self.get_header(request) is not None:
            return super().authenticate(request)
        raw = request.COOKIES.get(api_settings.ACCESS_COOKIE_NAME)
        if not raw:
            return None
        enforce_csrf(request)
        presented = (
            None
            if api_settings.CLIENT_BINDING is None
            else REQUEST_CLIENT_ID.set(dpop.client_id_of(request))
        )
        try:
            validated = self.get_validated_token(raw.encode())
        finally:
            if presented is not None:
                REQUEST_CLIENT_ID.reset(presented)
        return self.get_user(validated), validated
