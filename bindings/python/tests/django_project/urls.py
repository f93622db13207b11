from django.urls import include, path
from keyfob.drf import views as keyfob_views
from rest_framework_simplejwt import views as simplejwt_views

from . import views


def token_urls(v, hello, who):
    return [
        path("token/", v.TokenObtainPairView.as_view()),
        path("token/refresh/", v.TokenRefreshView.as_view()),
        path("token/verify/", v.TokenVerifyView.as_view()),
        path("token/blacklist/", v.TokenBlacklistView.as_view()),
        path("token/sliding/", v.TokenObtainSlidingView.as_view()),
        path("token/sliding/refresh/", v.TokenRefreshSlidingView.as_view()),
        path("hello/", hello.as_view()),
        path("who/", who.as_view()),
    ]


urlpatterns = [
    path("", include("django_jwt.urls")),
    path(
        "sj/api/",
        include(token_urls(simplejwt_views, views.SimplejwtHelloView, views.SimplejwtWhoView)),
    ),
    path("kf/api/", include(token_urls(keyfob_views, views.KeyfobHelloView, views.KeyfobWhoView))),
]
