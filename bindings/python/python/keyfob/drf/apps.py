"""The Django app ``keyfob.drf``: optional. Installed, it registers keyfob's system checks,
ends a user's sessions when the password changes (``keyfob.drf.revocation``), and provides the
admin's session page template (``keyfob.drf.session_admin``)."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KeyfobDrfConfig(AppConfig):
    name = "keyfob.drf"
    label = "keyfob_drf"
    verbose_name = _("keyfob")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
        from .revocation import connect

        # A new password (and, if asked, a logout of Django's session) ends the user's
        # keyfob sessions.
        connect()
