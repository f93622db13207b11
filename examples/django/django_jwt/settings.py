"""Settings for the example django_jwt project, with keyfob in place of simplejwt.

SECRET_KEY signs the tokens: keep it out of the code and out of git. It is read from the
DJANGO_SECRET_KEY environment variable; without one a development key is used, and said so.
"""

import os
import sys
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    SECRET_KEY = "django-insecure-DEVELOPMENT-ONLY-key-do-not-deploy-0123456789"
    sys.stderr.write(
        "WARNING: DJANGO_SECRET_KEY is not set; using a DEVELOPMENT key that is public in "
        "the source. Anyone can forge tokens for this server. Set DJANGO_SECRET_KEY "
        "(32+ random bytes) before deploying.\n"
    )

DEBUG = os.environ.get("DJANGO_DEBUG", "1") == "1"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    # keyfob's system checks: a signing key it refuses stops `manage.py check`/`runserver`.
    "keyfob.drf",
    "jwt_api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "django_jwt.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "django_jwt.wsgi.application"

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        # DJANGO_DB_PATH lets the tests run the demo against a scratch database.
        "NAME": os.environ.get("DJANGO_DB_PATH") or BASE_DIR / "db.sqlite3",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# simplejwt's usual line, with keyfob's class in place of simplejwt's.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "keyfob.drf.authentication.JWTAuthentication",
    ],
}

# simplejwt's SIMPLE_JWT keys; the project's lifetimes: access 5 minutes, refresh 12 hours.
# keyfob adds: a session ends after IDLE_TIMEOUT without requests, and at
# REFRESH_TOKEN_LIFETIME at the latest however often it is refreshed.
KEYFOB = {
    # KEYFOB_ACCESS_LIFETIME_S shortens it (the browser test lets one expire).
    "ACCESS_TOKEN_LIFETIME": timedelta(
        seconds=int(os.environ.get("KEYFOB_ACCESS_LIFETIME_S", "300"))
    ),
    "REFRESH_TOKEN_LIFETIME": timedelta(hours=12),
    "IDLE_TIMEOUT": timedelta(minutes=30),
    "ROTATE_REFRESH_TOKENS": True,
    # Seconds during which a just-rotated refresh token still gets its successor back
    # (a client retrying after a timeout); 0: any second use ends the session.
    "REUSE_GRACE": timedelta(seconds=int(os.environ.get("KEYFOB_REUSE_GRACE_S", "0"))),
    # "memory" keeps sessions in this process: right for runserver, wrong for several
    # workers. Under gunicorn/uWSGI set KEYFOB_STORE=redis://[:PASSWORD@]host:6379/0.
    "STORE": os.environ.get("KEYFOB_STORE", "memory"),
}
if KEYFOB["STORE"] != "memory":
    KEYFOB["ENGINE_OPTIONS"] = {
        "store_prefix": os.environ.get("KEYFOB_STORE_PREFIX", "django_jwt:"),
        "store_timeout_ms": int(os.environ.get("KEYFOB_STORE_TIMEOUT_MS", "200")),
    }

# Browser apps (docs/browser-apps.md). KEYFOB_COOKIE_MODE=1: the token views keep both tokens
# in HttpOnly cookies instead of the body (the refresh cookie goes to /api/token/... only),
# /api/hello/ reads the access cookie, and every unsafe request a cookie authenticates (and
# every login) needs the CSRF token from the csrftoken cookie in its X-CSRFToken header.
# The page at /app/ is such a client. The cookies stay Secure even on the development server:
# browsers keep Secure cookies from http://127.0.0.1 and http://localhost, which they treat
# as potentially trustworthy; over plain HTTP on any other host they would drop them.
if os.environ.get("KEYFOB_COOKIE_MODE") == "1":
    KEYFOB.update(
        {
            "COOKIE_MODE": True,
            "COOKIE_ACCESS_TOKEN": True,
            "REFRESH_COOKIE_PATH": "/api/token/",
            "COOKIE_SECURE": True,
            "COOKIE_HTTPONLY": True,
            "COOKIE_SAMESITE": "Lax",
        }
    )
    REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"] = [
        "keyfob.drf.cookies.JWTCookieAuthentication",
    ]

# Verifying tokens elsewhere (docs/verifying-elsewhere.md). KEYFOB_SIGNING_KEY_FILE (a PKCS#8
# PEM), KEYFOB_ALGORITHM (EdDSA, ES256 or RS256) and KEYFOB_KEY_ID sign with that key, and
# /.well-known/jwks.json publishes its public half. After a rotation,
# KEYFOB_VERIFYING_KEY_FILES="old-kid=/path/old.pem,..." keeps the older keys verifying and
# published. Without them the server signs with HS256 and SECRET_KEY, and publishes nothing.
if os.environ.get("KEYFOB_SIGNING_KEY_FILE"):
    KEYFOB["ALGORITHM"] = os.environ.get("KEYFOB_ALGORITHM", "EdDSA")
    KEYFOB["SIGNING_KEY"] = Path(os.environ["KEYFOB_SIGNING_KEY_FILE"]).read_text()
    _options = KEYFOB.setdefault("ENGINE_OPTIONS", {})
    _options["key_id"] = os.environ["KEYFOB_KEY_ID"]
    _older = os.environ.get("KEYFOB_VERIFYING_KEY_FILES", "")
    _verifying = dict(item.split("=", 1) for item in _older.split(",") if item)
    if _verifying:
        _options["verifying_keys"] = {
            kid: Path(path).read_text() for kid, path in _verifying.items()
        }

# KEYFOB_OAUTH_CLIENTS="client-id:secret,...": token introspection (RFC 7662) at
# /oauth/introspect/ and revocation (RFC 7009) at /oauth/revoke/ for those clients, which
# authenticate with HTTP Basic. Off without it.
_clients = os.environ.get("KEYFOB_OAUTH_CLIENTS", "")
if _clients:
    KEYFOB["INTROSPECTION"] = KEYFOB["REVOCATION"] = True
    KEYFOB["OAUTH_CLIENTS"] = dict(
        item.split(":", 1) for item in _clients.split(",") if item
    )
