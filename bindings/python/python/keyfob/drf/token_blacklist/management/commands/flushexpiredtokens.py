"""``manage.py flushexpiredtokens``: drop expired outstanding tokens (and their blacklist rows)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from keyfob.drf.token_blacklist.models import OutstandingToken
from keyfob.drf.utils import aware_utcnow


class Command(BaseCommand):
    help = "Deletes outstanding tokens (and their blacklist rows) that have expired."

    def handle(self, *args: Any, **kwargs: Any) -> None:
        OutstandingToken.objects.filter(expires_at__lte=aware_utcnow()).delete()
