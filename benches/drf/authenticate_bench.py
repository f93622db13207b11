"""Time spent inside DRF authenticate(): keyfob.drf against simplejwt, same request shape.

Run with DJANGO_SETTINGS_MODULE=settings_simplejwt (it carries both KEYFOB and SIMPLE_JWT)
on a migrated database holding the user `bench`. Prints JSON medians (ns per call).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import interleaved  # benches/interleaved.py

django.setup()

from django.contrib.auth import get_user_model
from keyfob.drf import authentication as keyfob_auth
from keyfob.drf.tokens import RefreshToken as KeyfobRefresh
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt import authentication as simple_auth
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefresh

ROUNDS = 21
TARGET_ROUND_S = 0.03


def request_with(token: str) -> Request:
    return Request(APIRequestFactory().get("/api/hello/", HTTP_AUTHORIZATION=f"Bearer {token}"))


def main() -> None:
    user = get_user_model().objects.get(username="bench")
    keyfob_request = request_with(str(KeyfobRefresh.for_user(user).access_token))
    simple_request = request_with(str(SimpleRefresh.for_user(user).access_token))
    k_db, k_stateless = (
        keyfob_auth.JWTAuthentication(),
        keyfob_auth.JWTStatelessUserAuthentication(),
    )
    s_db, s_stateless = (
        simple_auth.JWTAuthentication(),
        simple_auth.JWTStatelessUserAuthentication(),
    )
    for auth, req in [(k_db, keyfob_request), (s_db, simple_request)]:
        authenticated = auth.authenticate(req)
        assert authenticated is not None and authenticated[0].pk == user.pk, auth
    for auth, req in [(k_stateless, keyfob_request), (s_stateless, simple_request)]:
        authenticated = auth.authenticate(req)
        assert authenticated is not None and str(authenticated[0].id) == str(user.pk), auth

    results = interleaved.measure(
        {
            "keyfob_stateless": lambda: k_stateless.authenticate(keyfob_request),
            "simplejwt_stateless": lambda: s_stateless.authenticate(simple_request),
            "keyfob_db_user": lambda: k_db.authenticate(keyfob_request),
            "simplejwt_db_user": lambda: s_db.authenticate(simple_request),
        },
        ROUNDS,
        TARGET_ROUND_S,
    )
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
