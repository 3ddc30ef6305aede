from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.analytics.models import CategoryProgress, DailyActivity
from apps.analytics.services import recompute_aggregates, record_answers, record_heartbeat
from apps.analytics.tasks import recompute_aggregates_task
from apps.questions.models import Question
from apps.taxonomy.models import Category
from tests.analytics.helpers import answer, next_session_id, publish, set_timezone
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

# Around the 2026 daylight-saving changes on both hemispheres.
BASE = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)
ZONES = [
    "UTC",
    "Pacific/Auckland",
    "America/Los_Angeles",
    "Asia/Kolkata",
    "Pacific/Kiritimati",
    "America/St_Johns",
    "Europe/London",
]


def snapshot() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    days = DailyActivity.objects.order_by("user_id", "date").values_list(
        "user_id", "date", "answered", "correct", "time_spent_sec", "reading_sec"
    )
    categories = CategoryProgress.objects.order_by("user_id", "category_id").values_list(
        "user_id", "category_id", "answered", "correct", "last_practiced_at"
    )
    return list(days), list(categories)


@pytest.fixture
def questions(categories: list[Category]) -> list[Question]:
    return [make_question(categories[i % 3]) for i in range(6)]


def test_rebuild_repairs_drift_and_a_second_run_changes_nothing(
    user: User, other_user: User, questions: list[Question]
) -> None:
    publish(*(answer(user, q, correct=i % 2 == 0, at=BASE) for i, q in enumerate(questions)))
    publish(answer(other_user, questions[0], at=BASE + timedelta(days=2), seconds=900))
    record_heartbeat(user_id=user.pk, seconds=40, now=BASE + timedelta(days=1))
    good = snapshot()

    # Drift of every kind: a wrong counter, a missing row, a row that should not exist.
    DailyActivity.objects.filter(user=user, date=BASE.date()).update(answered=99)
    CategoryProgress.objects.filter(user=other_user).delete()
    DailyActivity.objects.create(user=other_user, date=date(2020, 1, 1), answered=3, correct=1)
    DailyActivity.objects.filter(user=user, reading_sec__gt=0).update(reading_sec=0)

    report = recompute_aggregates()
    assert snapshot() == good
    assert (report.learners, report.created, report.updated, report.deleted) == (2, 1, 2, 1)

    ids_before = sorted(DailyActivity.objects.values_list("id", flat=True))
    again = recompute_aggregates()
    assert again.changed == 0
    assert sorted(DailyActivity.objects.values_list("id", flat=True)) == ids_before


def test_rebuild_of_one_learner_leaves_the_others(
    user: User, other_user: User, questions: list[Question]
) -> None:
    publish(answer(user, questions[0], at=BASE), answer(other_user, questions[1], at=BASE))
    DailyActivity.objects.update(answered=7)
    report = recompute_aggregates(user_id=user.pk)
    assert report.learners == 1
    assert DailyActivity.objects.get(user=user).answered == 1
    assert DailyActivity.objects.get(user=other_user).answered == 7


def test_management_command_and_task(user: User, questions: list[Question]) -> None:
    publish(answer(user, questions[0], at=BASE))
    DailyActivity.objects.update(correct=0)
    out = StringIO()
    call_command("recompute_aggregates", "--user", str(user.pk), stdout=out)
    assert "learners: 1, rows created: 0, updated: 1, deleted: 0" in out.getvalue()
    assert DailyActivity.objects.get(user=user).correct == 1

    DailyActivity.objects.update(correct=0)
    assert recompute_aggregates_task.delay().get() == 1  # eager in tests: fans out and runs
    assert DailyActivity.objects.get(user=user).correct == 1


# --- The property: incremental == rebuild, whatever the history -----------------------------

answer_batch = st.tuples(
    st.just("answers"),
    st.integers(0, 1),  # learner
    st.integers(0, 3),  # session (a small pool, so repeats and duplicates happen)
    st.lists(
        st.tuples(
            st.integers(0, 5),  # question
            st.booleans(),  # correct
            st.integers(-5, 2000),  # seconds (negative and over the cap included)
            st.integers(0, 60 * 24 * 40),  # minutes after BASE
        ),
        min_size=1,
        max_size=8,
    ),
)
heartbeat = st.tuples(
    st.just("heartbeat"), st.integers(0, 1), st.integers(0, 90), st.integers(0, 3600 * 24 * 40)
)
timezone_change = st.tuples(st.just("timezone"), st.integers(0, 1), st.sampled_from(ZONES))
histories = st.lists(st.one_of(answer_batch, heartbeat, timezone_change), max_size=25)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=histories)
def test_rebuild_equals_the_incremental_path(
    history: list[tuple[Any, ...]], user: User, other_user: User, questions: list[Question]
) -> None:
    learners = [user, other_user]
    sessions = {(i, s): next_session_id() for i in range(2) for s in range(4)}
    with transaction.atomic():
        for event in history:
            kind, who = event[0], learners[event[1]]
            if kind == "answers":
                record_answers(
                    answers=[
                        answer(
                            who,
                            questions[q],
                            correct=ok,
                            seconds=sec,
                            at=BASE + timedelta(minutes=minute),
                            session_id=sessions[(event[1], event[2])],
                        )
                        for q, ok, sec, minute in event[3]
                    ]
                )
            elif kind == "heartbeat":
                record_heartbeat(
                    user_id=who.pk, seconds=event[2], now=BASE + timedelta(seconds=event[3])
                )
            else:
                set_timezone(who, event[2])
        incremental = snapshot()

        first = recompute_aggregates()
        assert first.changed == 0  # the incremental path was already exact
        assert snapshot() == incremental

        DailyActivity.objects.all().delete()
        CategoryProgress.objects.all().delete()
        recompute_aggregates()
        assert snapshot() == incremental  # rebuilt from nothing, the same
        assert recompute_aggregates().changed == 0
        transaction.set_rollback(True)
