"""A ``BlacklistedToken`` row revokes its token's keyfob session as it is saved."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from .models import BlacklistedToken
from .revoke import revoke_outstanding


@receiver(post_save, sender=BlacklistedToken, dispatch_uid="keyfob_blacklist_revokes")
def revoke_on_blacklist(sender: Any, instance: BlacklistedToken, created: bool, **_: Any) -> None:
    if created:
        revoke_outstanding(instance.token.token)
