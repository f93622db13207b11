"""Wrapper for `python fragment=django` blocks: Django configured with the example project's
URLs (examples/django: /api/token/, /api/token/refresh/, /api/hello/, ...), keyfob.drf's
authentication, a migrated in-memory database with the `user` alice (password "secret"),
and a test `client`."""

import time  # noqa: F401  (blocks use it)

import django
from django.conf import settings
from django.core.management import call_command

settings.configure(
    SECRET_KEY="docs-check-secret-key-of-at-least-32-bytes!",
    DEBUG=False,
    ALLOWED_HOSTS=["testserver"],
    INSTALLED_APPS=[
        "django.contrib.contenttypes", "django.contrib.auth", "rest_framework",
        "keyfob.drf", "jwt_api",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    ROOT_URLCONF="django_jwt.urls",
    REST_FRAMEWORK={
        "DEFAULT_AUTHENTICATION_CLASSES": ["keyfob.drf.authentication.JWTAuthentication"],
    },
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True}],
    KEYFOB={},
)
django.setup()
call_command("migrate", verbosity=0)

from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402

user = get_user_model().objects.create_user("alice", password="secret")
client = Client()

BLOCK
