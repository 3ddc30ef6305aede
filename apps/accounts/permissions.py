"""Role checks for API views: the one place where roles become permissions."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.accounts.models import Role


def user_has_role(user: Any, *roles: str) -> bool:
    """True when ``user`` is authenticated and active with one of ``roles`` (or is a superuser)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return bool(user.is_superuser or getattr(user, "role", None) in roles)


class HasRole(BasePermission):
    """``HasRole.of("editor", "admin")`` builds a permission class for those roles."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": tuple(roles)})

    def has_permission(self, request: Request, view: Any) -> bool:
        return user_has_role(request.user, *self.roles)


class IsEditorOrAdmin(HasRole):
    roles = (Role.EDITOR, Role.ADMIN)


class IsExaminerOrAdmin(HasRole):
    roles = (Role.EXAMINER, Role.ADMIN)


class IsAdmin(HasRole):
    roles = (Role.ADMIN,)
