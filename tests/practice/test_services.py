"""Practice services: the seeded draw, the modes, grading, concurrency and the learning port."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib import admin
from django.contrib.messages.storage.fallback import FallbackStorage
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.practice import selectors, services
from apps.practice.exceptions import AlreadyAnswered, NoQuestionsAvailable, SessionNotFound
from apps.practice.models import (
    PracticeAttempt,
    PracticeMode,
    PracticeSession,
    QuestionFlag,
    QuestionReport,
    ReportStatus,
    ReviewCard,
)
from apps.questions.learning import AnsweredQuestion, answer_recorder
from apps.questions.models import AnswerOption
from tests.accounts.factories import UserFactory
from tests.practice.conftest import Bank, answer, start_session, wrong_ids
from tests.questions.factories import QuestionFactory, make_question
from tests.taxonomy.factories import CategoryFactory

# --- The seeded draw -----------------------------------------------------------------------


def test_draw_is_reproducible_for_a_seed() -> None:
    pool = list(range(1, 200, 3))
    first = services.draw_question_ids(pool=pool, count=10, seed=12345)
    assert len(first) == 10
    assert len(set(first)) == 10
    assert set(first) <= set(pool)
    assert services.draw_question_ids(pool=pool, count=10, seed=12345) == first
    # The pool's order does not matter, only its contents.
    assert services.draw_question_ids(pool=list(reversed(pool)), count=10, seed=12345) == first
    assert services.draw_question_ids(pool=pool, count=10, seed=54321) != first


def test_draw_takes_everything_when_the_pool_is_small() -> None:
    drawn = services.draw_question_ids(pool=[5, 3, 9], count=10, seed=1)
    assert sorted(drawn) == [3, 5, 9]


@pytest.mark.django_db
def test_session_stores_its_seed_and_reproduces_the_draw(user: User, bank: Bank) -> None:
    one = start_session(user, count=5, seed=777)
    two = start_session(user, count=5, seed=777)
    assert one.seed == two.seed == 777
    assert one.question_ids == two.question_ids
    pool = selectors.practice_pool(user_id=user.pk)
    assert services.draw_question_ids(pool=pool, count=5, seed=one.seed) == one.question_ids
    random_one = start_session(user, count=5)
    assert isinstance(random_one.seed, int)
    assert 0 <= random_one.seed < 2**63


@pytest.mark.django_db
def test_session_records_an_audit_event(user: User, bank: Bank) -> None:
    session = start_session(user, count=2)
    services.complete_practice_session(user=user, session_id=session.pk)
    actions = set(
        AuditEvent.objects.filter(target_id=str(session.pk)).values_list("action", flat=True)
    )
    assert actions == {"practice.session_created", "practice.session_completed"}


# --- Modes ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_unanswered_mode_skips_anything_answered_before(user: User, bank: Bank) -> None:
    first = start_session(user, count=4, category_slugs=["physiology"], seed=1)
    answer(user, first, first.question_ids[0], right=True)
    answer(user, first, first.question_ids[1], right=False)
    later = start_session(
        user, count=10, category_slugs=["physiology"], mode=PracticeMode.UNANSWERED
    )
    assert sorted(later.question_ids) == sorted(first.question_ids[2:])
    # Another user's answers do not count.
    other = UserFactory()
    fresh = start_session(
        other, count=10, category_slugs=["physiology"], mode=PracticeMode.UNANSWERED
    )
    assert len(fresh.question_ids) == 4


@pytest.mark.django_db
def test_incorrect_mode_uses_the_latest_answer(user: User, bank: Bank) -> None:
    a, b, c, d = (q.pk for q in bank.physiology_questions)
    with time_machine.travel(timezone.now() - timedelta(days=2), tick=False):
        s1 = start_session(user, count=4, category_slugs=["physiology"])
        answer(user, s1, a, right=False)  # later right: not selected
        answer(user, s1, b, right=True)  # later wrong: selected
        answer(user, s1, c, right=False)  # only wrong: selected
    s2 = start_session(user, count=4, category_slugs=["physiology"])
    answer(user, s2, a, right=True)
    answer(user, s2, b, right=False)
    drawn = start_session(user, count=10, mode=PracticeMode.INCORRECT)
    assert sorted(drawn.question_ids) == sorted([b, c])
    assert d not in drawn.question_ids
    assert selectors.last_answered_wrong_question_ids(user_id=user.pk) == {b, c}


@pytest.mark.django_db
def test_incorrect_mode_breaks_ties_by_attempt_order(user: User, bank: Bank) -> None:
    qid = bank.physiology_questions[0].pk
    with time_machine.travel(timezone.now(), tick=False):
        s1 = start_session(user, count=4, category_slugs=["physiology"])
        s2 = start_session(user, count=4, category_slugs=["physiology"])
        answer(user, s1, qid, right=False)
        answer(user, s2, qid, right=True)
    assert selectors.last_answered_wrong_question_ids(user_id=user.pk) == set()


@pytest.mark.django_db
def test_flagged_mode_and_selector(user: User, other_user: User, bank: Bank) -> None:
    flagged = [bank.anatomy_questions[2].pk, bank.physiology_questions[3].pk]
    for qid in flagged:
        services.set_question_flag(user=user, question_id=qid)
    services.set_question_flag(user=user, question_id=bank.anatomy_questions[0].pk, note="n")
    services.set_question_flag(
        user=user, question_id=bank.anatomy_questions[1].pk, is_flagged=False
    )
    services.set_question_flag(user=other_user, question_id=bank.anatomy_questions[5].pk)
    assert selectors.flagged_question_ids(user_id=user.pk) == sorted(
        [*flagged, bank.anatomy_questions[0].pk]
    )
    session = start_session(
        user, count=10, category_slugs=["physiology"], mode=PracticeMode.FLAGGED
    )
    assert session.question_ids == [bank.physiology_questions[3].pk]


@pytest.mark.django_db
def test_mode_with_nothing_left_is_no_questions(user: User, bank: Bank) -> None:
    with pytest.raises(NoQuestionsAvailable):
        start_session(user, mode=PracticeMode.INCORRECT)
    assert PracticeSession.objects.count() == 0


# --- Grading (property) --------------------------------------------------------------------


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_grading_is_exact_set_equality(user: User, data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["single", "multi"]))
    n = data.draw(st.integers(min_value=2, max_value=6))
    if kind == "single":
        correct_positions = {data.draw(st.integers(min_value=0, max_value=n - 1))}
        selected_positions = {data.draw(st.integers(min_value=0, max_value=n - 1))}
    else:
        positions = st.sets(st.integers(min_value=0, max_value=n - 1), min_size=1)
        correct_positions = data.draw(positions)
        selected_positions = data.draw(positions)
    question = QuestionFactory(
        type=kind, options=[(f"opt {i}", i in correct_positions) for i in range(n)]
    )
    option_ids = list(
        AnswerOption.objects.filter(question=question)
        .order_by("order")
        .values_list("id", flat=True)
    )
    selected = [option_ids[i] for i in selected_positions]
    key = sorted(option_ids[i] for i in correct_positions)
    session = services.create_practice_session(
        user=user, question_count=1, category_slugs=[question.category.slug]
    )
    feedback = services.record_practice_answer(
        user=user,
        session_id=session.pk,
        question_id=question.pk,
        selected_option_ids=data.draw(st.permutations(selected)),
        time_spent_sec=1,
    )
    assert feedback.is_correct == (set(selected) == set(key))
    assert feedback.correct_option_ids == key
    assert PracticeAttempt.objects.get(session=session).is_correct == feedback.is_correct


# --- The learning port ---------------------------------------------------------------------


@pytest.fixture
def published() -> Iterator[list[AnsweredQuestion]]:
    """Collects what reaches the learning record's port, in front of the real recorder."""
    received: list[AnsweredQuestion] = []
    real = answer_recorder.get()

    def recorder(*, answers: Any) -> object:
        received.extend(answers)
        return real(answers=answers)

    with answer_recorder.override(recorder):
        yield received


