"""URLs of the session views (``keyfob.drf.sessions``):
``path("api/", include("keyfob.drf.session_urls"))`` serves ``api/sessions/``,
``api/sessions/<id>/`` and ``api/sessions/revoke-others/``."""

from django.urls import path

from .sessions import RevokeOtherSessionsView, SessionDetailView, SessionListView

urlpatterns = [
    path("sessions/", SessionListView.as_view(), name="keyfob_sessions"),
    path(
        "sessions/revoke-others/",
        RevokeOtherSessionsView.as_view(),
        name="keyfob_revoke_other_sessions",
    ),
    path("sessions/<str:session_id>/", SessionDetailView.as_view(), name="keyfob_session"),
]
