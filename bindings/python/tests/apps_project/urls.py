from django.contrib import admin
from django.urls import path
from keyfob.drf import views
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class Hello(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"user": request.user.get_username()})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/token/", views.TokenObtainPairView.as_view()),
    path("api/token/refresh/", views.TokenRefreshView.as_view()),
    path("api/token/blacklist/", views.TokenBlacklistView.as_view()),
    path("api/hello/", Hello.as_view()),
]
