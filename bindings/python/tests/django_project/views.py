"""The example project's HelloView, once per authentication flavour."""

from keyfob.drf import authentication as keyfob_auth
from rest_framework import permissions
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt import authentication as simplejwt_auth


class SimplejwtHelloView(APIView):
    authentication_classes = (simplejwt_auth.JWTAuthentication,)
    permission_classes = (permissions.IsAuthenticated,)

    def get(self, request):
        return Response({"message": "Hello, World!"})


class KeyfobHelloView(SimplejwtHelloView):
    authentication_classes = (keyfob_auth.JWTAuthentication,)


class SimplejwtWhoView(APIView):
    """Who the stateless authentication says the caller is."""

    authentication_classes = (simplejwt_auth.JWTStatelessUserAuthentication,)
    permission_classes = (permissions.IsAuthenticated,)

    def get(self, request):
        return Response({"id": request.user.id, "class": type(request.user).__name__})


class KeyfobWhoView(SimplejwtWhoView):
    authentication_classes = (keyfob_auth.JWTStatelessUserAuthentication,)
