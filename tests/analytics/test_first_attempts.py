"""The first attempts read for the nightly calibration: streamed by COPY, the same rows as the
ORM gives for the same queryset, by the one rule (earliest answer, then earliest fact)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics import first_attempts
from apps.analytics.models import AnswerFact
from apps.taxonomy.models import Category
from tests.analytics.helpers import answer, publish
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db


def test_copied_rows_are_the_orm_rows_of_the_same_rule(
    user: User, other_user: User, categories: list[Category]
) -> None:
    questions = [make_question(categories[i % 2]) for i in range(4)]
    now = timezone.now()
    # Out of order: a later-recorded exam answer given before the practice answer is the first.
    publish(answer(user, questions[0], correct=True, at=now - timedelta(minutes=5)))
    publish(
        answer(user, questions[0], correct=False, at=now - timedelta(minutes=30), source="exam")
    )
    publish(answer(user, questions[1], correct=False, at=now - timedelta(days=2)))
    publish(answer(user, questions[1], correct=True, at=now - timedelta(days=1)))
    publish(answer(other_user, questions[1], correct=True, at=now - timedelta(hours=3)))
    publish(answer(other_user, questions[2], correct=False, at=now))
    AnswerFact.objects.filter(question_id=questions[2].pk).update(question_version=None)
    top = first_attempts.latest_fact_id()
    publish(answer(user, questions[3], correct=True))  # after the high-water mark: not read
    ids = [q.pk for q in questions]

    copied = list(first_attempts.first_attempt_rows(question_ids=ids, up_to_fact_id=top))
    facts = AnswerFact.objects.filter(question_id__in=ids, id__lte=top)
    fields = first_attempts._ROW_FIELDS
    expected = list(first_attempts._first_attempts(facts).values_list(*fields))

    assert copied == expected
    assert len(copied) == 4  # (user, q0), (user, q1), (other, q1), (other, q2)
    first = {(row[1], row[2]): row for row in copied}
    assert first[(user.pk, questions[0].pk)][5] is False  # the exam's, given first
    assert first[(user.pk, questions[0].pk)][7] == "exam"
    assert first[(user.pk, questions[1].pk)][5] is False
    assert first[(other_user.pk, questions[2].pk)][3] is None
    assert (user.pk, questions[3].pk) not in first


def test_no_questions_read_nothing() -> None:
    assert list(first_attempts.first_attempt_rows(question_ids=[], up_to_fact_id=10**12)) == []


@pytest.mark.parametrize("parse_bytes", [1, 17, 50, 100, 1 << 22])
def test_the_columns_are_the_rows_as_arrays(
    user: User,
    other_user: User,
    categories: list[Category],
    parse_bytes: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The calibration's columnar read: the same attempts in the same order, version 1 for a
    fact without one, times to the microsecond, however the stream is cut before parsing (the
    header, rows and the trailer split across parses)."""
    monkeypatch.setattr(first_attempts, "_PARSE_BYTES", parse_bytes)
    questions = [make_question(categories[i % 2]) for i in range(6)]
    now = timezone.now()
    for i, question in enumerate(questions):
        publish(answer(user, question, correct=i % 2 == 0, at=now - timedelta(seconds=i * 7919)))
        publish(answer(other_user, question, correct=i % 3 == 0, at=now - timedelta(hours=i)))
        publish(answer(user, question, correct=True, at=now))  # a repeat: never a first attempt
    AnswerFact.objects.filter(question_id=questions[0].pk).update(question_version=None)
    AnswerFact.objects.filter(question_id=questions[1].pk).update(question_version=3)
    top = first_attempts.latest_fact_id()
    ids = [q.pk for q in questions]

    rows = list(first_attempts.first_attempt_rows(question_ids=ids, up_to_fact_id=top))
    columns = first_attempts.first_attempt_columns(question_ids=ids, up_to_fact_id=top)

    assert len(columns) == len(rows) == 12
    assert columns.user_id.tolist() == [r[1] for r in rows]
    assert columns.question_id.tolist() == [r[2] for r in rows]
    assert columns.version.tolist() == [r[3] or 1 for r in rows]
    assert 3 in columns.version.tolist()
    assert columns.category_id.tolist() == [r[4] for r in rows]
    assert columns.is_correct.tolist() == [r[5] for r in rows]
    assert columns.answered_at.tolist() == pytest.approx([r[6].timestamp() for r in rows], abs=1e-6)
    none = first_attempts.first_attempt_columns(question_ids=[], up_to_fact_id=top)
    assert len(none) == 0


def test_the_archive_s_sql_picks_the_first_attempts_the_orm_picks(
    user: User, other_user: User, categories: list[Category]
) -> None:
    """The first-attempt rule written as SQL for one partition (what archiving keeps) against
    the ORM expression, with out-of-order answers and two answers at the same instant (the
    earlier fact wins)."""
    from django.db import connection

    from apps.core.partition_catalog import partitions_of

    questions = [make_question(categories[0]) for _ in range(3)]
    now = timezone.now()
    publish(answer(user, questions[0], at=now - timedelta(minutes=1)))
    publish(answer(user, questions[0], at=now - timedelta(minutes=9), source="exam"))
    publish(answer(user, questions[1], at=now), answer(other_user, questions[1], at=now))
    publish(answer(user, questions[1], at=now))  # same instant, a later fact: not first
    publish(answer(other_user, questions[2], at=now - timedelta(days=1)))
    publish(answer(other_user, questions[2], at=now))

    expected = set(
        first_attempts._first_attempts(AnswerFact.objects.all()).values_list("id", flat=True)
    )
    picked: set[int] = set()
    with connection.cursor() as cursor:
        for partition in partitions_of(cursor, AnswerFact._meta.db_table):
            cursor.execute(first_attempts.first_attempt_ids_sql(partition))
            picked |= {row[0] for row in cursor.fetchall()}
    assert picked == expected
    assert len(expected) == 4
