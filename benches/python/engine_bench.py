"""keyfob.Engine against PyJWT and simplejwt, in one process, on the same token and key.

Every candidate is timed in interleaved rounds with the thread's CPU clock (the machine is
often busy), and the median per call is printed as JSON for benches/report.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from django.conf import settings

import interleaved  # benches/interleaved.py

SECRET = "bench-secret-0123456789abcdef0123456789abcdef"

settings.configure(
    SECRET_KEY=SECRET,
    INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"],
    DATABASES={},
    USE_TZ=True,
    SIMPLE_JWT={"SIGNING_KEY": SECRET, "ROTATE_REFRESH_TOKENS": True},
)
django.setup()

import jwt
import keyfob
from django.contrib.auth.models import User
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

ROUNDS = 25
TARGET_ROUND_S = 0.02


def main() -> None:
    engine = keyfob.Engine(signing_key=SECRET)
    pair = engine.login("42")
    access = pair.access
    # The same token for all three: PyJWT and simplejwt read keyfob tokens (same claims names).
    assert jwt.decode(access, SECRET, algorithms=["HS256"])["user_id"] == "42"
    assert AccessToken(access)["user_id"] == "42"
    claims = jwt.decode(access, SECRET, algorithms=["HS256"])
    user = User(id=42, username="bench")

    def simplejwt_login() -> None:
        refresh = RefreshToken.for_user(user)
        str(refresh)
        str(refresh.access_token)

    chain = [pair.refresh]

    def keyfob_refresh() -> None:
        chain[0] = engine.refresh(chain[0]).refresh

    simple_chain = [str(RefreshToken.for_user(user))]

    def simplejwt_refresh() -> None:
        # What TokenRefreshSerializer does with rotation (no blacklist app).
        refresh = RefreshToken(simple_chain[0])
        str(refresh.access_token)
        refresh.set_jti()
        refresh.set_exp()
        refresh.set_iat()
        simple_chain[0] = str(refresh)

    results = interleaved.measure(
        {
            "keyfob_validate": lambda: engine.validate(access),
            "pyjwt_decode": lambda: jwt.decode(access, SECRET, algorithms=["HS256"]),
            "simplejwt_access_token": lambda: AccessToken(access),
            "keyfob_login": lambda: engine.login("42"),
            "pyjwt_encode": lambda: jwt.encode(claims, SECRET, algorithm="HS256"),
            "simplejwt_for_user_pair": simplejwt_login,
            "keyfob_refresh": keyfob_refresh,
            "simplejwt_refresh_rotate": simplejwt_refresh,
        },
        ROUNDS,
        TARGET_ROUND_S,
    )
    results["python"] = sys.version.split()[0]
    results["pyjwt"] = jwt.__version__
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
