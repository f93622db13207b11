from django.urls import include, path

urlpatterns = [
    path("api/", include("jwt_api.urls")),
]
