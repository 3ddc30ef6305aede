"""Study reminders and weekly progress summaries.

Both are planned by a periodic task and recorded in the ``ReminderLog`` ledger before anything
is sent, so a rerun (Beat firing twice, a retried task) never reminds anyone twice:

- A study reminder is keyed by the inactivity spell, i.e. by the candidate's last study activity
  (see ``selectors.candidates_with_last_activity``). A candidate inactive for
  ``REMINDER_INACTIVE_DAYS`` gets one reminder; the next one only after studying again and
  falling idle again.
- A weekly summary is keyed by the week (its Monday). It covers the previous Monday..Sunday of
  diary days and goes to candidates who answered anything in that week or the week before.

In-app notifications are written with the ledger row; emails go out from their own tasks (one
per person, retried on SMTP failures) and only to verified addresses.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.core.queue import enqueue_after_commit
from apps.notifications import selectors
from apps.notifications.emails import send_templated_email
from apps.notifications.models import Kind, Notification, NotificationPreference, ReminderLog
from apps.notifications.services.broadcasts import _display_name
from apps.study.selectors import plan_for

STUDY_REMINDER_EMAIL_TASK = "notifications.send_study_reminder_email"
WEEKLY_SUMMARY_EMAIL_TASK = "notifications.send_weekly_summary_email"
PLAN_BATCH_SIZE = 500


def _preferences_by_user(user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    ids = list(user_ids)
    stored = {p.user_id: p for p in NotificationPreference.objects.filter(user_id__in=ids)}
    return {uid: stored.get(uid) or NotificationPreference(user_id=uid) for uid in ids}


def _existing_keys(*, kind: str, user_ids: Iterable[int]) -> set[tuple[int, str]]:
    return set(
        ReminderLog.objects.filter(kind=kind, user_id__in=list(user_ids)).values_list(
            "user_id", "key"
        )
    )


def _issue(
    *,
    user: User,
    preference: NotificationPreference,
    log_kind: str,
    key: str,
    notification_kind: str,
    title: str,
    body: str,
    link: str,
    email_task: str,
) -> bool:
    """Records the occasion once; writes the in-app notification and enqueues the email.

    Returns False when the occasion was already handled (the ledger's unique key decides, also
    against a concurrent run).
    """
    with transaction.atomic():
        log, created = ReminderLog.objects.get_or_create(user=user, kind=log_kind, key=key)
        if not created:
            return False
        if selectors.wants_in_app(preference, notification_kind):
            Notification.objects.create(
                user=user, title=title, body=body, kind=notification_kind, link=link
            )
        if user.is_email_verified and selectors.wants_email(preference, notification_kind):
            enqueue_after_commit(email_task, log.pk)
    return True


def _locked_log(log_id: int, kind: str) -> ReminderLog | None:
    return (
        ReminderLog.objects.select_for_update(of=("self",))
        .select_related("user__profile")
        .filter(pk=log_id, kind=kind)
        .first()
    )


# --- Study reminders -------------------------------------------------------------------------


def spell_key(last_activity_at: datetime) -> str:
    """The ledger key of the inactivity spell that began at ``last_activity_at`` (UTC)."""
    return last_activity_at.astimezone(UTC).isoformat(timespec="microseconds")


def send_study_reminders(*, now: datetime | None = None) -> int:
    """Reminds every candidate idle for ``REMINDER_INACTIVE_DAYS`` once per inactivity spell.

    Returns how many reminders were issued by this run.
    """
    now = now or timezone.now()
    inactive_since = now - timedelta(days=settings.REMINDER_INACTIVE_DAYS)
    issued = 0
    after = 0
    while True:
        batch = list(
            selectors.inactive_candidates(inactive_since=inactive_since)
            .filter(pk__gt=after)
            .select_related("profile")[:PLAN_BATCH_SIZE]
        )
        if not batch:
            return issued
        after = batch[-1].pk
        done = _existing_keys(
            kind=ReminderLog.LogKind.STUDY_REMINDER, user_ids=(u.pk for u in batch)
        )
        preferences = _preferences_by_user(u.pk for u in batch)
        for user in batch:
            last_activity: datetime = user.last_activity_at  # type: ignore[attr-defined]
            key = spell_key(last_activity)
            if (user.pk, key) in done:
                continue
            days = max(1, (now - last_activity).days)
            suggestion = selectors.suggestion_for(user_id=user.pk)
            body = f"It has been {days} days since you last studied."
            if suggestion:
                body += f" {suggestion.text}"
            issued += _issue(
                user=user,
                preference=preferences[user.pk],
                log_kind=ReminderLog.LogKind.STUDY_REMINDER,
                key=key,
                notification_kind=Kind.REMINDER,
                title="Time for a quick study session",
                body=body,
                link=suggestion.link if suggestion else "/practice",
                email_task=STUDY_REMINDER_EMAIL_TASK,
            )


def plan_line(*, user: User, now: datetime | None = None) -> str | None:
    """One line of the candidate's plan to their exam (apps/study), or ``None`` without an exam
    date still to come."""
    plan = plan_for(user=user, now=now)
    if plan is None or plan.days_left == 0:
        return None
    line = (
        f"Your exam is in {plan.days_left} day{'s' if plan.days_left != 1 else ''} "
        f"({plan.exam_sitting:%-d %B %Y}): {plan.unseen_remaining:,} questions still unseen, "
        f"so {plan.daily_new_target:,} new a day covers the bank by then."
    )
    if plan.on_track:
        return f"{line} Your daily session is on track for it."
    return f"{line} That is more than your daily plan allows: consider raising your limits."


def send_study_reminder_email(*, log_id: int) -> bool:
    """Emails the reminder recorded as ``log_id`` at most once; True when it left now."""
    with transaction.atomic():
        log = _locked_log(log_id, ReminderLog.LogKind.STUDY_REMINDER)
        if log is None or log.emailed_at is not None:
            return False
        user = log.user
        preference = selectors.preferences_for(user=user)
        if not (user.is_active and user.is_email_verified):
            return False
        if not selectors.wants_email(preference, Kind.REMINDER):
            return False
        last_activity = datetime.fromisoformat(log.key)
        suggestion = selectors.suggestion_for(user_id=user.pk)
        send_templated_email(
            to=user.email,
            template="study_reminder",
            context={
                "display_name": _display_name(user),
                "days_inactive": max(1, (timezone.now() - last_activity).days),
                "suggestion": suggestion.as_context() if suggestion else None,
                "plan_line": plan_line(user=user),
                "practice_url": f"{settings.FRONTEND_URL}/practice",
                "preferences_url": f"{settings.FRONTEND_URL}/settings/notifications",
            },
        )
        log.emailed_at = timezone.now()
        log.save(update_fields=["emailed_at"])
    return True


# --- Weekly summaries ------------------------------------------------------------------------


def summary_week_of(now: datetime) -> date:
    """The Monday of the week a summary sent at ``now`` covers: the last complete UTC week."""
    today = now.astimezone(UTC).date()
    this_monday = today - timedelta(days=today.weekday())
    return this_monday - timedelta(days=7)


def _summary_line(summary: selectors.WeeklySummary) -> str:
    week = summary.week
    if not week.answered:
        return "No questions answered last week. A short session today gets you going again."
    line = f"You answered {week.answered} questions last week at {week.accuracy_percent}%."
    if summary.accuracy_change is not None and summary.accuracy_change != 0:
        direction = "up" if summary.accuracy_change > 0 else "down"
        line += f" Accuracy {direction} {abs(summary.accuracy_change)} points on the week before."
    return line


def send_weekly_summaries(*, now: datetime | None = None) -> int:
    """Issues the summary of the last complete week to every candidate active in it or the
    week before; returns how many were issued by this run."""
    now = now or timezone.now()
    week_start = summary_week_of(now)
    key = week_start.isoformat()
    issued = 0
    after = 0
    while True:
        ids = list(
            selectors.active_candidate_ids_between(
                first_day=week_start - timedelta(days=7), last_day=week_start + timedelta(days=6)
            ).filter(pk__gt=after)[:PLAN_BATCH_SIZE]
        )
        if not ids:
            return issued
        after = ids[-1]
        done = _existing_keys(kind=ReminderLog.LogKind.WEEKLY_SUMMARY, user_ids=ids)
        preferences = _preferences_by_user(ids)
        users = User.objects.in_bulk([uid for uid in ids if (uid, key) not in done])
        for user_id in sorted(users):
            summary = selectors.weekly_summary_for(user_id=user_id, week_start=week_start)
            issued += _issue(
                user=users[user_id],
                preference=preferences[user_id],
                log_kind=ReminderLog.LogKind.WEEKLY_SUMMARY,
                key=key,
                notification_kind=Kind.PROGRESS,
                title="Your week in review",
                body=_summary_line(summary),
                link="/analytics",
                email_task=WEEKLY_SUMMARY_EMAIL_TASK,
            )


def weekly_summary_context(*, user: User, week_start: date) -> dict[str, Any]:
    """Everything the weekly summary templates show, for ``user`` and the week from Monday
    ``week_start``."""
    summary = selectors.weekly_summary_for(user_id=user.pk, week_start=week_start)
    return {
        "display_name": _display_name(user),
        "summary": summary.as_context(),
        "headline": _summary_line(summary),
        "dashboard_url": f"{settings.FRONTEND_URL}/dashboard",
        "preferences_url": f"{settings.FRONTEND_URL}/settings/notifications",
    }


def send_weekly_summary_email(*, log_id: int) -> bool:
    """Emails the summary recorded as ``log_id`` at most once; True when it left now."""
    with transaction.atomic():
        log = _locked_log(log_id, ReminderLog.LogKind.WEEKLY_SUMMARY)
        if log is None or log.emailed_at is not None:
            return False
        user = log.user
        if not (user.is_active and user.is_email_verified):
            return False
        if not selectors.wants_email(selectors.preferences_for(user=user), Kind.PROGRESS):
            return False
        send_templated_email(
            to=user.email,
            template="weekly_summary",
            context=weekly_summary_context(user=user, week_start=date.fromisoformat(log.key)),
        )
        log.emailed_at = timezone.now()
        log.save(update_fields=["emailed_at"])
    return True
