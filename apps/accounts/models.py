"""Users (email is the login), their profile and roles."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.roles import Role  # stored on the user; still importable from here

# Study settings a candidate may change on /me (the scheduler reads them from the profile).
DEFAULT_DESIRED_RETENTION = 0.92
MIN_DESIRED_RETENTION = 0.80
MAX_DESIRED_RETENTION = 0.97
DEFAULT_DAILY_REVIEW_LIMIT = 100
MAX_DAILY_REVIEW_LIMIT = 1000
DEFAULT_DAILY_NEW_LIMIT = 20
MAX_DAILY_NEW_LIMIT = 500


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
    # The sitting the candidate is aiming at: the cohort for readiness percentiles and the date
    # the study plan counts down to.
    exam_sitting = models.DateField(null=True, blank=True)
    # Spaced repetition: the recall probability the scheduler aims for when a card comes due,
    # and how many reviews and never-seen questions "today" holds at most.
    # Defaults in the database too: bulk loads that write profiles with SQL of their own (the
    # benchmark's dataset, imports) get the same values as the ORM.
    desired_retention = models.FloatField(
        default=DEFAULT_DESIRED_RETENTION, db_default=DEFAULT_DESIRED_RETENTION
    )
    daily_review_limit = models.PositiveSmallIntegerField(
        default=DEFAULT_DAILY_REVIEW_LIMIT, db_default=DEFAULT_DAILY_REVIEW_LIMIT
    )
    daily_new_limit = models.PositiveSmallIntegerField(
        default=DEFAULT_DAILY_NEW_LIMIT, db_default=DEFAULT_DAILY_NEW_LIMIT
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(desired_retention__gte=MIN_DESIRED_RETENTION)
                & Q(desired_retention__lte=MAX_DESIRED_RETENTION),
                name="profile_desired_retention_range",
            ),
            models.CheckConstraint(
                condition=Q(daily_review_limit__gte=1)
                & Q(daily_review_limit__lte=MAX_DAILY_REVIEW_LIMIT),
                name="profile_daily_review_limit_range",
            ),
            models.CheckConstraint(
                condition=Q(daily_new_limit__lte=MAX_DAILY_NEW_LIMIT),
                name="profile_daily_new_limit_range",
            ),
        ]

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
    which addresses are registered. ``source`` says where the attempt came from (a known device
    ``d:<id>``, else the network ``n:<prefix>``; empty when the IP is unknown) and ``trusted``
    whether that source had signed in to the account before: the limits in
    ``services/limits.py`` count per source, so failures from elsewhere never refuse the owner.
    Old rows are flushed by ``accounts.flush_expired_tokens``.
    """

    email = models.CharField(max_length=254)
    occurred_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=64, blank=True, default="")
    trusted = models.BooleanField(default=False)

    class Meta:
        ordering = ("-occurred_at",)
        indexes = [
            models.Index(fields=("email", "occurred_at"), name="loginfailure_email_time"),
            models.Index(
                fields=("email", "source", "occurred_at"), name="loginfailure_source_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"


class KnownDevice(models.Model):
    """A browser or app that signed in to the account, or followed an unlock link from it.

    The client keeps a random ``device_token`` (returned by login and by the unlock link) and
    sends it with later logins; only its SHA-256 is stored, so a database leak hands out no
    usable token. A correct password sent with it is never refused because of failures from
    other sources. A row without a hash is an unlock link emailed but not yet followed; following
    it sets the hash, so the link works once.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_devices")
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=("user", "created_at"), name="knowndevice_user_created")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.pk}"


class KnownNetwork(models.Model):
    """A network (IPv4 /24, IPv6 /64) from which the account signed in successfully.

    A login from such a network counts only its own failures, like a known device: it covers the
    owner whose browser lost its device token (a cleared cache, a second browser at home).
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="known_networks")
    network = models.CharField(max_length=50)
    last_login_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "network"), name="knownnetwork_user_network")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.network}"


class RateLimitHit(models.Model):
    """One request counted against a limit kept in PostgreSQL.

    Two uses: the per-address limit on password reset emails (always), and the login,
    registration and reset throttles while Redis is unreachable (their fast path is Redis, so
    with Redis up nothing is written here). ``bucket`` is an HMAC of the limit's name and the
    address or IP, so no address or IP is stored in clear. Rows older than a day are flushed.
    """

    bucket = models.CharField(max_length=64)
    occurred_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=("bucket", "occurred_at"), name="ratelimithit_bucket_time")]

    def __str__(self) -> str:
        return f"{self.bucket[:8]} at {self.occurred_at:%Y-%m-%d %H:%M:%S}"
