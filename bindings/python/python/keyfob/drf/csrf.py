"""CSRF protection for requests a cookie authenticates (keyfob.drf.cookies).

A browser sends cookies with requests other sites make it send, so a request authenticated
by a cookie must prove it comes from a page of this site. The proof is Django's: the CSRF
token from the ``csrftoken`` cookie (readable by the site's own pages only) sent back in the
``X-CSRFToken`` header, checked by ``django.middleware.csrf.CsrfViewMiddleware``'s own logic
(with its ``Origin`` and, over HTTPS, ``Referer`` checks and ``CSRF_TRUSTED_ORIGINS``), run
the way DRF's ``SessionAuthentication`` runs it. Safe methods (GET, HEAD, OPTIONS, TRACE)
pass. A request that fails is answered ``403`` with
``{"detail": "CSRF Failed: <Django's reason>", "code": "csrf_failed"}``.

Requests that carry their token in the ``Authorization`` header or in the body need no CSRF
token: another site cannot make a browser send those.

``CsrfTokenView`` (GET) sets the ``csrftoken`` cookie and answers ``{"csrfToken": ...}``, for
pages that are not rendered by Django; pages that are can use ``ensure_csrf_cookie``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, JsonResponse
from django.middleware.csrf import get_token
from django.utils.translation import gettext_lazy as _
from django.views import View
from rest_framework import exceptions, status
from rest_framework.authentication import CSRFCheck
from rest_framework.request import Request

from .exceptions import DetailDictMixin

MIDDLEWARE = "django.middleware.csrf.CsrfViewMiddleware"


class CsrfFailed(DetailDictMixin, exceptions.PermissionDenied):
    """403: an unsafe request authenticated by a cookie without a valid CSRF token."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("CSRF Failed")
    default_code = "csrf_failed"


def _no_response(request: Any) -> None:  # pragma: no cover - never called by the check
    return None


def enforce_csrf(request: Request) -> None:
    """Raise ``CsrfFailed`` unless ``request`` passes Django's CSRF check (safe methods do)."""
    check = CSRFCheck(_no_response)
    # Reads the csrftoken cookie into request.META, as the middleware does before a view.
    check.process_request(request)
    reason = check.process_view(request, None, (), {})
    if reason:
        raise CsrfFailed(f"CSRF Failed: {reason}")


def require_middleware() -> None:
    """Cookie mode needs ``CsrfViewMiddleware``: it is what sets the ``csrftoken`` cookie."""
    if MIDDLEWARE not in getattr(settings, "MIDDLEWARE", ()):
        raise ImproperlyConfigured(
            f"settings.KEYFOB['COOKIE_MODE'] needs '{MIDDLEWARE}' in settings.MIDDLEWARE: "
            "it sets the csrftoken cookie every unsafe cookie-authenticated request must echo"
        )


class CsrfTokenView(View):
    """GET: set the ``csrftoken`` cookie and answer ``{"csrfToken": <token>}``.

    A plain Django view: this module is imported by an authentication class, which must not
    import DRF's views (DRF imports its authentication classes while loading them)."""

    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
        require_middleware()
        response = JsonResponse({"csrfToken": get_token(request)})
        response["Cache-Control"] = "no-store"
        return response
