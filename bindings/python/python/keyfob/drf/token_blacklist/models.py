"""simplejwt's blacklist tables (same names, columns and migrations)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class OutstandingToken(models.Model):
    """A refresh (or sliding) token handed out: one row per login and per rotation."""

    id = models.BigAutoField(primary_key=True, serialize=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    jti = models.CharField(unique=True, max_length=255)
    token = models.TextField()
    created_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        verbose_name = _("Outstanding Token")
        verbose_name_plural = _("Outstanding Tokens")
        ordering = ("user",)

    def __str__(self) -> str:
        return _("Token for %(user)s (%(jti)s)") % {"user": self.user, "jti": self.jti}


class BlacklistedToken(models.Model):
    """A revoked token: creating the row revokes the token's keyfob session."""

    id = models.BigAutoField(primary_key=True, serialize=False)
    token = models.OneToOneField(OutstandingToken, on_delete=models.CASCADE)
    blacklisted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("Blacklisted Token")
        verbose_name_plural = _("Blacklisted Tokens")

    def __str__(self) -> str:
        return _("Blacklisted token for %(user)s") % {"user": self.token.user}
