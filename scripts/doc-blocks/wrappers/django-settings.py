"""Wrapper for `python fragment=django-settings` blocks, a part of a settings.py: completed
with what every project has, the settings must configure Django, pass `manage.py check`
(keyfob.drf's checks among them) and build keyfob's engine."""

import os
from datetime import timedelta

BLOCK

import django  # noqa: E402
from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402

names = {name: value for name, value in dict(globals()).items() if name.isupper()}
names.setdefault("SECRET_KEY", "docs-check-secret-key-of-at-least-32-bytes!")
names.setdefault("DATABASES", {"default": {"ENGINE": "django.db.backends.sqlite3",
                                           "NAME": ":memory:"}})
apps = list(names.get("INSTALLED_APPS", []))
for app in ("django.contrib.contenttypes", "django.contrib.auth", "rest_framework"):
    if app not in apps:
        apps.insert(0, app)
names["INSTALLED_APPS"] = apps
settings.configure(**names)
django.setup()
call_command("check", fail_level="WARNING")

from keyfob.drf.engine import get_engine  # noqa: E402

get_engine()
