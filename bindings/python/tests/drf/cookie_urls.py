"""URLs for the cookie-mode tests: keyfob.drf's token views at the example project's paths, a view
authenticated by ``JWTCookieAuthentication``, and the CSRF token view."""

from django.urls import path
from keyfob.drf import views
from keyfob.drf.cookies import JWTCookieAuthentication
from keyfob.drf.csrf import CsrfTokenView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class CookieHelloView(APIView):
    authentication_classes = (JWTCookieAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"message": "Hello, World!"})

    def post(self, request):
        return Response({"posted_by": request.user.username})


urlpatterns = [
    path("api/token/", views.TokenObtainPairView.as_view()),
    path("api/token/refresh/", views.TokenRefreshView.as_view()),
    path("api/token/verify/", views.TokenVerifyView.as_view()),
    path("api/token/blacklist/", views.TokenBlacklistView.as_view()),
    path("api/token/sliding/", views.TokenObtainSlidingView.as_view()),
    path("api/hello/", CookieHelloView.as_view()),
    path("api/csrf/", CsrfTokenView.as_view()),
    # The setting overridden per view.
    path("mobile/token/", views.TokenObtainPairView.as_view(cookie_mode=False)),
    path("browser/token/", views.TokenObtainPairView.as_view(cookie_mode=True)),
]
