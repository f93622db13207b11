"""A user's keyfob sessions in Django's admin: mix ``UserSessionsAdminMixin`` into the user
model's ``ModelAdmin``. Each user gets a page (``<user>/sessions/``, linked from the user's
change page and the user list) showing the live sessions (device, IP address, user agent,
created, last seen) with a button to end each one, and one to end them all. Nothing is
stored in the database: the page reads the engine.

    from django.contrib import admin
    from django.contrib.auth.admin import UserAdmin
    from django.contrib.auth.models import User
    from keyfob.drf.session_admin import UserSessionsAdminMixin

    class KeyfobUserAdmin(UserSessionsAdminMixin, UserAdmin):
        list_display = (*UserAdmin.list_display, "keyfob_sessions")

    admin.site.unregister(User)
    admin.site.register(User, KeyfobUserAdmin)

Viewing needs the view or change permission on users, ending sessions the change permission.
The ``keyfob_sessions`` column asks the store once per listed user (one Redis round trip
each with the shared store): leave it out of ``list_display`` for long user lists.
The page's template, ``keyfob_drf/user_sessions.html``, comes with the ``keyfob.drf`` app
(put it in ``INSTALLED_APPS``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from django.contrib import messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

import keyfob

from .engine import get_engine
from .exceptions import EngineError
from .revocation import user_id_of


def moment(seconds: Any) -> datetime | None:
    """Unix seconds as an aware datetime, for the template's ``date`` filter."""
    if not isinstance(seconds, (int, float)):
        return None
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def shown(info: Mapping[str, Any]) -> dict[str, Any]:
    """A session as the page shows it."""
    return {
        "id": info["session_id"],
        "device": info.get("label") or info.get("user_agent") or "",
        "label": info.get("label"),
        "user_agent": info.get("user_agent"),
        "ip": info.get("ip"),
        "created": moment(info.get("created_at")),
        "last_seen": moment(info.get("last_seen")),
        "ends": moment(info.get("absolute_deadline")),
    }


class UserSessionsAdminMixin:
    """Adds the sessions page to a user ``ModelAdmin``, and ``keyfob_sessions`` (a link to
    it with the number of live sessions) for ``list_display`` and the change page."""

    sessions_template = "keyfob_drf/user_sessions.html"

    # Provided by ModelAdmin.
    admin_site: Any
    opts: Any

    def get_urls(self) -> list[URLPattern]:
        info = self.opts.app_label, self.opts.model_name
        own = [
            path(
                "<path:object_id>/sessions/",
                self.admin_site.admin_view(self.sessions_view),
                name="{}_{}_keyfob_sessions".format(*info),
            )
        ]
        return own + super().get_urls()  # type: ignore[misc]

    def sessions_url(self, user: Any) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse(
            "admin:{}_{}_keyfob_sessions".format(*info),
            args=(quote(user.pk),),
            current_app=self.admin_site.name,
        )

    @staticmethod
    def _count(user: Any) -> str:
        try:
            live = len(get_engine().sessions(user_id_of(user)))
        except keyfob.StoreUnavailableError:
            return str(_("store unavailable"))
        return ngettext("%(n)d session", "%(n)d sessions", live) % {"n": live}

    def keyfob_sessions(self, user: Any) -> str:
        if user is None or user.pk is None:
            return "-"
        return format_html('<a href="{}">{}</a>', self.sessions_url(user), self._count(user))

    keyfob_sessions.short_description = _("Sessions")  # type: ignore[attr-defined]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = super().get_readonly_fields(request, obj)  # type: ignore[misc]
        return (*fields, "keyfob_sessions") if obj is not None else fields

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        fieldsets = super().get_fieldsets(request, obj)  # type: ignore[misc]
        if obj is None:
            return fieldsets
        return [*fieldsets, (_("Sessions"), {"fields": ("keyfob_sessions",)})]

    def sessions_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        user = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if user is None:
            raise Http404(_("No such user"))
        if not self.has_view_or_change_permission(request, user):  # type: ignore[attr-defined]
            raise PermissionDenied
        user_id = user_id_of(user)
        if request.method == "POST":
            if not self.has_change_permission(request, user):  # type: ignore[attr-defined]
                raise PermissionDenied
            self._end(request, user_id)
            # Post/redirect/get: reloading the page repeats nothing.
            return HttpResponseRedirect(request.get_full_path())
        try:
            sessions = [shown(info) for info in get_engine().sessions(user_id)]
            unavailable = False
        except keyfob.StoreUnavailableError:
            sessions, unavailable = [], True
        context = {
            **self.admin_site.each_context(request),
            "title": _("Sessions of %(user)s") % {"user": user},
            "subtitle": None,
            "opts": self.opts,
            "original": user,
            "sessions": sessions,
            "store_unavailable": unavailable,
            "can_end": self.has_change_permission(request, user),  # type: ignore[attr-defined]
        }
        return TemplateResponse(request, self.sessions_template, context)

    def _end(self, request: HttpRequest, user_id: str) -> None:
        engine = get_engine()
        try:
            if request.POST.get("action") == "end-all":
                ended = engine.revoke_user(user_id)
                messages.success(
                    request,
                    ngettext("Ended %(n)d session.", "Ended %(n)d sessions.", ended) % {"n": ended},
                )
                return
            session_id = request.POST.get("session_id", "")
            info = engine.session(session_id) if session_id else None
            if info is None or info.get("user_id") != user_id:
                messages.warning(request, _("That session had already ended."))
                return
            engine.revoke_session(session_id)
            messages.success(request, _("Ended the session."))
        except keyfob.StoreUnavailableError:
            messages.error(request, _("The session store is unavailable; nothing was ended."))
        except EngineError:
            messages.warning(request, _("That session had already ended."))
