from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import User
from apps.analytics.caching import DASHBOARD, read_user_cache, user_cache_key, write_user_cache
from apps.analytics.models import AnswerFact, CategoryProgress, DailyActivity, HeartbeatLog
from apps.analytics.services import record_answers, record_heartbeat, recording
from apps.questions.models import Question
from apps.taxonomy.models import Category
from tests.accounts.factories import UserFactory
from tests.analytics.helpers import answer, next_session_id, publish, set_timezone
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def day_row(user: User, day: date) -> dict[str, Any]:
    return DailyActivity.objects.filter(user=user, date=day).values(
        "answered", "correct", "time_spent_sec", "reading_sec"
    )[0]


def progress(user: User, category: Category) -> CategoryProgress:
    return CategoryProgress.objects.get(user=user, category=category)


# --- record_answers -----------------------------------------------------------------------------


def test_answers_become_facts_and_aggregates(user: User, categories: list[Category]) -> None:
    anatomy, physiology = categories[0], categories[1]
    q1, q2, q3 = make_question(anatomy), make_question(anatomy), make_question(physiology)
    session = next_session_id()
    publish(
        answer(user, q1, correct=True, at=T0, seconds=40, session_id=session),
        answer(
            user, q2, correct=False, at=T0 + timedelta(minutes=1), seconds=20, session_id=session
        ),
        answer(user, q3, correct=True, at=T0 + timedelta(minutes=2), seconds=5, session_id=session),
    )

    assert AnswerFact.objects.filter(user=user).count() == 3
    assert day_row(user, date(2026, 3, 10)) == {
        "answered": 3,
        "correct": 2,
        "time_spent_sec": 65,
        "reading_sec": 0,
    }
    a = progress(user, anatomy)
    assert (a.answered, a.correct, a.last_practiced_at) == (2, 1, T0 + timedelta(minutes=1))
    p = progress(user, physiology)
    assert (p.answered, p.correct, p.last_practiced_at) == (1, 1, T0 + timedelta(minutes=2))


def test_later_batches_add_up(user: User, categories: list[Category]) -> None:
    q = make_question(categories[0])
    for correct in (True, False, True):
        publish(answer(user, q, correct=correct, at=T0, seconds=10))
    assert day_row(user, date(2026, 3, 10))["answered"] == 3
    assert day_row(user, date(2026, 3, 10))["correct"] == 2
    assert progress(user, categories[0]).answered == 3


def test_answer_time_is_capped_for_study_time_but_kept_raw(
    user: User, categories: list[Category], settings: Any
) -> None:
    settings.ANALYTICS_ANSWER_TIME_CAP_SEC = 600
    q1, q2, q3 = (make_question(categories[0]) for _ in range(3))
    publish(
        answer(user, q1, at=T0, seconds=5000),
        answer(user, q2, at=T0, seconds=-7),
        answer(user, q3, at=T0, seconds=600),
    )
    facts = {f.question_id: f for f in AnswerFact.objects.filter(user=user)}
    assert (facts[q1.pk].time_spent_sec, facts[q1.pk].counted_time_sec) == (5000, 600)
    assert (facts[q2.pk].time_spent_sec, facts[q2.pk].counted_time_sec) == (0, 0)
    assert facts[q3.pk].counted_time_sec == 600
    assert day_row(user, date(2026, 3, 10))["time_spent_sec"] == 1200


def test_a_question_is_recorded_once_per_session(user: User, categories: list[Category]) -> None:
    q = make_question(categories[0])
    session = next_session_id()
    first = answer(user, q, correct=True, at=T0, session_id=session)
    # Twice in one batch, then again in a retried publish: counted once.
    assert record_answers(answers=[first, first]) == 1
    assert record_answers(answers=[answer(user, q, correct=False, session_id=session)]) == 0
    assert AnswerFact.objects.filter(user=user).count() == 1
    assert day_row(user, date(2026, 3, 10))["answered"] == 1
    assert progress(user, categories[0]).correct == 1
    q.refresh_from_db()
    assert (q.times_answered, q.times_correct) == (1, 1)
    # The same question in another session is a new answer.
    assert record_answers(answers=[answer(user, q, at=T0, session_id=next_session_id())]) == 1


