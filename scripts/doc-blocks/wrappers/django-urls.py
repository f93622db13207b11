"""Wrapper for `python fragment=django-urls` blocks, a part of a urls.py: in a configured
Django, every path of `urlpatterns` must resolve to its view."""

import sys

import django
from django.conf import settings

settings.configure(
    SECRET_KEY="docs-check-secret-key-of-at-least-32-bytes!",
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "rest_framework"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
)
django.setup()
urlpatterns = []  # what urls.py already has when a block adds to it

BLOCK

from django.urls import URLPattern, resolve  # noqa: E402

for pattern in urlpatterns:  # noqa: F821
    assert isinstance(pattern, URLPattern), pattern
    match = resolve("/" + str(pattern.pattern), sys.modules[__name__])
    assert match.func is pattern.callback, pattern
