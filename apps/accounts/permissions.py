"""Role checks for the API, in one place. The roles and the rule itself (:func:`has_role`:
``admin`` may do everything the other roles may do) are in :mod:`apps.core.roles`; views use
the permission classes here, services that need the same rule call :func:`has_role`.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.roles import Role, has_role  # has_role: still importable from here

# The same check under the name some callers use.
user_has_role = has_role


class _RolePermission(BasePermission):
    roles: tuple[str, ...] = ()
    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        return has_role(request.user, *self.roles)


class IsEditor(_RolePermission):
    """Editors (questions, resources, CMS) and admins."""

    roles = (Role.EDITOR,)


class IsExaminer(_RolePermission):
    """Examiners (exam templates) and admins."""

    roles = (Role.EXAMINER,)


class IsAdminRole(_RolePermission):
    """Admins only."""

    roles = (Role.ADMIN,)


class IsEditorOrReadOnly(BasePermission):
    """Any authenticated user may read; editors and admins may write."""

    message = "Your role does not allow this."

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return bool(getattr(request.user, "is_authenticated", False))
        return has_role(request.user, Role.EDITOR)