def test_a_batch_adds_only_its_new_answers_to_the_aggregates(
    user: User, categories: list[Category]
) -> None:
    anatomy, physiology = categories[0], categories[1]
    q1, q2, q3 = make_question(anatomy), make_question(anatomy), make_question(physiology)
    session = next_session_id()
    assert record_answers(answers=[answer(user, q1, correct=True, at=T0, session_id=session)]) == 1
    retried = [
        answer(user, q1, correct=False, at=T0, seconds=50, session_id=session),  # already in
        answer(
            user, q2, correct=True, at=T0 + timedelta(minutes=1), seconds=20, session_id=session
        ),
        answer(user, q3, correct=False, at=T0 + timedelta(days=1), seconds=7, session_id=session),
    ]
    assert record_answers(answers=retried) == 2
    assert day_row(user, date(2026, 3, 10)) == {
        "answered": 2,
        "correct": 2,
        "time_spent_sec": 50,
        "reading_sec": 0,
    }
    assert day_row(user, date(2026, 3, 11))["answered"] == 1
    a = progress(user, anatomy)
    assert (a.answered, a.correct, a.last_practiced_at) == (2, 2, T0 + timedelta(minutes=1))
    p = progress(user, physiology)
    assert (p.answered, p.correct, p.last_practiced_at) == (1, 0, T0 + timedelta(days=1))
    stats = dict(
        Question.objects.filter(pk__in=[q1.pk, q2.pk, q3.pk]).values_list("pk", "times_answered")
    )
    assert stats == {q1.pk: 1, q2.pk: 1, q3.pk: 1}


def test_question_statistics_are_anonymous_totals(
    user: User, other_user: User, categories: list[Category]
) -> None:
    q = make_question(categories[0])
    publish(answer(user, q, correct=True), answer(other_user, q, correct=False))
    publish(answer(user, q, correct=True))
    q.refresh_from_db()
    assert (q.times_answered, q.times_correct) == (3, 2)


def test_days_are_the_learners_own(user: User, categories: list[Category]) -> None:
    q1, q2, q3 = (make_question(categories[0]) for _ in range(3))
    set_timezone(user, "Asia/Tokyo")  # UTC+9
    publish(answer(user, q1, at=datetime(2026, 3, 10, 15, 30, tzinfo=UTC)))  # 00:30 on the 11th
    set_timezone(user, "America/Los_Angeles")  # UTC-7 in March (daylight saving from the 8th)
    publish(answer(user, q2, at=datetime(2026, 3, 10, 6, 59, tzinfo=UTC)))  # 23:59 on the 9th
    publish(answer(user, q3, at=datetime(2026, 3, 10, 7, 0, tzinfo=UTC)))  # 00:00 on the 10th

    days = dict(DailyActivity.objects.filter(user=user).values_list("date", "answered"))
    assert days == {date(2026, 3, 11): 1, date(2026, 3, 9): 1, date(2026, 3, 10): 1}
    # Changing timezone later does not move past answers (the diary stays as it was).
    assert AnswerFact.objects.get(question_id=q1.pk).local_date == date(2026, 3, 11)


def test_unknown_timezone_falls_back_to_utc(user: User, categories: list[Category]) -> None:
    set_timezone(user, "Not/AZone")
    publish(answer(user, make_question(categories[0]), at=datetime(2026, 3, 10, 23, 0, tzinfo=UTC)))
    assert DailyActivity.objects.get(user=user).date == date(2026, 3, 10)


def test_last_practised_never_goes_back(user: User, categories: list[Category]) -> None:
    q1, q2 = make_question(categories[0]), make_question(categories[0])
    publish(answer(user, q1, at=T0))
    publish(answer(user, q2, at=T0 - timedelta(days=3)))  # an old answer arriving late
    assert progress(user, categories[0]).last_practiced_at == T0


