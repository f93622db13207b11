"""keyfob.Engine against PyJWT and simplejwt, in one process, on the same token and key.

Every candidate is timed in interleaved rounds with the thread's CPU clock (the machine is
often busy), and the median per call is printed as JSON for bench/report.py.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable

import django
from django.conf import settings

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


def calibrate(fn: Callable[[], object]) -> int:
    """Calls per round so one round takes about TARGET_ROUND_S."""
    n = 1
    while True:
        start = time.thread_time()
        for _ in range(n):
            fn()
        if time.thread_time() - start >= TARGET_ROUND_S / 4:
            return max(
                1, int(n * TARGET_ROUND_S / max(time.thread_time() - start, 1e-9))
            )
        n *= 4


def measure(candidates: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Median ns per call of each candidate, rounds interleaved so load hits all alike."""
    counts = {name: calibrate(fn) for name, fn in candidates.items()}
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    for _ in range(ROUNDS):
        for name, fn in candidates.items():
            n = counts[name]
            start = time.thread_time_ns()
            for _ in range(n):
                fn()
            samples[name].append((time.thread_time_ns() - start) / n)
    return {name: statistics.median(s) for name, s in samples.items()}


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

    results = measure(
        {
            "keyfob_validate": lambda: engine.validate(access),
            "pyjwt_decode": lambda: jwt.decode(access, SECRET, algorithms=["HS256"]),
            "simplejwt_access_token": lambda: AccessToken(access),
            "keyfob_login": lambda: engine.login("42"),
            "pyjwt_encode": lambda: jwt.encode(claims, SECRET, algorithm="HS256"),
            "simplejwt_for_user_pair": simplejwt_login,
            "keyfob_refresh": keyfob_refresh,
            "simplejwt_refresh_rotate": simplejwt_refresh,
        }
    )
    results["python"] = sys.version.split()[0]
    json.dump(results, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
