"""Users (email is the login), their profile and roles."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from apps.core.roles import Role  # stored on the user; still importable from here


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("is_email_verified", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    # Stored lower-cased (see save), so uniqueness is case-insensitive.
    email = models.EmailField(max_length=254, unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.USER)
    is_email_verified = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = self.email.strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_candidate(self) -> bool:
        return self.role == Role.USER


class Profile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile")
    display_name = models.CharField(max_length=80, blank=True)
    avatar = models.URLField(max_length=500, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    prefers_explanations = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.display_name or self.user.email


class AuthSession(models.Model):
    """A "device": one login and the chain of refresh tokens rotated from it.

    Access and refresh tokens carry its id (``sid``); revoking it (logout, device revoke,
    log out everywhere, account deletion) refuses both at once. ``expires_at`` is absolute:
    rotation never extends it.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="auth_sessions")
    refresh_jti = models.CharField(max_length=64, db_index=True)
    user_agent = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-last_used_at",)
        indexes = [models.Index(fields=("user", "revoked_at"), name="authsession_user_active")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.pk}"


class LoginFailure(models.Model):
    """One failed password check for an email address (durable brute-force limit).

    Kept in PostgreSQL rather than the cache so the limit holds with Redis down. Rows are keyed
    by the normalised email whether or not an account exists, so the limit reveals nothing about
    which addresses are registered. Old rows are flushed by ``accounts.flush_expired_tokens``.
    """

    email = models.CharField(max_length=254)
    occurred_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ("-occurred_at",)
        indexes = [models.Index(fields=("email", "occurred_at"), name="loginfailure_email_time")]

    def __str__(self) -> str:
        return f"{self.email} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"
