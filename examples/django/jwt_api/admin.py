"""The user admin with each user's keyfob sessions (device, IP, created, last seen) and
buttons to end one or all of them."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User
from keyfob.drf.session_admin import UserSessionsAdminMixin


class KeyfobUserAdmin(UserSessionsAdminMixin, UserAdmin):
    list_display = (*UserAdmin.list_display, "keyfob_sessions")


admin.site.unregister(User)
admin.site.register(User, KeyfobUserAdmin)
