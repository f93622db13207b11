"""Django settings for keyfob.drf's tests.

One project serves three URL trees: the example project (``examples/django``, keyfob) at
``/api/``, and the same endpoints under ``/sj/api/`` (djangorestframework-simplejwt 5.5) and
``/kf/api/`` (keyfob.drf), so a test can send one request sequence to both and compare.
simplejwt is configured to match keyfob's defaults: rotation on, replay blacklisted.
"""

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[4]
EXAMPLE = REPO / "examples" / "django"
if str(EXAMPLE) not in sys.path:
    sys.path.append(str(EXAMPLE))

SECRET_KEY = "keyfob-tests-only-secret-key-0123456789abcdefghijklmnop"
DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    # keyfob's app: its checks, the revocation on password change, the admin's session page.
    "keyfob.drf",
    "jwt_api",
]
MIDDLEWARE = [
    "django.middleware.common.CommonMiddleware",
    # For the example's admin (the user sessions page). No CsrfViewMiddleware: a cookie-mode
    # test checks that keyfob.drf refuses to run without it (the admin's views are
    # CSRF-protected on their own).
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
ROOT_URLCONF = "django_project.urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
# Fast hashing: the tests log in often.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["keyfob.drf.authentication.JWTAuthentication"],
}
SIMPLE_JWT = {"ROTATE_REFRESH_TOKENS": True, "BLACKLIST_AFTER_ROTATION": True}
KEYFOB: dict = {}
