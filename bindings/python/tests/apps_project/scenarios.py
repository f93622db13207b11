"""Scenarios run in their own process by ``tests/drf/test_apps.py``:
``python -m apps_project.scenarios NAME`` (settings from the environment, see settings.py).
Each exits 0 when every assertion in it holds."""

from __future__ import annotations

import os
import sys
from datetime import timedelta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "apps_project.settings")

import django  # noqa: E402

django.setup()

import keyfob  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from keyfob.drf.engine import get_engine  # noqa: E402


def migrate() -> None:
    call_command("migrate", verbosity=0)


def user(name: str = "alice", **extra: object):
    User = get_user_model()
    found = User.objects.filter(username=name).first()
    return found or User.objects.create_user(username=name, password="pw", **extra)


def revoked(access: str) -> bool:
    try:
        get_engine().validate(access)
    except keyfob.RevokedError:
        return True
    return False


def blacklist_app() -> None:
    """keyfob.drf.token_blacklist: rows for logins and refreshes, revocation by row."""
    from keyfob.drf.token_blacklist.models import BlacklistedToken, OutstandingToken
    from keyfob.drf.tokens import RefreshToken

    migrate()
    alice = user()
    client = Client()
    # A login through the view records its refresh token.
    pair = client.post("/api/token/", {"username": "alice", "password": "pw"}).json()
    row = OutstandingToken.objects.get(token=pair["refresh"])
    assert row.user == alice and row.expires_at > row.created_at
    # A refresh (rotating) records the new refresh token too.
    rotated = client.post("/api/token/refresh/", {"refresh": pair["refresh"]}).json()
    assert OutstandingToken.objects.filter(token=rotated["refresh"]).exists()
    # A BlacklistedToken row of the current refresh token logs the session out at once.
    assert (
        client.get("/api/hello/", HTTP_AUTHORIZATION=f"Bearer {rotated['access']}").status_code
        == 200
    )
    BlacklistedToken.objects.create(token=OutstandingToken.objects.get(token=rotated["refresh"]))
    assert revoked(rotated["access"])
    assert (
        client.get("/api/hello/", HTTP_AUTHORIZATION=f"Bearer {rotated['access']}").status_code
        == 401
    )
    # RefreshToken.blacklist(): (row, created), and its session and access token end.
    refresh = RefreshToken.for_user(alice)
    access = str(refresh.access_token)
    blacklisted, created = refresh.blacklist()
    assert created and blacklisted.token.jti == refresh["jti"]
    assert revoked(access)
    # The logout view blacklists too.
    pair = client.post("/api/token/", {"username": "alice", "password": "pw"}).json()
    assert client.post("/api/token/blacklist/", {"refresh": pair["refresh"]}).status_code == 200
    assert BlacklistedToken.objects.filter(token__token=pair["refresh"]).exists()
    assert revoked(pair["access"])
    # Blacklisting a refresh token already rotated out spends it, not its session.
    pair = client.post("/api/token/", {"username": "alice", "password": "pw"}).json()
    rotated = client.post("/api/token/refresh/", {"refresh": pair["refresh"]}).json()
    BlacklistedToken.objects.create(token=OutstandingToken.objects.get(token=pair["refresh"]))
    assert not revoked(rotated["access"])


def blacklist_admin() -> None:
    """The admin lists outstanding tokens and blacklists them (logging their sessions out)."""
    from keyfob.drf.token_blacklist.models import BlacklistedToken, OutstandingToken
    from keyfob.drf.tokens import RefreshToken

    migrate()
    alice = user()
    refresh = RefreshToken.for_user(alice)
    access = str(refresh.access_token)
    admin = user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    page = client.get("/admin/token_blacklist/outstandingtoken/")
    assert page.status_code == 200 and refresh["jti"] in page.content.decode()
    row = OutstandingToken.objects.get(jti=refresh["jti"])
    answer = client.post(
        "/admin/token_blacklist/outstandingtoken/",
        {"action": "blacklist_selected", "_selected_action": [row.pk]},
    )
    assert answer.status_code == 302, answer.status_code
    assert BlacklistedToken.objects.filter(token=row).exists()
    assert revoked(access)
    assert client.get("/admin/token_blacklist/blacklistedtoken/").status_code == 200


