"""dj-rest-auth's own test settings, on keyfob: the one call, and a fast password hasher."""

import keyfob.drf

keyfob.drf.install_as_simplejwt()

from dj_rest_auth.tests.settings import *  # noqa: E402,F403

TEST_RUNNER = "django.test.runner.DiscoverRunner"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
INSTALLED_APPS = [*INSTALLED_APPS, "rest_framework_simplejwt"]  # noqa: F405  (keyfob's checks)
