"""A project serving djoser's JWT endpoints on keyfob (the one call, djoser unchanged)."""

import keyfob.drf

keyfob.drf.install_as_simplejwt()

SECRET_KEY = "djoser-on-keyfob-secret-key-0123456789abcdefghij"
USE_TZ = True
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "rest_framework",
    "rest_framework_simplejwt",
    "djoser",
]
ROOT_URLCONF = "kf_djoser_urls"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
}
KEYFOB = {"AUTH_HEADER_TYPES": ("JWT",)}
