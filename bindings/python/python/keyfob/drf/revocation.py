"""Account changes that end sessions, connected by the ``keyfob.drf`` app (``apps.py``):

- ``REVOKE_ON_PASSWORD_CHANGE`` (default True): saving a user whose password hash changed
  (``set_password`` then ``save``, the admin's password form, ``changepassword``) revokes
  every keyfob session of that user. It runs inside the save: when the session store cannot
  be reached the save raises ``StoreUnavailableError``, so in a transaction (the admin's
  forms, ``ATOMIC_REQUESTS``) the password change rolls back rather than leaving the old
  sessions alive. With ``CHECK_REVOKE_TOKEN`` on, simplejwt's password check refuses the old
  tokens instead (answering ``password_changed``, as simplejwt does), and nothing is revoked.
- ``REVOKE_ON_LOGOUT`` (default False): logging out of Django's own session
  (``django.contrib.auth.logout``, which sends ``user_logged_out``) revokes every keyfob
  session of that user too: "log out everywhere".

The user is named as tokens name it: ``KEYFOB["USER_ID_FIELD"]`` of the user, as text.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_out
from django.db.models.signals import post_init, post_save

from .engine import get_engine
from .settings import api_settings

# Where a loaded user keeps the password hash it was read (or last saved) with.
_LOADED_HASH = "_keyfob_loaded_password"


def user_id_of(user: Any) -> str:
    """The user's id as keyfob sessions carry it."""
    return str(getattr(user, api_settings.USER_ID_FIELD))


def remember_password(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance.__dict__[_LOADED_HASH] = instance.__dict__.get("password")


def revoke_if_password_changed(
    sender: Any, instance: Any, created: bool = False, **kwargs: Any
) -> None:
    current = instance.__dict__.get("password")
    before = instance.__dict__.get(_LOADED_HASH)
    instance.__dict__[_LOADED_HASH] = current
    if created or current == before or kwargs.get("raw"):
        return
    update_fields = kwargs.get("update_fields")
    if update_fields is not None and "password" not in update_fields:
        return
    # With CHECK_REVOKE_TOKEN, simplejwt's own check refuses the old tokens, with its own
    # answer ("password_changed"), which code written for simplejwt may expect.
    if api_settings.REVOKE_ON_PASSWORD_CHANGE and not api_settings.CHECK_REVOKE_TOKEN:
        get_engine().revoke_user(user_id_of(instance))


def revoke_on_logout(sender: Any, request: Any = None, user: Any = None, **kwargs: Any) -> None:
    if user is not None and api_settings.REVOKE_ON_LOGOUT:
        get_engine().revoke_user(user_id_of(user))


def connect() -> None:
    """Connect the receivers to the user model (called once, from ``ready()``)."""
    user_model = get_user_model()
    post_init.connect(remember_password, sender=user_model, dispatch_uid="keyfob.password")
    post_save.connect(revoke_if_password_changed, sender=user_model, dispatch_uid="keyfob.password")
    user_logged_out.connect(revoke_on_logout, dispatch_uid="keyfob.logout")
