from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken


class MeView(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        return Response({"username": request.user.get_username(), "name": request.auth["name"]})


class LogoutEverywhereView(APIView):
    """The usual simplejwt recipe: blacklist every outstanding token of the user."""

    permission_classes = (IsAuthenticated,)

    def post(self, request):
        for token in OutstandingToken.objects.filter(user=request.user):
            BlacklistedToken.objects.get_or_create(token=token)
        return Response(status=205)
