"""Study reminders (one per inactivity spell) and weekly summaries, with the clock frozen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail

from apps.accounts.models import Role, User
from apps.analytics.services import record_heartbeat
from apps.notifications import services
from apps.notifications.models import Kind, Notification, ReminderLog
from apps.notifications.services.reminders import summary_week_of
from tests.accounts.factories import UserFactory
from tests.notifications.factories import record_study
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

# A Monday, 17:00 UTC (when Beat runs the reminders).
T0 = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def _run_reminders(at: datetime, capture: Any) -> int:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return services.send_study_reminders()


def _reminders(user: User) -> list[Notification]:
    return list(Notification.objects.filter(user=user, kind=Kind.REMINDER))


def _join(at: datetime, **kwargs: Any) -> User:
    with time_machine.travel(at, tick=False):
        return UserFactory(**kwargs)


# --- Study reminders -------------------------------------------------------------------------


def test_one_reminder_per_inactivity_spell(django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    category = CategoryFactory(name="Anatomy")
    candidate = _join(T0 - timedelta(days=30))
    record_study(user=candidate, category=category, answered=4, correct=2, at=T0)

    # Active yesterday, then two days ago: not yet idle for three days.
    assert _run_reminders(T0 + timedelta(days=1), capture) == 0
    assert _run_reminders(T0 + timedelta(days=2, hours=23), capture) == 0
    # Three days idle: one reminder, in-app and by email.
    assert _run_reminders(T0 + timedelta(days=3), capture) == 1
    assert len(_reminders(candidate)) == 1
    assert len(mail.outbox) == 1
    # Still idle on the following days: nothing more (not one a day).
    for day in range(4, 12):
        assert _run_reminders(T0 + timedelta(days=day), capture) == 0
    assert len(_reminders(candidate)) == 1
    assert len(mail.outbox) == 1

    # Studies again, then drifts off: a new spell earns one new reminder.
    record_study(user=candidate, category=category, answered=2, correct=2, at=T0 + timedelta(12))
    assert _run_reminders(T0 + timedelta(days=14), capture) == 0
    assert _run_reminders(T0 + timedelta(days=15), capture) == 1
    assert _run_reminders(T0 + timedelta(days=16), capture) == 0
    assert len(_reminders(candidate)) == 2
    assert len(mail.outbox) == 2
    assert ReminderLog.objects.filter(user=candidate).count() == 2


def test_a_candidate_who_never_studied_is_reminded_once_after_joining(
    django_capture_on_commit_callbacks: Any,
) -> None:
    capture = django_capture_on_commit_callbacks
    CategoryFactory(name="Anatomy", slug="anatomy", order=0)
    newcomer = _join(T0)
    assert _run_reminders(T0 + timedelta(days=2), capture) == 0
    assert _run_reminders(T0 + timedelta(days=3), capture) == 1
    assert _run_reminders(T0 + timedelta(days=30), capture) == 0
    reminder = _reminders(newcomer)[0]
    assert reminder.title == "Time for a quick study session"
    assert reminder.body == (
        "It has been 3 days since you last studied. Start Anatomy: you have not practised it yet."
    )
    assert reminder.link == "/practice?category=anatomy"


def test_reading_counts_as_activity(django_capture_on_commit_callbacks: Any) -> None:
    capture = django_capture_on_commit_callbacks
    reader = _join(T0 - timedelta(days=10))
    record_heartbeat(user_id=reader.pk, seconds=60, now=T0)
    assert _run_reminders(T0 + timedelta(days=2), capture) == 0
    assert _run_reminders(T0 + timedelta(days=3), capture) == 1
    assert len(_reminders(reader)) == 1


def test_inactivity_threshold_is_a_setting(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.REMINDER_INACTIVE_DAYS = 7
    _join(T0)
    assert _run_reminders(T0 + timedelta(days=6), django_capture_on_commit_callbacks) == 0
    assert _run_reminders(T0 + timedelta(days=7), django_capture_on_commit_callbacks) == 1


def test_only_active_candidates_are_reminded(django_capture_on_commit_callbacks: Any) -> None:
    _join(T0, role=Role.EDITOR)
    _join(T0, role=Role.ADMIN)
    _join(T0, is_active=False)
    candidate = _join(T0)

    assert _run_reminders(T0 + timedelta(days=5), django_capture_on_commit_callbacks) == 1
    assert Notification.objects.get().user_id == candidate.pk


def test_reminder_preferences(django_capture_on_commit_callbacks: Any) -> None:
    email_only = _join(T0)
    services.update_preferences(user=email_only, changes={"in_app_reminders": False})
    in_app_only = _join(T0)
    services.update_preferences(user=in_app_only, changes={"email_reminders": False})
    unverified = _join(T0, is_email_verified=False)

    assert _run_reminders(T0 + timedelta(days=3), django_capture_on_commit_callbacks) == 3

    assert _reminders(email_only) == []
    assert len(_reminders(in_app_only)) == 1
    assert len(_reminders(unverified)) == 1
    assert [m.to for m in mail.outbox] == [[email_only.email]]
    # Each spell is recorded even where nothing went out, so it is never reconsidered.
    assert _run_reminders(T0 + timedelta(days=4), django_capture_on_commit_callbacks) == 0


def test_reminder_email_has_both_parts_and_a_suggestion(
    django_capture_on_commit_callbacks: Any,
) -> None:
    weak = CategoryFactory(name="Pathology & Microbiology", slug="pathology")
    candidate = _join(T0 - timedelta(days=10))
    record_study(user=candidate, category=weak, answered=10, correct=3, at=T0)

    _run_reminders(T0 + timedelta(days=4), django_capture_on_commit_callbacks)

    message = mail.outbox[0]
    assert message.to == [candidate.email]
    assert message.subject == "Pathology & Microbiology is waiting for you"
    assert "It has been 4 days since you last studied." in message.body
    assert "Practise Pathology & Microbiology: you score 30% there." in message.body
    assert "http://localhost:3000/practice?category=pathology" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert "<strong>4 days</strong>" in html
    assert "Pathology &amp; Microbiology" in html
    assert 'href="http://localhost:3000/practice?category=pathology"' in html
    in_app = _reminders(candidate)[0]
    assert in_app.link == "/practice?category=pathology"


def test_reminder_email_task_is_idempotent(django_capture_on_commit_callbacks: Any) -> None:
    _join(T0)
    _run_reminders(T0 + timedelta(days=3), django_capture_on_commit_callbacks)
    log = ReminderLog.objects.get()
    assert log.emailed_at is not None
    assert services.send_study_reminder_email(log_id=log.pk) is False
    assert len(mail.outbox) == 1


def test_concurrent_runs_cannot_double_remind(django_capture_on_commit_callbacks: Any) -> None:
    # Two runs that both read "no reminder yet" race on the ledger's unique key.
    from apps.notifications import selectors
    from apps.notifications.services import reminders

    candidate = _join(T0)
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        user = selectors.inactive_candidates(inactive_since=T0).get(pk=candidate.pk)
        key = reminders.spell_key(user.last_activity_at)
        preference = selectors.preferences_for(user=candidate)
        kwargs = {
            "user": candidate,
            "preference": preference,
            "log_kind": ReminderLog.LogKind.STUDY_REMINDER,
            "key": key,
            "notification_kind": Kind.REMINDER,
            "title": "t",
            "body": "b",
            "link": "/",
            "email_task": reminders.STUDY_REMINDER_EMAIL_TASK,
        }
        with django_capture_on_commit_callbacks(execute=True):
            assert reminders._issue(**kwargs) is True
            assert reminders._issue(**kwargs) is False
    assert len(_reminders(candidate)) == 1
    assert len(mail.outbox) == 1


# --- Weekly summaries ------------------------------------------------------------------------

MONDAY_7AM = datetime(2026, 3, 9, 7, 0, tzinfo=UTC)  # Beat's weekly summary time
LAST_WEEK = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)  # a Wednesday in the week covered
WEEK_BEFORE = datetime(2026, 2, 25, 12, 0, tzinfo=UTC)


def _run_summaries(capture: Any, at: datetime = MONDAY_7AM) -> int:
    with time_machine.travel(at, tick=False), capture(execute=True):
        return services.send_weekly_summaries()


def test_summary_week_is_the_last_complete_week() -> None:
    assert summary_week_of(MONDAY_7AM).isoformat() == "2026-03-02"
    assert summary_week_of(datetime(2026, 3, 15, 23, 0, tzinfo=UTC)).isoformat() == "2026-03-02"


def test_weekly_summary_content(django_capture_on_commit_callbacks: Any) -> None:
    # The syllabus's own slugs: the top recommendation is ranked by the papers' blueprint marks.
    anatomy = CategoryFactory(name="Anatomy", slug="anatomy-embryology", order=1)
    physiology = CategoryFactory(name="Physiology", slug="physiology", order=2)
    CategoryFactory(name="Pathology", slug="pathology", order=3)
    candidate = _join(WEEK_BEFORE - timedelta(days=30))
    record_study(user=candidate, category=anatomy, answered=10, correct=5, at=WEEK_BEFORE)
    record_study(user=candidate, category=anatomy, answered=10, correct=4, at=LAST_WEEK)
    record_study(user=candidate, category=physiology, answered=10, correct=9, at=LAST_WEEK)

    assert _run_summaries(django_capture_on_commit_callbacks) == 1

    message = mail.outbox[0]
    assert message.to == [candidate.email]
    assert message.subject == "Your week: 20 questions at 65%"
    text = message.body
    assert "Your week from 2 Mar to 8 Mar 2026" in text
    assert "Questions answered: 20 (+10 on the week before)" in text
    assert "Accuracy: 65% (13 correct)" in text
    assert "Trend: up 15 points on the week before (50%)" in text
    assert "- Anatomy: 45% over 20 answers" in text
    assert "- Physiology: 90% over 10 answers" in text
    assert text.index("Anatomy: 45%") < text.index("Physiology: 90%")
    assert "Your best next step: Practise Anatomy: you score 45% there. An hour there" in text
    # the email leads with it
    assert text.index("Your best next step") < text.index("Your week from")
    html = message.alternatives[0][0]
    assert "<td" in html
    assert "up 15 points" in html
    assert "<li>Anatomy: <strong>45%</strong> over 20 answers</li>" in html
    assert 'href="http://localhost:3000/practice?category=anatomy-embryology"' in html

    progress = Notification.objects.get(user=candidate, kind=Kind.PROGRESS)
    assert progress.body == (
        "You answered 20 questions last week at 65%. Accuracy up 15 points on the week before."
    )


def test_weekly_summary_once_per_week(django_capture_on_commit_callbacks: Any) -> None:
    category = CategoryFactory()
    candidate = _join(WEEK_BEFORE)
    record_study(user=candidate, category=category, answered=3, correct=3, at=LAST_WEEK)

    assert _run_summaries(django_capture_on_commit_callbacks) == 1
    assert _run_summaries(django_capture_on_commit_callbacks) == 0  # Beat fired twice
    assert _run_summaries(django_capture_on_commit_callbacks, MONDAY_7AM + timedelta(hours=5)) == 0
    assert len(mail.outbox) == 1
    # Next Monday: last week had no answers but the week before did -> still a summary.
    assert _run_summaries(django_capture_on_commit_callbacks, MONDAY_7AM + timedelta(days=7)) == 1
    assert (
        "No questions answered last week"
        in Notification.objects.filter(kind=Kind.PROGRESS)
        .order_by("-id")
        .values_list("body", flat=True)[0]
    )
    # Two idle weeks: no more summaries.
    assert _run_summaries(django_capture_on_commit_callbacks, MONDAY_7AM + timedelta(days=14)) == 0


def test_weekly_summary_respects_preferences_and_audience(
    django_capture_on_commit_callbacks: Any,
) -> None:
    category = CategoryFactory()
    opted_out = _join(WEEK_BEFORE)
    services.update_preferences(user=opted_out, changes={"email_weekly_summary": False})
    idle = _join(WEEK_BEFORE)
    editor = _join(WEEK_BEFORE, role=Role.EDITOR)
    for u in (opted_out, editor):
        record_study(user=u, category=category, answered=2, correct=1, at=LAST_WEEK)

    assert _run_summaries(django_capture_on_commit_callbacks) == 1

    assert mail.outbox == []
    assert Notification.objects.filter(user=opted_out, kind=Kind.PROGRESS).count() == 1
    assert not Notification.objects.filter(user__in=[idle, editor]).exists()


def test_weekly_summary_first_week_has_no_trend(django_capture_on_commit_callbacks: Any) -> None:
    category = CategoryFactory(name="Anatomy")
    candidate = _join(LAST_WEEK - timedelta(days=1))
    record_study(user=candidate, category=category, answered=4, correct=3, at=LAST_WEEK)

    _run_summaries(django_capture_on_commit_callbacks)

    text = mail.outbox[0].body
    assert "Trend: nothing to compare with yet" in text
    assert "Questions answered: 4 (+4 on the week before)" in text
    # Too few answers to judge a weakest topic; the suggestion is the dashboard's first one.
    assert "Weakest topics" not in text
    assert "Your best next step: Keep practising Anatomy (75% so far)." in text
    assert mail.outbox[0].to == [candidate.email]