def test_statement_count_does_not_grow_with_the_batch(
    user: User, other_user: User, categories: list[Category], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recording, "_zone_guesses", {})  # learners this process has not seen
    questions = [make_question(categories[i % 3]) for i in range(180)]

    def statements(batch: list[Question], who: User) -> int:
        session = next_session_id()
        answers = [
            answer(who, q, correct=i % 3 == 0, at=T0 + timedelta(seconds=i), session_id=session)
            for i, q in enumerate(batch)
        ]
        with CaptureQueriesContext(connection) as ctx:
            record_answers(answers=answers)
        return len(ctx.captured_queries)

    # A right and a wrong answer (the question statistics take one update per distinct
    # (answered, correct) pair, so a mixed batch is the widest case) versus 180 answers.
    two = statements(questions[:2], user)
    assert statements(questions, other_user) == two
    # The learner lock (reading the timezone), then one statement for the facts and every
    # aggregate...
    assert two == 2
    # ...and a single statement once the process knows the learners' timezones.
    assert statements(questions[:2], user) == statements(questions, other_user) == 1


def test_a_timezone_changed_since_this_process_read_it_is_not_used(
    user: User, categories: list[Category]
) -> None:
    q1, q2 = make_question(categories[0]), make_question(categories[0])
    set_timezone(user, "Asia/Tokyo")  # UTC+9
    publish(answer(user, q1, at=datetime(2026, 3, 10, 12, 0, tzinfo=UTC)))  # the 10th in Tokyo
    set_timezone(user, "America/Los_Angeles")  # UTC-7 in March
    at = datetime(2026, 3, 11, 3, 0, tzinfo=UTC)  # the 11th in Tokyo, the 10th in Los Angeles
    with CaptureQueriesContext(connection) as ctx:
        publish(answer(user, q2, at=at))
    assert AnswerFact.objects.get(question_id=q2.pk).local_date == date(2026, 3, 10)
    assert dict(DailyActivity.objects.filter(user=user).values_list("date", "answered")) == {
        date(2026, 3, 10): 2
    }
    q2.refresh_from_db()
    assert q2.times_answered == 1
    # Nothing was written with the stale timezone: the guess was refused, then the learner
    # locked again and the answer recorded with the profile's timezone.
    assert len(ctx.captured_queries) == 3


def test_the_publishers_rollback_takes_everything_with_it(
    user: User, categories: list[Category]
) -> None:
    q = make_question(categories[0])

    class Boom(Exception):
        pass

    def practice_view_that_fails_after_publishing() -> None:
        with transaction.atomic():
            publish(answer(user, q))
            raise Boom

    with pytest.raises(Boom):
        practice_view_that_fails_after_publishing()
    assert not AnswerFact.objects.exists()
    assert not DailyActivity.objects.exists()
    assert not CategoryProgress.objects.exists()
    q.refresh_from_db()
    assert q.times_answered == 0


def test_dashboard_cache_is_deleted_when_the_answer_commits(
    user: User, categories: list[Category], django_capture_on_commit_callbacks: Any
) -> None:
    write_user_cache(DASHBOARD, user.pk, "stale", generation=None, timeout=60)
    key = user_cache_key(DASHBOARD, user.pk)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        publish(answer(user, make_question(categories[0])))
        assert cache.get(key) is not None  # not before the commit
    for callback in callbacks:
        callback()
    assert cache.get(key) is None
    assert read_user_cache(DASHBOARD, user.pk).value is None


def test_a_value_computed_across_an_invalidation_is_never_served(user: User) -> None:
    before = read_user_cache(DASHBOARD, user.pk)  # a reader starts computing...
    from apps.analytics.caching import invalidate_user_caches
    from apps.analytics.services import lock_learners

    lock_learners(user_ids=[user.pk])  # ...an answer commits meanwhile...
    invalidate_user_caches(user_ids=[user.pk])
    write_user_cache(DASHBOARD, user.pk, "old", generation=before.generation, timeout=60)
    assert read_user_cache(DASHBOARD, user.pk).value is None  # ...its stale value is ignored
    fresh = read_user_cache(DASHBOARD, user.pk)
    write_user_cache(DASHBOARD, user.pk, "new", generation=fresh.generation, timeout=60)
    assert read_user_cache(DASHBOARD, user.pk).value == "new"


