"""A small Django project for tests that need their own process: the blacklist app (keyfob's
or simplejwt's, on a database file), the system checks, and ``install_as_simplejwt``.

Environment: ``APPS_BLACKLIST`` = ``keyfob`` | ``simplejwt`` | ``alias`` | ``none``;
``APPS_DB`` = the sqlite file; ``APPS_SECRET`` = ``SECRET_KEY``; ``APPS_KEYFOB`` = ``KEYFOB``
as JSON.
"""

import json
import os

BLACKLIST = os.environ.get("APPS_BLACKLIST", "none")
if BLACKLIST == "alias":
    import keyfob.drf

    keyfob.drf.install_as_simplejwt()

SECRET_KEY = os.environ.get("APPS_SECRET", "apps-project-secret-key-0123456789abcdefghij")
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "rest_framework",
    {
        "keyfob": "keyfob.drf",
        "simplejwt": "rest_framework_simplejwt",
        "alias": "rest_framework_simplejwt",
        "none": "keyfob.drf",
    }[BLACKLIST],
]
INSTALLED_APPS += {
    "keyfob": ["keyfob.drf.token_blacklist"],
    "simplejwt": ["rest_framework_simplejwt.token_blacklist"],
    "alias": ["rest_framework_simplejwt.token_blacklist"],
    "none": [],
}[BLACKLIST]
MIDDLEWARE = [
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
ROOT_URLCONF = "apps_project.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("APPS_DB", ":memory:"),
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["keyfob.drf.authentication.JWTAuthentication"],
}
KEYFOB = json.loads(os.environ.get("APPS_KEYFOB", "{}"))
