"""The example's token endpoint and hello view, with simplejwt's view in place of keyfob's."""

from django.urls import path
from jwt_api.views import HelloView
from rest_framework_simplejwt.views import TokenObtainPairView

urlpatterns = [
    path("api/token/", TokenObtainPairView.as_view()),
    path("api/hello/", HelloView.as_view()),
]