@pytest.mark.django_db
def test_answers_are_published_to_the_learning_record(
    user: User, bank: Bank, published: list[AnsweredQuestion], settings: Any
) -> None:
    settings.ANALYTICS_ANSWER_TIME_CAP_SEC = 600
    session = start_session(user, count=3, category_slugs=["physiology"])
    first, second = session.question_ids[:2]
    answer(user, session, first, right=True, seconds=30)
    answer(user, session, second, right=False, seconds=5_000)
    assert len(published) == 2
    one, two = published
    assert (one.user_id, one.question_id, one.category_id) == (user.pk, first, bank.physiology.pk)
    assert (one.is_correct, one.time_spent_sec, one.source, one.source_id) == (
        True,
        30,
        "practice",
        session.pk,
    )
    attempt = PracticeAttempt.objects.get(session=session, question_id=first)
    assert one.answered_at == attempt.answered_at
    # The raw time goes to the learning record, which applies the same cap.
    assert (two.question_id, two.is_correct, two.time_spent_sec) == (second, False, 5_000)


@pytest.mark.django_db
def test_failing_receiver_rolls_the_answer_back(user: User, bank: Bank) -> None:
    session = start_session(user, count=2)

    def broken(*, answers: Any) -> None:
        raise RuntimeError("learning record unavailable")

    with answer_recorder.override(broken), pytest.raises(RuntimeError):
        answer(user, session, session.question_ids[0], right=True)
    session.refresh_from_db()
    assert (session.answered, session.correct) == (0, 0)
    assert not PracticeAttempt.objects.exists()


