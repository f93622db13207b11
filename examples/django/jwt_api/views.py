from django.utils.decorators import method_decorator
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.generic import TemplateView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView


class HelloView(APIView):
    permission_classes = (IsAuthenticated,)

    def get(self, request):
        content = {"message": "Hello, World!"}
        return Response(content)


@method_decorator(ensure_csrf_cookie, name="get")
class BrowserAppView(TemplateView):
    """The browser client (cookie mode): the page gets the csrftoken cookie with it."""

    template_name = "jwt_api/app.html"
