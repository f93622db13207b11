"""The Django app ``keyfob.drf``: optional, and what registers keyfob's system checks."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KeyfobDrfConfig(AppConfig):
    name = "keyfob.drf"
    label = "keyfob_drf"
    verbose_name = _("keyfob")

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the checks)
