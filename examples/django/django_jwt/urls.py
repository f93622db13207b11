import os

from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from jwt_api.views import BrowserAppView
from keyfob.drf.jwks import JWKSView
from keyfob.drf.oauth import IntrospectionView, RevocationView

urlpatterns = [
    path("api/", include("jwt_api.urls")),
    # A small browser client of the API in cookie mode (KEYFOB_COOKIE_MODE=1).
    path("app/", BrowserAppView.as_view(), name="browser_app"),
    # For verifiers elsewhere: the public keys, and (when turned on) introspection and
    # revocation for the services of KEYFOB_OAUTH_CLIENTS.
    path(".well-known/jwks.json", JWKSView.as_view(), name="jwks"),
    path("oauth/introspect/", IntrospectionView.as_view(), name="introspect"),
    path("oauth/revoke/", RevocationView.as_view(), name="revoke"),
]
if apps.is_installed("django.contrib.admin"):
    # Each user's sessions, with buttons to end them (jwt_api/admin.py).
    urlpatterns.append(path("admin/", admin.site.urls))
if os.environ.get("KEYFOB_METRICS", "1") == "1":
    from jwt_api.metrics import metrics

    # The engine's metrics for Prometheus; keep it reachable from your monitoring only.
    urlpatterns.append(path("metrics", metrics, name="metrics"))