# --- Concurrency ---------------------------------------------------------------------------


def _run_together(workers: list[Callable[[], Any]]) -> list[Any]:
    """Starts every worker at the same moment in its own thread (and database connection)."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = work()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_to_one_session_lose_nothing(user: User, bank: Bank) -> None:
    session = start_session(user, count=8)
    workers = [
        (lambda qid=qid: answer(user, session, qid, right=qid % 2 == 0, seconds=7))
        for qid in session.question_ids
    ]
    results = _run_together(workers)
    assert all(isinstance(r, services.AnswerFeedback) for r in results), results
    session.refresh_from_db()
    expected_correct = sum(1 for qid in session.question_ids if qid % 2 == 0)
    assert session.answered == 8
    assert session.correct == expected_correct
    assert session.time_spent_sec == 56
    assert PracticeAttempt.objects.filter(session=session).count() == 8
    answered_categories = set(
        PracticeAttempt.objects.filter(session=session).values_list("category_id", flat=True)
    )
    assert sorted(session.category_ids) == sorted(answered_categories)


@pytest.mark.django_db(transaction=True)
def test_concurrent_answers_to_one_question_record_it_once(user: User, bank: Bank) -> None:
    session = start_session(user, count=3)
    qid = session.question_ids[0]
    results = _run_together([lambda: answer(user, session, qid, right=True) for _ in range(6)])
    successes = [r for r in results if isinstance(r, services.AnswerFeedback)]
    conflicts = [r for r in results if isinstance(r, AlreadyAnswered)]
    assert (len(successes), len(conflicts)) == (1, 5), results
    session.refresh_from_db()
    assert (session.answered, session.correct) == (1, 1)
    assert PracticeAttempt.objects.filter(session=session).count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_first_answers_to_one_question_in_two_sessions_both_review_the_card(
    user: User, bank: Bank
) -> None:
    qid = bank.anatomy_questions[0].pk
    sessions = [start_session(user, count=1) for _ in range(2)]
    for session in sessions:
        session.question_ids = [qid]
        session.save(update_fields=["question_ids"])
    results = _run_together([(lambda s=s: answer(user, s, qid, right=False)) for s in sessions])
    assert all(isinstance(r, services.AnswerFeedback) for r in results), results
    card = ReviewCard.objects.get(user=user, question_id=qid)
    assert card.reps == 2
    assert PracticeAttempt.objects.filter(question_id=qid).count() == 2


# --- Completing ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_complete_is_idempotent(user: User, bank: Bank) -> None:
    session = start_session(user, count=3)
    answer(user, session, session.question_ids[0], right=True)
    done = services.complete_practice_session(user=user, session_id=session.pk)
    assert done.completed_at is not None
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        again = services.complete_practice_session(user=user, session_id=session.pk)
    assert again.completed_at == done.completed_at
    assert AuditEvent.objects.filter(action="practice.session_completed").count() == 1


@pytest.mark.django_db
def test_complete_someone_elses_session_is_not_found(
    user: User, other_user: User, bank: Bank
) -> None:
    session = start_session(user, count=1)
    with pytest.raises(SessionNotFound):
        services.complete_practice_session(user=other_user, session_id=session.pk)
    session.refresh_from_db()
    assert session.completed_at is None


@pytest.mark.django_db
def test_session_summary_per_category(user: User, bank: Bank) -> None:
    session = start_session(user, count=10)
    physiology = {q.pk for q in bank.physiology_questions}
    answered_physiology = [qid for qid in session.question_ids if qid in physiology][:3]
    for i, qid in enumerate(answered_physiology):
        answer(user, session, qid, right=i == 0, seconds=10)
    summary = selectors.session_summary(session=PracticeSession.objects.get(pk=session.pk))
    assert (summary["answered"], summary["correct"], summary["incorrect"]) == (3, 1, 2)
    assert (summary["unanswered"], summary["score_percent"], summary["time_spent_sec"]) == (
        7,
        33,
        30,
    )
    assert summary["categories"] == [
        {
            "category": "Anatomy & Embryology",
            "category_slug": "anatomy-embryology",
            "question_count": 6,
            "answered": 0,
            "correct": 0,
            "score_percent": None,
        },
        {
            "category": "Physiology",
            "category_slug": "physiology",
            "question_count": 4,
            "answered": 3,
            "correct": 1,
            "score_percent": 33,
        },
    ]


# --- Selectors for the apps above ----------------------------------------------------------


@pytest.mark.django_db
def test_last_practice_summary(user: User, bank: Bank, django_assert_max_num_queries: Any) -> None:
    assert selectors.last_practice_summary(user_id=user.pk) is None
    start = timezone.now() - timedelta(days=3)
    with time_machine.travel(start, tick=False):
        older = start_session(user, count=10)
        for qid in older.question_ids[:4]:
            answer(user, older, qid, right=True)
    with time_machine.travel(start + timedelta(days=1), tick=False):
        newer = start_session(user, count=4, category_slugs=["physiology"])
        for i, qid in enumerate(newer.question_ids[:3]):
            answer(user, newer, qid, right=i < 2)
    # A session started later but never answered is not "the last practice".
    with time_machine.travel(start + timedelta(days=2), tick=False):
        start_session(user, count=2)

    with django_assert_max_num_queries(2):
        last = selectors.last_practice_summary(user_id=user.pk)
    assert last == {
        "at": start + timedelta(days=1),
        "session_id": newer.pk,
        "score_percent": 67,
        "correct": 2,
        "incorrect": 1,
        "categories": ["Physiology"],
    }

    # Answering the older session again makes it the most recent.
    with time_machine.travel(start + timedelta(days=2, hours=1), tick=False):
        answer(user, older, older.question_ids[4], right=False)
    last = selectors.last_practice_summary(user_id=user.pk)
    assert last is not None
    assert last["session_id"] == older.pk
    assert last["at"] == start + timedelta(days=2, hours=1)
    assert (last["correct"], last["incorrect"], last["score_percent"]) == (4, 1, 80)
    answered_categories = set(
        PracticeAttempt.objects.filter(session=older).values_list("category__name", flat=True)
    )
    assert set(last["categories"]) == answered_categories

    # Completion counts as activity too.
    with time_machine.travel(start + timedelta(days=2, hours=2), tick=False):
        services.complete_practice_session(user=user, session_id=newer.pk)
    last = selectors.last_practice_summary(user_id=user.pk)
    assert last is not None
    assert last["session_id"] == newer.pk
    assert selectors.last_practice_summary(user_id=UserFactory().pk) is None


@pytest.mark.django_db
def test_category_names_follow_the_syllabus_order(user: User, bank: Bank) -> None:
    session = start_session(user, count=10)
    for qid in session.question_ids:
        answer(user, session, qid, right=True)
    last = selectors.last_practice_summary(user_id=user.pk)
    assert last is not None
    assert last["categories"] == ["Anatomy & Embryology", "Physiology"]


def test_score_percent_rounds_half_up() -> None:
    assert selectors.score_percent(correct=0, answered=0) is None
    assert selectors.score_percent(correct=1, answered=8) == 13  # 12.5
    assert selectors.score_percent(correct=2, answered=3) == 67
    assert selectors.score_percent(correct=1, answered=3) == 33
    assert selectors.score_percent(correct=5, answered=5) == 100


# --- Flags and reports ---------------------------------------------------------------------


@pytest.mark.django_db
def test_flag_upsert_keeps_omitted_values(user: User, bank: Bank) -> None:
    qid = bank.anatomy_questions[0].pk
    flag, created = services.set_question_flag(user=user, question_id=qid, note="  note ")
    assert created
    assert (flag.is_flagged, flag.note) == (True, "note")
    flag, created = services.set_question_flag(user=user, question_id=qid, is_flagged=False)
    assert not created
    assert (flag.is_flagged, flag.note) == (False, "note")
    flag, _ = services.set_question_flag(user=user, question_id=qid, note="")
    assert (flag.is_flagged, flag.note) == (False, "")
    assert QuestionFlag.objects.count() == 1


@pytest.mark.django_db
def test_resolving_reports_from_the_admin(user: User, admin_user: User, bank: Bank) -> None:
    reports = [
        services.report_question(user=user, question_id=q.pk, reason="typo", message="teh")
        for q in bank.anatomy_questions[:3]
    ]
    model_admin = admin.site._registry[QuestionReport]
    request = RequestFactory().post("/admin/practice/questionreport/")
    request.user = admin_user
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)
    chosen = QuestionReport.objects.filter(pk__in=[reports[0].pk, reports[1].pk])
    model_admin.mark_resolved(request, chosen)

    statuses = dict(QuestionReport.objects.values_list("pk", "status"))
    assert statuses == {
        reports[0].pk: ReportStatus.RESOLVED,
        reports[1].pk: ReportStatus.RESOLVED,
        reports[2].pk: ReportStatus.OPEN,
    }
    resolved = QuestionReport.objects.get(pk=reports[0].pk)
    assert resolved.resolved_by == admin_user
    assert resolved.resolved_at is not None
    assert AuditEvent.objects.filter(action="practice.report_resolved").count() == 2
    # A resolved report no longer blocks a new one on the same question.
    services.report_question(
        user=user, question_id=bank.anatomy_questions[0].pk, reason="other", message="still wrong"
    )

    model_admin.reopen(request, QuestionReport.objects.filter(pk=reports[1].pk))
    assert QuestionReport.objects.get(pk=reports[1].pk).status == ReportStatus.OPEN


@pytest.mark.django_db
def test_admin_is_read_only_for_candidate_data(admin_user: User) -> None:
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    for model in (PracticeSession, PracticeAttempt, QuestionFlag):
        model_admin = admin.site._registry[model]
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
    assert "note" not in admin.site._registry[QuestionFlag].get_fields(request)
    report_admin = admin.site._registry[QuestionReport]
    assert {"status", "reason"} <= set(report_admin.list_filter)


@pytest.mark.django_db
def test_report_of_an_unknown_question_is_refused(user: User) -> None:
    from apps.core.exceptions import ValidationFailed

    category = CategoryFactory()
    draft = make_question(category, status="draft")
    with pytest.raises(ValidationFailed):
        services.report_question(user=user, question_id=draft.pk, reason="typo")
    assert QuestionReport.objects.count() == 0


@pytest.mark.django_db
def test_personal_data_holds_only_the_users_own(user: User, other_user: User, bank: Bank) -> None:
    session = start_session(user, count=2)
    answer(user, session, session.question_ids[0], right=True, seconds=12)
    services.set_question_flag(user=user, question_id=session.question_ids[1], note="mine")
    services.report_question(user=user, question_id=session.question_ids[1], reason="typo")
    theirs = start_session(other_user, count=1)
    answer(other_user, theirs, theirs.question_ids[0], right=False)
    services.set_question_flag(user=other_user, question_id=session.question_ids[0], note="x")

    data = selectors.personal_data(user_id=user.pk)
    assert [s["id"] for s in data["practice_sessions"]] == [session.pk]
    (attempt,) = data["practice_sessions"][0]["attempts"]
    assert (attempt["question_id"], attempt["is_correct"], attempt["time_spent_sec"]) == (
        session.question_ids[0],
        True,
        12,
    )
    assert [(f["question_id"], f["note"]) for f in data["question_flags"]] == [
        (session.question_ids[1], "mine")
    ]
    assert [r["reason"] for r in data["question_reports"]] == ["typo"]


def test_an_answer_costs_a_fixed_number_of_statements_and_no_inner_savepoints(
    user: User, bank: Bank
) -> None:
    """Lock the session and read the question (with whether it is already answered), its
    options and the review card; write the attempt, the session's counters and the card; lock
    the learner and write the fact, the day, the category and the question statistics (one
    statement once the process knows the learner's timezone, as after the first answer here):
    three statements, inside the one transaction of the call."""
    session = start_session(user, count=2)
    first, second = session.question_ids
    answer(user, session, first, right=True)
    selected = wrong_ids(second)
    with CaptureQueriesContext(connection) as ctx:
        services.record_practice_answer(
            user=user, session_id=session.pk, question_id=second, selected_option_ids=selected
        )
    statements = [q["sql"] for q in ctx.captured_queries]
    # The test runs inside a transaction, so the call's own atomic block is one savepoint.
    savepoints = [s for s in statements if "SAVEPOINT" in s]
    assert len(savepoints) == 2  # SAVEPOINT and RELEASE of the call's atomic block only
    assert len(statements) - len(savepoints) == 3
    assert PracticeAttempt.objects.filter(session=session).count() == 2
