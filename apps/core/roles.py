"""Roles, the one vocabulary every layer's permission checks use: ``user`` (candidate),
``editor``, ``examiner``, ``admin``.

They live below every app (the user model in ``accounts`` stores one; the audit trail, the
content admins and the API permission classes check them) so that checking a role never means
importing the app that stores it. ``admin`` may do everything the other roles may do.
"""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.db import models


class Role(models.TextChoices):
    USER = "user", "Candidate"
    EDITOR = "editor", "Editor"
    EXAMINER = "examiner", "Examiner"
    ADMIN = "admin", "Admin"


def has_role(user: AbstractBaseUser | AnonymousUser | None, *roles: str) -> bool:
    """True when ``user`` is an authenticated, active user holding one of ``roles`` (or admin)."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    role = getattr(user, "role", None)
    return role == Role.ADMIN or role in roles