def flush() -> None:
    """flushexpiredtokens drops expired rows only."""
    from unittest import mock

    from keyfob.drf.token_blacklist.models import OutstandingToken
    from keyfob.drf.tokens import RefreshToken
    from keyfob.drf.utils import aware_utcnow

    migrate()
    alice = user()
    fresh = RefreshToken.for_user(alice)
    with mock.patch(
        "keyfob.drf.tokens.aware_utcnow", return_value=aware_utcnow() - timedelta(days=2)
    ):
        old = RefreshToken.for_user(alice)
    old.blacklist()
    call_command("flushexpiredtokens")
    assert list(OutstandingToken.objects.values_list("jti", flat=True)) == [fresh["jti"]]


def no_app() -> None:
    """Without the blacklist app no query is made by logins, refreshes or logouts."""
    from keyfob.drf.tokens import RefreshToken

    migrate()
    alice = user()
    with CaptureQueriesContext(connection) as queries:
        refresh = RefreshToken.for_user(alice)
        access = str(refresh.access_token)
        RefreshToken(str(refresh)).blacklist()
    assert len(queries) == 0, queries.captured_queries
    assert revoked(access)


def simplejwt_db() -> None:
    """(with simplejwt's own app) migrate, then leave rows behind for `switched`."""
    from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    migrate()
    alice = user()
    kept = RefreshToken.for_user(alice)
    gone = RefreshToken.for_user(alice)
    gone.blacklist()
    assert OutstandingToken.objects.count() == 2 and BlacklistedToken.objects.count() == 1
    print(kept["jti"], gone["jti"])


def switched() -> None:
    """(with keyfob's app, on simplejwt's database) nothing to migrate, rows read as they are,
    blacklisting works."""
    from keyfob.drf.token_blacklist.models import BlacklistedToken, OutstandingToken
    from keyfob.drf.tokens import RefreshToken

    kept_jti, gone_jti = sys.argv[2], sys.argv[3]
    call_command("migrate", "--check", verbosity=0)  # exits non-zero if anything is unapplied
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
    assert OutstandingToken.objects.filter(jti=kept_jti).exists()
    assert BlacklistedToken.objects.filter(token__jti=gone_jti).exists()
    refresh = RefreshToken.for_user(user())
    access = str(refresh.access_token)
    refresh.blacklist()
    assert revoked(access)
    assert OutstandingToken.objects.count() == 3 and BlacklistedToken.objects.count() == 2


def alias() -> None:
    """install_as_simplejwt: simplejwt's names are keyfob's modules and classes."""
    import importlib

    import keyfob.drf.tokens
    import rest_framework_simplejwt.tokens
    from django.conf import settings
    from django.utils.module_loading import import_string

    assert rest_framework_simplejwt.tokens is keyfob.drf.tokens
    cls = import_string("rest_framework_simplejwt.authentication.JWTAuthentication")
    assert cls.__module__ == "keyfob.drf.authentication"
    assert "rest_framework_simplejwt.token_blacklist" in settings.INSTALLED_APPS
    models = importlib.import_module("rest_framework_simplejwt.token_blacklist.models")
    assert models.OutstandingToken._meta.app_label == "token_blacklist"
    assert models.OutstandingToken.__module__ == "keyfob.drf.token_blacklist.models"
    migrate()
    from rest_framework_simplejwt.tokens import RefreshToken

    refresh = RefreshToken.for_user(user())
    access = str(refresh.access_token)
    refresh.blacklist()
    assert revoked(access)


if __name__ == "__main__":
    globals()[sys.argv[1]]()
    print("ok:", sys.argv[1])
