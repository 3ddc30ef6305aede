"""In-app notifications, staff broadcasts, per-user delivery preferences and the ledgers that
make outbound messages happen once (reminder log) and never get lost (outbox)."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import Role


class Kind(models.TextChoices):
    SYSTEM = "system", "System"
    BROADCAST = "broadcast", "Announcement"
    REMINDER = "reminder", "Study reminder"
    PROGRESS = "progress", "Progress"
    CONTENT = "content", "New content"


class Notification(models.Model):
    """One message in a user's in-app inbox.

    A notification created by a broadcast's fan-out carries the broadcast; the unique
    ``(broadcast, user)`` pair is what makes a fan-out safe to run twice. Targeted
    notifications have no broadcast (NULLs never collide).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.SYSTEM)
    link = models.CharField(max_length=500, blank=True)
    is_read = models.BooleanField(default=False)
    read_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    broadcast = models.ForeignKey(
        "notifications.Broadcast",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
    )

    class Meta:
        ordering = ("is_read", "-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("broadcast", "user"), name="notifications_one_per_broadcast_user"
            ),
            models.CheckConstraint(
                condition=Q(is_read=False) | Q(read_at__isnull=False),
                name="notifications_read_has_read_at",
            ),
        ]
        indexes = [
            # The inbox: unread first, newest first, per user.
            models.Index(
                fields=("user", "is_read", "-created_at", "-id"), name="notifications_inbox"
            ),
            # Pruning old read notifications.
            models.Index(
                fields=("read_at",), name="notifications_read_at", condition=Q(is_read=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class Broadcast(models.Model):
    """A message staff send to an audience; a Celery task fans it out into notifications."""

    class Audience(models.TextChoices):
        ALL = "all", "Everyone"
        ROLE = "role", "Everyone with a role"
        CATEGORY_PRACTISERS = "category_practisers", "Candidates who practised a category"
        USER = "user", "One user"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        DONE = "done", "Done"

    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.BROADCAST)
    link = models.CharField(max_length=500, blank=True)
    audience = models.CharField(max_length=24, choices=Audience.choices, default=Audience.ALL)
    role = models.CharField(max_length=16, blank=True, help_text="For the 'role' audience.")
    category = models.ForeignKey(
        "taxonomy.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="For the 'category practisers' audience.",
    )
    target_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="For the 'one user' audience.",
    )
    send_email = models.BooleanField(
        default=False, help_text="Also email the targets who opted in to emails of this kind."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    sent_count = models.PositiveIntegerField(default=0)
    # Keyset cursor: the highest user id already fanned out, so a retried task resumes.
    cursor_user_id = models.BigIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=~Q(audience="role") | ~Q(role=""),
                name="notifications_broadcast_role_needs_role",
            ),
            models.CheckConstraint(
                condition=~Q(audience="category_practisers") | Q(category__isnull=False),
                name="notifications_broadcast_category_needs_category",
            ),
            models.CheckConstraint(
                condition=~Q(audience="user") | Q(target_user__isnull=False),
                name="notifications_broadcast_user_needs_user",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        """Each audience needs its own field; the others are cleared."""
        errors: dict[str, str] = {}
        if self.audience == self.Audience.ROLE:
            if self.role not in Role.values:
                errors["role"] = "Choose one of: " + ", ".join(Role.values) + "."
        else:
            self.role = ""
        if self.audience == self.Audience.CATEGORY_PRACTISERS:
            if self.category_id is None:
                errors["category"] = "Choose the category whose practisers receive this."
        else:
            self.category = None
        if self.audience == self.Audience.USER:
            if self.target_user_id is None:
                errors["target_user"] = "Choose the user who receives this."
        else:
            self.target_user = None
        if errors:
            raise ValidationError(errors)


class NotificationPreference(models.Model):
    """Which kinds reach a user in-app and by email. No row means the defaults below.

    ``system`` notifications (account and security) always arrive in-app.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    in_app_broadcasts = models.BooleanField(default=True)
    in_app_reminders = models.BooleanField(default=True)
    in_app_progress = models.BooleanField(default=True)
    in_app_content = models.BooleanField(default=True)
    email_broadcasts = models.BooleanField(default=False)
    email_reminders = models.BooleanField(default=True)
    email_weekly_summary = models.BooleanField(default=True)
    email_content = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"preferences of {self.user_id}"


# The preference field deciding each kind's delivery; None means "always" (in-app) or
# "never" (email).
IN_APP_FIELD: dict[str, str | None] = {
    Kind.SYSTEM: None,
    Kind.BROADCAST: "in_app_broadcasts",
    Kind.REMINDER: "in_app_reminders",
    Kind.PROGRESS: "in_app_progress",
    Kind.CONTENT: "in_app_content",
}
EMAIL_FIELD: dict[str, str | None] = {
    Kind.SYSTEM: None,
    Kind.BROADCAST: "email_broadcasts",
    Kind.REMINDER: "email_reminders",
    Kind.PROGRESS: "email_weekly_summary",
    Kind.CONTENT: "email_content",
}


class ReminderLog(models.Model):
    """The once-only ledger for scheduled outbound messages.

    One row per ``(user, kind, key)``: the key names the occasion, e.g. the inactivity spell
    (the last activity it started from) for a study reminder, the week for a weekly summary, the
    broadcast for a broadcast email. ``sent_at`` is when the occasion was handled (its in-app
    notification, if any, goes with it); ``emailed_at`` stays empty until the email has left,
    so a failed send is retried and a sent one never repeated.
    """

    class LogKind(models.TextChoices):
        STUDY_REMINDER = "study_reminder", "Study reminder"
        WEEKLY_SUMMARY = "weekly_summary", "Weekly summary"
        BROADCAST_EMAIL = "broadcast_email", "Broadcast email"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_logs"
    )
    kind = models.CharField(max_length=20, choices=LogKind.choices)
    key = models.CharField(max_length=64)
    sent_at = models.DateTimeField(default=timezone.now)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-sent_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("user", "kind", "key"), name="notifications_reminder_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind} {self.key}"
