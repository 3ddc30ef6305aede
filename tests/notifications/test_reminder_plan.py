"""The study reminder email carries one line of the candidate's plan to their exam."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from apps.accounts.models import Profile, User
from apps.notifications import services
from apps.notifications.services.reminders import plan_line
from tests.accounts.factories import UserFactory
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)  # when Beat runs the reminders


def _candidate(**profile: Any) -> User:
    with time_machine.travel(T0 - timedelta(days=10), tick=False):
        user = UserFactory()
    Profile.objects.filter(user=user).update(**profile)
    return User.objects.select_related("profile").get(pk=user.pk)


@pytest.fixture
def bank(db: Any) -> None:
    anatomy = CategoryFactory(name="Anatomy & Embryology", slug="anatomy-embryology")
    for _ in range(30):
        make_question(anatomy)


def _remind(capture: Any) -> str:
    with time_machine.travel(T0, tick=False), capture(execute=True):
        services.send_study_reminders()
    assert len(mail.outbox) == 1
    return mail.outbox[0].body


def test_the_reminder_email_has_the_plan_line(
    bank: None, django_capture_on_commit_callbacks: Any
) -> None:
    _candidate(exam_sitting=date(2026, 12, 14), daily_new_limit=2)
    body = _remind(django_capture_on_commit_callbacks)
    assert (
        "Your exam is in 10 days (14 December 2026): 30 questions still unseen, so 3 new a day "
        "covers the bank by then. That is more than your daily plan allows: consider raising "
        "your limits."
    ) in body
    message = mail.outbox[0]
    assert isinstance(message, EmailMultiAlternatives)
    html, _ = message.alternatives[0]
    assert isinstance(html, str)
    assert "Your exam is in 10 days" in html


def test_no_plan_line_without_an_exam_date(
    bank: None, django_capture_on_commit_callbacks: Any
) -> None:
    _candidate()
    body = _remind(django_capture_on_commit_callbacks)
    assert "Your exam" not in body
    assert "It has been" in body


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        # 11:30 UTC on 13 December is already 14 December in Auckland: the exam day, no line.
        ("Pacific/Auckland", None),
        ("Europe/London", "Your exam is in 1 day (14 December 2026)"),
    ],
)
def test_the_plan_line_counts_the_candidates_own_days(
    bank: None, zone: str, expected: str | None
) -> None:
    user = _candidate(timezone=zone, exam_sitting=date(2026, 12, 14), daily_new_limit=30)
    line = plan_line(user=user, now=datetime(2026, 12, 13, 11, 30, tzinfo=UTC))
    if expected is None:
        assert line is None
    else:
        assert line is not None
        assert line.startswith(expected)
        assert line.endswith("Your daily session is on track for it.")
