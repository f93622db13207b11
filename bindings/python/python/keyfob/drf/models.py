"""``TokenUser``: a user backed by a validated token alone, without a database lookup."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib.auth import models as auth_models
from django.db.models.manager import EmptyManager
from django.utils.functional import cached_property

from .settings import api_settings

if TYPE_CHECKING:
    from .tokens import Token


class TokenUser:
    """Like ``django.contrib.auth.models.AnonymousUser``, but authenticated by a token.

    Used by ``JWTStatelessUserAuthentication``; the same attributes as simplejwt's. Any
    other attribute reads the token's claim of that name (None when absent).
    """

    # keyfob.drf never issues a token to an inactive user.
    is_active = True
    is_anonymous = False
    is_authenticated = True

    _groups = EmptyManager(auth_models.Group)
    _user_permissions = EmptyManager(auth_models.Permission)

    def __init__(self, token: Token | dict[str, Any]) -> None:
        self.token = token

    def __str__(self) -> str:
        return f"TokenUser {self.id}"

    @cached_property
    def id(self) -> str:
        return self.token[api_settings.USER_ID_CLAIM]

    @cached_property
    def pk(self) -> str:
        return self.id

    @cached_property
    def username(self) -> str:
        return self.token.get("username", "")

    @cached_property
    def is_staff(self) -> bool:
        return self.token.get("is_staff", False)

    @cached_property
    def is_superuser(self) -> bool:
        return self.token.get("is_superuser", False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TokenUser):
            return NotImplemented
        return self.id == other.id

    def __hash__(self) -> int:
        return hash(self.id)

    def save(self) -> None:
        raise NotImplementedError("Token users have no DB representation")

    def delete(self) -> None:
        raise NotImplementedError("Token users have no DB representation")

    def set_password(self, raw_password: str) -> None:
        raise NotImplementedError("Token users have no DB representation")

    def check_password(self, raw_password: str) -> None:
        raise NotImplementedError("Token users have no DB representation")

    @property
    def groups(self) -> Any:
        return self._groups

    @property
    def user_permissions(self) -> Any:
        return self._user_permissions

    def get_group_permissions(self, obj: object | None = None) -> set[str]:
        return set()

    def get_all_permissions(self, obj: object | None = None) -> set[str]:
        return set()

    def has_perm(self, perm: str, obj: object | None = None) -> bool:
        return False

    def has_perms(self, perm_list: list[str], obj: object | None = None) -> bool:
        return False

    def has_module_perms(self, module: str) -> bool:
        return False

    def get_username(self) -> str:
        return str(self.username)

    def __getattr__(self, attr: str) -> Any:
        # Only reached for names the class does not define: the token's custom claims.
        if attr.startswith("__") or attr == "token":
            raise AttributeError(attr)
        return self.token.get(attr, None)