def test_a_lost_invalidation_never_serves_a_stale_value(user: User) -> None:
    """Redis hung while the answer committed: the delete never arrived, the entry is still
    there, but the learner's version in the database has moved on, so it is not served."""
    from apps.analytics.services import lock_learners

    current = read_user_cache(DASHBOARD, user.pk)
    write_user_cache(DASHBOARD, user.pk, "before", generation=current.generation, timeout=60)
    assert read_user_cache(DASHBOARD, user.pk).value == "before"
    lock_learners(user_ids=[user.pk])  # a write to the record, with no cache delete at all
    assert cache.get(user_cache_key(DASHBOARD, user.pk)) is not None
    assert read_user_cache(DASHBOARD, user.pk).value is None


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_lose_nothing() -> None:
    """Four writers at once (two learners, the same questions, the same day and category):
    every increment survives and nobody deadlocks."""
    category = Category.objects.create(name="Concurrency", slug="concurrency")
    questions = [make_question(category) for _ in range(6)]
    learners = [UserFactory(), UserFactory()]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(who: User, order: list[Question]) -> None:
        try:
            session = next_session_id()
            answers = [answer(who, q, correct=True, at=T0, session_id=session) for q in order]
            barrier.wait(timeout=10)
            with transaction.atomic():
                record_answers(answers=answers)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=writer, args=(learners[i % 2], questions[:: 1 if i < 2 else -1]))
        for i in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors
    for who in learners:
        assert DailyActivity.objects.get(user=who).answered == 12
        assert CategoryProgress.objects.get(user=who).correct == 12
    assert {q.times_answered for q in Question.objects.filter(category=category)} == {4}


# --- record_heartbeat ---------------------------------------------------------------------------


def test_heartbeats_are_bounded_by_the_cap_and_by_wall_time(user: User, settings: Any) -> None:
    settings.ANALYTICS_HEARTBEAT_MAX_SEC = 60
    assert record_heartbeat(user_id=user.pk, seconds=500, now=T0) == 60  # first: the cap
    assert record_heartbeat(user_id=user.pk, seconds=60, now=T0 + timedelta(seconds=10)) == 10
    assert record_heartbeat(user_id=user.pk, seconds=60, now=T0 + timedelta(seconds=10)) == 0
    assert record_heartbeat(user_id=user.pk, seconds=30, now=T0 + timedelta(seconds=100)) == 30
    # A clock going backwards credits nothing and does not rewind the learner's clock.
    assert record_heartbeat(user_id=user.pk, seconds=30, now=T0) == 0
    assert record_heartbeat(user_id=user.pk, seconds=60, now=T0 + timedelta(seconds=120)) == 20

    assert day_row(user, date(2026, 3, 10))["reading_sec"] == 60 + 10 + 30 + 20
    assert sum(HeartbeatLog.objects.filter(user=user).values_list("seconds", flat=True)) == 120
    assert HeartbeatLog.objects.filter(user=user).count() == 4  # nothing logged for zeros


def test_a_flood_of_heartbeats_never_exceeds_real_time(user: User) -> None:
    credited = sum(
        record_heartbeat(user_id=user.pk, seconds=60, now=T0 + timedelta(seconds=i))
        for i in range(0, 300, 2)
    )
    assert credited <= 60 + 300


def test_reading_time_lands_on_the_learners_day(user: User, categories: list[Category]) -> None:
    set_timezone(user, "Pacific/Auckland")  # UTC+13 in March
    publish(answer(user, make_question(categories[0]), at=T0, seconds=100))
    record_heartbeat(user_id=user.pk, seconds=45, now=T0)
    assert day_row(user, date(2026, 3, 11)) == {
        "answered": 1,
        "correct": 1,
        "time_spent_sec": 100,
        "reading_sec": 45,
    }
