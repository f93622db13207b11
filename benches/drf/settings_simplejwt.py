"""The same project and view under djangorestframework-simplejwt, for comparison."""

from settings_keyfob import *
from settings_keyfob import KEYFOB

ROOT_URLCONF = "urls_simplejwt"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework_simplejwt.authentication.JWTAuthentication",
    ],
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": KEYFOB["ACCESS_TOKEN_LIFETIME"],
    "REFRESH_TOKEN_LIFETIME": KEYFOB["REFRESH_TOKEN_LIFETIME"],
    "ROTATE_REFRESH_TOKENS": True,
}
