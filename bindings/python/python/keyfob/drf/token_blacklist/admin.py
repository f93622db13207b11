"""Admin for the blacklist tables: outstanding tokens listed, and blacklisted from there
(which revokes their sessions)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import BlacklistedToken, OutstandingToken


@admin.register(OutstandingToken)
class OutstandingTokenAdmin(admin.ModelAdmin):
    list_display = ("jti", "user", "created_at", "expires_at")
    search_fields = ("user__id", "jti")
    ordering = ("user",)
    actions = ["blacklist_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("user")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)

    @admin.action(description=_("Blacklist the selected tokens (log their sessions out)"))
    def blacklist_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for outstanding in queryset:
            BlacklistedToken.objects.get_or_create(token=outstanding)


@admin.register(BlacklistedToken)
class BlacklistedTokenAdmin(admin.ModelAdmin):
    list_display = (
        "token_jti",
        "token_user",
        "token_created_at",
        "token_expires_at",
        "blacklisted_at",
    )
    search_fields = ("token__user__id", "token__jti")
    ordering = ("token__user",)
    raw_id_fields = ("token",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("token__user")

    @admin.display(description=_("jti"), ordering="token__jti")
    def token_jti(self, obj: BlacklistedToken) -> str:
        return obj.token.jti

    @admin.display(description=_("user"), ordering="token__user")
    def token_user(self, obj: BlacklistedToken) -> Any:
        return obj.token.user

    @admin.display(description=_("created at"), ordering="token__created_at")
    def token_created_at(self, obj: BlacklistedToken) -> Any:
        return obj.token.created_at

    @admin.display(description=_("expires at"), ordering="token__expires_at")
    def token_expires_at(self, obj: BlacklistedToken) -> Any:
        return obj.token.expires_at
