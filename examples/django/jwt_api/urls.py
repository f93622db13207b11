from django.urls import include, path
from keyfob.drf.csrf import CsrfTokenView
from keyfob.drf.views import (
    TokenBlacklistView,
    TokenObtainPairView,
    TokenRefreshView,
    TokenVerifyView,
)

from .views import HelloView

urlpatterns = [
    path("token/", TokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("token/refresh/", TokenRefreshView.as_view(), name="token_refresh"),
    path("token/verify/", TokenVerifyView.as_view(), name="token_verify"),
    path("token/blacklist/", TokenBlacklistView.as_view(), name="token_blacklist"),
    path("hello/", HelloView.as_view(), name="hello"),
    # The CSRF token, for browser apps not served by this project (cookie mode).
    path("csrf/", CsrfTokenView.as_view(), name="csrf"),
    # The signed-in user's sessions: list (GET sessions/), end one (DELETE sessions/<id>/),
    # end all others (POST sessions/revoke-others/).
    path("", include("keyfob.drf.session_urls")),
]
