"""Settings for the article's django_jwt project, with keyfob in place of simplejwt.

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

# The article's line, with keyfob's class in place of simplejwt's.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "keyfob.drf.authentication.JWTAuthentication",
    ],
}

# simplejwt's SIMPLE_JWT keys; the article's lifetimes: access 5 minutes, refresh 12 hours.
# keyfob adds: a session ends after IDLE_TIMEOUT without requests, and at
# REFRESH_TOKEN_LIFETIME at the latest however often it is refreshed.
KEYFOB = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
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
