"""Demo inbox for ``manage.py seed``: a few notifications for the demo candidate. Idempotent:
a notification already there (same user and title) is left alone."""

from __future__ import annotations

from typing import Any

from apps.accounts.models import User
from apps.notifications.models import Kind, Notification

DEMO_EMAIL = "demo@openmrcs.local"
DEMO_NOTIFICATIONS = [
    # title, body, kind, link
    (
        "Welcome to OpenMRCS",
        "Start with a short practice session: pick a category and answer ten questions.",
        Kind.SYSTEM,
        "/practice",
    ),
    (
        "Timed mock exams are live",
        "Sit Paper 1 or Paper 2 under exam conditions and review every answer afterwards.",
        Kind.CONTENT,
        "/exams",
    ),
    (
        "Your weekly summary arrives on Mondays",
        "Choose which notifications and emails you get in your settings.",
        Kind.PROGRESS,
        "/settings/notifications",
    ),
]


def seed_demo(*, stdout: Any) -> None:
    user = User.objects.filter(email=DEMO_EMAIL).first()
    if user is None:
        stdout.write("notifications: no demo candidate, nothing to do")
        return
    existing = set(Notification.objects.filter(user=user).values_list("title", flat=True))
    missing = [
        Notification(user=user, title=title, body=body, kind=kind, link=link)
        for title, body, kind, link in DEMO_NOTIFICATIONS
        if title not in existing
    ]
    Notification.objects.bulk_create(missing)
    stdout.write(f"notifications: {len(missing)} demo notification(s) created")
