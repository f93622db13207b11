"""Wrapper for `python fragment=django-admin` blocks, a part of an admin.py: Django with its
admin and keyfob.drf installed, a migrated in-memory database. After the block, a superuser
must see the admin's index, the user list and a user's change page, and every page of that
user the change page links to (such as its sessions)."""

import re

import django
from django.conf import settings
from django.core.management import call_command

settings.configure(
    SECRET_KEY="docs-check-secret-key-of-at-least-32-bytes!",
    DEBUG=False,
    ALLOWED_HOSTS=["testserver"],
    INSTALLED_APPS=[
        "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes",
        "django.contrib.sessions", "django.contrib.messages", "rest_framework", "keyfob.drf",
    ],
    MIDDLEWARE=[
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    ],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    ROOT_URLCONF=__name__,
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": [
            "django.template.context_processors.request",
            "django.contrib.auth.context_processors.auth",
            "django.contrib.messages.context_processors.messages",
        ]},
    }],
    KEYFOB={},
)
django.setup()
call_command("migrate", verbosity=0)

BLOCK

from django.contrib import admin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402

urlpatterns = [path("admin/", admin.site.urls)]
staff = get_user_model().objects.create_superuser("root", password="secret")
client = Client()
client.force_login(staff)
user_page = f"/admin/auth/user/{staff.pk}/"
for url in ("/admin/", "/admin/auth/user/", user_page + "change/"):
    assert client.get(url).status_code == 200, url
change = client.get(user_page + "change/").content.decode()
for link in set(re.findall(rf'href="({re.escape(user_page)}[^"]+)"', change)):
    assert client.get(link).status_code == 200, link
