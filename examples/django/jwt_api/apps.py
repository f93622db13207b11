from django.apps import AppConfig


class JwtApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "jwt_api"
