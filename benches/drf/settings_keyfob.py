"""examples/django as shipped (keyfob.drf), on a throwaway database, DEBUG off."""

import os

from django_jwt.settings import *

DEBUG = False
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["BENCH_DRF_DB"],
    }
}
