"""The JWK Set endpoint: the engine's public keys for verifiers elsewhere.

``JWKSView`` answers GET (and HEAD) with ``engine.jwks()`` as JSON: the signing key and every
verifying key, each with ``kid``, ``alg`` and ``"use": "sig"``. Mount it where verifiers look,
conventionally ``/.well-known/jwks.json``::

    path(".well-known/jwks.json", JWKSView.as_view())

Responses are cacheable by anyone for ``KEYFOB["JWKS_MAX_AGE"]`` (``Cache-Control: public,
max-age=...``) and carry an ``ETag``, so a verifier's ``If-None-Match`` gets a ``304``. A
verifier may keep a set that long: publish a new key (as a verifying key) at least that long
before it starts signing. With an HMAC algorithm there is nothing to publish: ``404`` with
``{"detail": ..., "code": "jwks_unavailable"}``. A signing key without ``key_id`` is a
configuration error.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views import View

import keyfob

from .engine import get_engine, seconds
from .settings import api_settings

HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")


class JWKSView(View):
    """GET: the JWK Set (RFC 7517), cacheable, with an ETag."""

    http_method_names = ["get", "head", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            jwks = get_engine().jwks()
        except keyfob.ConfigError as e:
            if api_settings.ALGORITHM in HMAC_ALGORITHMS:
                return JsonResponse(
                    {
                        "detail": f"No JSON Web Key Set: {api_settings.ALGORITHM} keys are "
                        "shared secrets and are never published.",
                        "code": "jwks_unavailable",
                    },
                    status=404,
                )
            raise ImproperlyConfigured(f"settings.KEYFOB: {e}") from e
        body = json.dumps(jwks, separators=(",", ":")).encode()
        etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
        response = HttpResponse(body, content_type="application/json")
        response["ETag"] = etag
        patch_cache_control(
            response, public=True, max_age=seconds(api_settings.JWKS_MAX_AGE, "JWKS_MAX_AGE")
        )
        # A matching If-None-Match: 304 with the same caching headers and no body.
        return get_conditional_response(request, etag=etag, response=response)
