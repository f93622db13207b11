"""Wrapper for `python fragment=django-settings` blocks, a part of a settings.py: completed
with what every project has (and `KEYFOB_SIGNING_KEY_FILE`, an Ed25519 key, and
`KEYFOB_GATEWAY_SECRET` in the environment), the settings must configure Django, pass `manage.py check`
(keyfob.drf's checks among them) and build keyfob's engine."""

import os
import secrets
import tempfile
from datetime import timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

# What a deployment provides through its environment: a signing key file, a service's secret.
_pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
)
with tempfile.NamedTemporaryFile("wb", suffix=".pem", delete=False) as _key_file:
    _key_file.write(_pem)
os.environ.setdefault("KEYFOB_SIGNING_KEY_FILE", _key_file.name)
os.environ.setdefault("KEYFOB_GATEWAY_SECRET", secrets.token_urlsafe(32))
# What settings.py already has when a block adds to it.
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"]
MIDDLEWARE = ["django.middleware.csrf.CsrfViewMiddleware"]

BLOCK

import django  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

names = {name: value for name, value in dict(globals()).items() if name.isupper()}
names.setdefault("SECRET_KEY", "docs-check-secret-key-of-at-least-32-bytes!")
names.setdefault("DATABASES", {"default": {"ENGINE": "django.db.backends.sqlite3",
                                           "NAME": ":memory:"}})
apps = list(names.get("INSTALLED_APPS", []))
for app in ("django.contrib.contenttypes", "django.contrib.auth", "rest_framework", "keyfob.drf"):
    if app not in apps:
        apps.insert(0, app)
names["INSTALLED_APPS"] = apps
settings.configure(**names)
django.setup()
call_command("check", fail_level="WARNING")

from keyfob.drf.engine import get_engine  # noqa: E402

get_engine()
