"""Each written-out statement and compiled query of analytics, run beside the ORM expression it
stands for on the same data: a model change that breaks one fails here.

The recording statements are checked against the aggregates rebuilt from the answer facts with
the ORM (what ``recompute_aggregates`` does), and against the questions' statistics counted
from the same facts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from django.db.models import Count, F, Max, Q, Sum

from apps.accounts.models import Profile, User
from apps.analytics import statements
from apps.analytics.caching import LEARNER_VERSION, learner_version
from apps.analytics.models import AnswerFact, CategoryProgress, DailyActivity, LearnerState
from apps.analytics.selectors import PROGRESS, WEEKLY_STUDY
from apps.analytics.services import lock_learners, recompute_aggregates, record_heartbeat
from apps.analytics.services.recording import _Fact, _fact_params, _facts
from apps.core import sql
from apps.questions.learning import AnsweredQuestion
from apps.questions.models import Question
from apps.taxonomy.models import Category
from tests.accounts.factories import UserFactory
from tests.analytics.helpers import answer, next_session_id, publish, set_timezone
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # the 10th in UTC, the 11th in Tokyo


# --- what the ORM says the aggregates are -------------------------------------------------------


def _days_from_facts(user_ids: Sequence[int]) -> dict[tuple[int, date], tuple[int, int, int]]:
    rows = (
        AnswerFact.objects.filter(user_id__in=user_ids)
        .values("user_id", "local_date")
        .annotate(
            n=Count("id"), ok=Count("id", filter=Q(is_correct=True)), t=Sum("counted_time_sec")
        )
    )
    return {(r["user_id"], r["local_date"]): (r["n"], r["ok"], r["t"]) for r in rows}


def _days_stored(user_ids: Sequence[int]) -> dict[tuple[int, date], tuple[int, int, int]]:
    rows = DailyActivity.objects.filter(user_id__in=user_ids)
    return {(r.user_id, r.date): (r.answered, r.correct, r.time_spent_sec) for r in rows}


def _categories_from_facts(
    user_ids: Sequence[int],
) -> dict[tuple[int, int], tuple[int, int, datetime]]:
    rows = (
        AnswerFact.objects.filter(user_id__in=user_ids)
        .values("user_id", "category_id")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(is_correct=True)), last=Max("answered_at"))
    )
    return {(r["user_id"], r["category_id"]): (r["n"], r["ok"], r["last"]) for r in rows}


def _categories_stored(user_ids: Sequence[int]) -> dict[tuple[int, int], tuple[int, int, datetime]]:
    rows = CategoryProgress.objects.filter(user_id__in=user_ids)
    return {(r.user_id, r.category_id): (r.answered, r.correct, r.last_practiced_at) for r in rows}


def _question_stats_from_facts(question_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    rows = (
        AnswerFact.objects.filter(question_id__in=question_ids)
        .values("question_id")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(is_correct=True)))
    )
    counted = {r["question_id"]: (r["n"], r["ok"]) for r in rows}
    return {qid: counted.get(qid, (0, 0)) for qid in question_ids}


def _question_stats_stored(question_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    rows = Question.objects.filter(id__in=question_ids).values_list(
        "id", "times_answered", "times_correct"
    )
    return {qid: (answered, correct) for qid, answered, correct in rows}


def _assert_aggregates_are_the_facts(
    user_ids: Sequence[int], questions: Sequence[Question]
) -> None:
    assert _days_stored(user_ids) == _days_from_facts(user_ids)
    assert _categories_stored(user_ids) == _categories_from_facts(user_ids)
    ids = [q.pk for q in questions]
    assert _question_stats_stored(ids) == _question_stats_from_facts(ids)
    # And the service that rebuilds them with the ORM finds nothing to change.
    assert recompute_aggregates(user_ids=list(user_ids)).changed == 0


# --- data ---------------------------------------------------------------------------------------


def _answers(
    users: Sequence[User], questions: Sequence[Question], *, session: int | None = None
) -> list[AnsweredQuestion]:
    """Every user answers every question, over two days, right and wrong, with times above
    the cap too."""
    sid = session if session is not None else next_session_id()
    return [
        answer(
            u,
            q,
            correct=(i + j) % 3 != 0,
            at=T0 + timedelta(hours=2 * i, minutes=j),
            seconds=[30, 5000, 0][i % 3],
            session_id=sid,
        )
        for j, u in enumerate(users)
        for i, q in enumerate(questions)
    ]


def _run(statement: str, params: dict[str, Any], into: type[Any]) -> Any:
    row = sql.fetch_one(statement, params, into=into)
    assert row is not None
    return row


def _locked(answers: Sequence[AnsweredQuestion]) -> list[_Fact]:
    zones = lock_learners(user_ids=[a.user_id for a in answers])
    return list(_facts(answers, zones).values())


# --- LOCK_LEARNERS ------------------------------------------------------------------------------


def test_lock_learners_creates_moves_forward_and_reads_the_profiles_timezones(
    user: User, other_user: User
) -> None:
    set_timezone(user, "Asia/Tokyo")
    Profile.objects.filter(user=other_user).delete()
    ids = sorted([user.pk, other_user.pk])
    rows = sql.fetch_all(
        statements.LOCK_LEARNERS,
        {"learner_ids": ids, "now": T0},
        into=statements.LearnerZone,
    )
    sql.fetch_all(
        statements.LOCK_LEARNERS, {"learner_ids": ids, "now": T0}, into=statements.LearnerZone
    )

    profiles = dict(Profile.objects.filter(user_id__in=ids).values_list("user_id", "timezone"))
    assert {r.user_id: r.timezone for r in rows} == {uid: profiles.get(uid) for uid in ids}
    states = LearnerState.objects.filter(user_id__in=ids).values_list(
        "user_id", "version", "touched_at"
    )
    assert sorted(states) == [(uid, 2, T0) for uid in ids]


# --- RECORD_ONE / RECORD_MANY -------------------------------------------------------------------


def test_record_one_is_the_orm_rebuild_of_the_facts(user: User, categories: list[Category]) -> None:
    set_timezone(user, "Asia/Tokyo")
    questions = [make_question(categories[i % 3]) for i in range(4)]
    recorded = 0
    for a in _answers([user], questions):
        (fact,) = _locked([a])
        recorded += _run(statements.RECORD_ONE, _fact_params([fact]), statements.Recorded).recorded
    # Recording the same fact again adds nothing.
    again = _run(statements.RECORD_ONE, _fact_params([fact]), statements.Recorded)

    assert (recorded, again.recorded) == (4, 0)
    assert AnswerFact.objects.filter(user=user).count() == 4
    _assert_aggregates_are_the_facts([user.pk], questions)


def test_record_many_is_the_orm_rebuild_of_the_facts(
    user: User, other_user: User, categories: list[Category]
) -> None:
    set_timezone(user, "Asia/Tokyo")
    questions = [make_question(categories[i % 3]) for i in range(6)]
    session = next_session_id()
    first = _answers([user, other_user], questions[:4], session=session)
    facts = _locked(first)
    row = _run(statements.RECORD_MANY, _fact_params(facts), statements.Recorded)
    # A second batch overlapping the first: only the new facts count.
    second = _answers([user, other_user], questions, session=session)
    again = _run(statements.RECORD_MANY, _fact_params(_locked(second)), statements.Recorded)

    assert (row.recorded, again.recorded) == (8, 4)
    fact_rows = AnswerFact.objects.filter(user_id__in=[user.pk, other_user.pk])
    assert fact_rows.count() == 12
    # Each fact holds what was answered, dated in the learner's timezone.
    stored = {
        (f.user_id, f.question_id): (
            f.is_correct,
            f.time_spent_sec,
            f.counted_time_sec,
            f.local_date,
        )
        for f in fact_rows
    }
    expected = {
        (f.user_id, f.question_id): (
            f.is_correct,
            f.time_spent_sec,
            f.counted_time_sec,
            f.local_date,
        )
        for f in _locked(second)
    }
    assert stored == expected
    _assert_aggregates_are_the_facts([user.pk, other_user.pk], questions)


# --- LOCK_AND_RECORD_ONE / LOCK_AND_RECORD_MANY -------------------------------------------------


def _lock_and_record_params(facts: list[_Fact], zones: dict[int, str | None]) -> dict[str, Any]:
    params = _fact_params(facts)
    params["now"] = T0
    ids = sorted(zones)
    if len(facts) == 1:
        params["zone"] = zones[ids[0]]
    else:
        params["learner_ids"] = ids
        params["zones"] = [zones[uid] for uid in ids]
    return params


def test_lock_and_record_one_is_the_orm_rebuild_of_the_facts(
    user: User, categories: list[Category]
) -> None:
    set_timezone(user, "Asia/Tokyo")
    questions = [make_question(categories[i % 3]) for i in range(3)]
    zones = {user.pk: "Asia/Tokyo"}
    recorded = 0
    for a in _answers([user], questions):
        (fact,) = _facts([a], zones).values()
        row = _run(
            statements.LOCK_AND_RECORD_ONE,
            _lock_and_record_params([fact], zones),
            statements.LockedAndRecorded,
        )
        assert row.wrong_guesses == 0
        recorded += row.recorded

    assert recorded == 3
    assert learner_version(user.pk) == "3"  # locked (and moved forward) once per statement
    _assert_aggregates_are_the_facts([user.pk], questions)


def test_lock_and_record_many_is_the_orm_rebuild_of_the_facts(
    user: User, other_user: User, categories: list[Category]
) -> None:
    set_timezone(user, "Asia/Tokyo")
    Profile.objects.filter(user=other_user).delete()  # no profile: the guess is None
    questions = [make_question(categories[i % 3]) for i in range(5)]
    zones: dict[int, str | None] = {user.pk: "Asia/Tokyo", other_user.pk: None}
    facts = list(_facts(_answers([user, other_user], questions), zones).values())
    row = _run(
        statements.LOCK_AND_RECORD_MANY,
        _lock_and_record_params(facts, zones),
        statements.LockedAndRecorded,
    )

    assert (row.wrong_guesses, row.recorded) == (0, 10)
    _assert_aggregates_are_the_facts([user.pk, other_user.pk], questions)


@pytest.mark.parametrize("batch", [1, 4])
def test_lock_and_record_writes_nothing_on_a_wrong_timezone_guess(
    batch: int, user: User, categories: list[Category]
) -> None:
    set_timezone(user, "Asia/Tokyo")
    questions = [make_question(categories[0]) for _ in range(batch)]
    zones: dict[int, str | None] = {user.pk: "Europe/London"}  # not the profile's
    facts = list(_facts(_answers([user], questions), zones).values())
    row = _run(
        (statements.LOCK_AND_RECORD_ONE if batch == 1 else statements.LOCK_AND_RECORD_MANY),
        _lock_and_record_params(facts, zones),
        statements.LockedAndRecorded,
    )

    assert (row.wrong_guesses, row.recorded) == (1, 0)
    assert not AnswerFact.objects.filter(user=user).exists()
    assert not DailyActivity.objects.filter(user=user).exists()
    assert not CategoryProgress.objects.filter(user=user).exists()
    assert _question_stats_stored([q.pk for q in questions]) == {q.pk: (0, 0) for q in questions}
    assert learner_version(user.pk) == "1"  # the learner was locked all the same


# --- compiled querysets -------------------------------------------------------------------------


def test_learner_version_is_its_queryset(user: User, other_user: User) -> None:
    lock_learners(user_ids=[user.pk])
    lock_learners(user_ids=[user.pk])
    for who in (user, other_user):  # other_user has no state row
        assert LEARNER_VERSION.fetch(user_id=who.pk) == list(
            LearnerState.objects.filter(user_id=who.pk).values("version")
        )
    assert (learner_version(user.pk), learner_version(other_user.pk)) == ("2", "0")


def test_progress_is_its_queryset(user: User, other_user: User, categories: list[Category]) -> None:
    questions = [make_question(c) for c in categories]
    publish(*_answers([user, other_user], questions))
    publish(*_answers([user], questions[:1]))
    for who in (user, other_user):
        key = "category_id"
        compiled = sorted(PROGRESS.fetch(user_id=who.pk), key=lambda r: r[key])
        orm = sorted(PROGRESS.queryset(user_id=who.pk), key=lambda r: r[key])
        assert compiled == orm
        assert compiled == list(
            CategoryProgress.objects.filter(user=who)
            .order_by("category_id")
            .values("category_id", "answered", "correct", "last_practiced_at")
        )
        assert all(r["last_practiced_at"].tzinfo is not None for r in compiled)


def test_weekly_study_is_its_queryset(
    user: User, other_user: User, categories: list[Category]
) -> None:
    question = make_question(categories[0])
    for days in range(0, 20, 2):  # answers and reading on every other day for three weeks
        at = T0 - timedelta(days=days)
        publish(answer(user, question, at=at, seconds=45))
        record_heartbeat(user_id=user.pk, seconds=60, now=at + timedelta(seconds=70 + days))
    split = date(2026, 3, 9)  # a Monday
    first, end = split - timedelta(weeks=1), split + timedelta(weeks=1)

    for who in (user, other_user):  # other_user has no day at all: no row
        values = {"user_id": who.pk, "first": first, "split": split, "end": end}
        compiled = WEEKLY_STUDY.fetch(**values)
        assert compiled == list(WEEKLY_STUDY.queryset(**values))
        in_range = DailyActivity.objects.filter(user=who, date__gte=first, date__lt=end)
        study = F("time_spent_sec") + F("reading_sec")
        totals = in_range.aggregate(
            before=Sum(study, filter=Q(date__lt=split)), since=Sum(study, filter=Q(date__gte=split))
        )
        assert compiled == ([totals] if in_range.exists() else [])


def test_weekly_study_ignores_other_learners_and_days_outside(
    user: User, other_user: User, categories: list[Category]
) -> None:
    question = make_question(categories[0])
    publish(answer(other_user, question, at=T0, seconds=45))
    publish(answer(user, question, at=datetime(2026, 1, 5, 12, tzinfo=UTC), seconds=45))
    values = {"first": date(2026, 3, 2), "split": date(2026, 3, 9), "end": date(2026, 3, 16)}
    assert WEEKLY_STUDY.fetch(user_id=user.pk, **values) == []
    assert WEEKLY_STUDY.fetch(user_id=other_user.pk, **values) == [{"before": None, "since": 45}]


def test_a_new_learner_without_a_profile_locks_with_no_timezone(db: Any) -> None:
    learner = UserFactory()
    Profile.objects.filter(user=learner).delete()
    assert lock_learners(user_ids=[learner.pk]) == {learner.pk: None}
