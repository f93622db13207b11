"""WSGI config for django_jwt."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "django_jwt.settings")

application = get_wsgi_application()
