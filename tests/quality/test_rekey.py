"""Re-keying a question regrades every answer graded on the old key, exactly once: practice
attempts and their sessions' counters, submitted exams and their stored results, the learning
record and its aggregates, the question's statistics; audited, and the candidates whose grade
changed are told (each only about their own answers)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.analytics.models import AnswerFact, CategoryProgress, DailyActivity
from apps.analytics.services import recompute_aggregates
from apps.audit.models import AuditEvent
from apps.exams.models import ExamAnswer, ExamSession, SessionStatus
from apps.exams.services import (
    AnswerInput,
    save_exam_answers,
    start_exam_session,
    submit_exam_session,
)
from apps.notifications.models import Notification
from apps.practice.models import PracticeAttempt, PracticeSession
from apps.practice.services import create_practice_session, record_practice_answer
from apps.quality.models import RekeyRun, RekeyStatus
from apps.quality.services.regrade import finish_rekey_run, rekey_and_regrade
from apps.questions.models import AnswerOption, Question
from apps.taxonomy.models import Category
from tests.accounts.factories import UserFactory
from tests.exams.factories import fixed_template
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def rekey_url(question_id: int) -> str:
    return f"/api/v1/staff/questions/{question_id}/rekey"


def options_of(question: Question) -> list[int]:
    """Option ids in display order: [A, B, C, D, E]; A is the factory's key."""
    return list(
        AnswerOption.objects.filter(question=question)
        .order_by("order", "id")
        .values_list("id", flat=True)
    )


@dataclass
class World:
    """One question ``q`` keyed A that should have been B, answered in practice and in exams.

    Practice: ``right_to_wrong`` chose A, ``wrong_to_right`` chose B, ``wrong_stays`` chose C.
    Exams (q, q2, q3 fixed paper): ``exam_up`` chose B on q (1/3 -> 2/3), ``exam_down`` chose A
    (3/3 -> 2/3), ``exam_open`` chose B and has not submitted."""

    category: Category
    q: Question
    q2: Question
    q3: Question
    opts: list[int]
    right_to_wrong: User
    wrong_to_right: User
    wrong_stays: User
    exam_up: User
    exam_down: User
    exam_open: User
    practice_sessions: dict[int, int]  # user id -> practice session id
    exam_sessions: dict[int, int]  # user id -> exam session id


def practise(user: User, question: Question, option: int, category: Category) -> int:
    session = create_practice_session(
        user=user, question_count=10, category_slugs=[category.slug], include_explanations=True
    )
    record_practice_answer(
        user=user, session_id=session.id, question_id=question.id, selected_option_ids=[option]
    )
    return session.id


def sit(user: User, template_id: int, choices: dict[int, int], *, submit: bool = True) -> int:
    session = start_exam_session(user=user, template_id=template_id).session
    save_exam_answers(
        user=user,
        session_id=session.id,
        answers=[AnswerInput(question_id=q, selected_option_ids=[o]) for q, o in choices.items()],
    )
    if submit:
        submit_exam_session(session_id=session.id, user=user)
    return session.id


def build_world() -> World:
    category, other = CategoryFactory(), CategoryFactory()
    q = make_question(category=category)
    q2 = make_question(category=category)
    q3 = make_question(category=other)
    opts = options_of(q)
    key2, key3 = options_of(q2)[0], options_of(q3)[0]
    wrong3 = options_of(q3)[1]
    users = [UserFactory() for _ in range(6)]
    practice = {
        users[0].id: practise(users[0], q, opts[0], category),
        users[1].id: practise(users[1], q, opts[1], category),
        users[2].id: practise(users[2], q, opts[2], category),
    }
    template = fixed_template([q, q2, q3], shuffle_questions=False)
    exams = {
        users[3].id: sit(users[3], template.id, {q.id: opts[1], q2.id: key2, q3.id: wrong3}),
        users[4].id: sit(users[4], template.id, {q.id: opts[0], q2.id: key2, q3.id: key3}),
        users[5].id: sit(users[5], template.id, {q.id: opts[1]}, submit=False),
    }
    return World(category, q, q2, q3, opts, *users, practice_sessions=practice, exam_sessions=exams)


@pytest.fixture
def world(db: Any) -> World:
    return build_world()


def aggregates(user_ids: list[int]) -> tuple[list[Any], list[Any]]:
    days = list(
        DailyActivity.objects.filter(user_id__in=user_ids)
        .order_by("user_id", "date")
        .values_list("user_id", "date", "answered", "correct", "time_spent_sec")
    )
    progress = list(
        CategoryProgress.objects.filter(user_id__in=user_ids)
        .order_by("user_id", "category_id")
        .values_list("user_id", "category_id", "answered", "correct")
    )
    return days, progress


def test_rekey_regrades_practice_exams_and_the_learning_record(
    world: World, editor: User, editor_client: APIClient
) -> None:
    q = world.q
    old_version = Question.objects.get(pk=q.pk).version
    assert ExamSession.objects.get(pk=world.exam_sessions[world.exam_up.id]).score_percent == 33
    assert ExamSession.objects.get(pk=world.exam_sessions[world.exam_down.id]).score_percent == 100

    response = editor_client.post(
        rekey_url(q.id),
        {"correct_option_ids": [world.opts[1]], "reason": "Guideline changed in 2026."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    new_version = Question.objects.get(pk=q.pk).version
    assert new_version > old_version
    assert response.json() == {
        "version": new_version,
        "regraded": {"practice_attempts": 3, "exam_answers": 2, "exam_sessions": 2},
    }
    # Practice: each attempt graded on the new key and moved to the new version.
    attempts = {
        a.session.user_id: a
        for a in PracticeAttempt.objects.filter(question=q).select_related("session")
    }
    assert {uid: a.is_correct for uid, a in attempts.items()} == {
        world.right_to_wrong.id: False,
        world.wrong_to_right.id: True,
        world.wrong_stays.id: False,
    }
    assert {a.question_version for a in attempts.values()} == {new_version}
    for session in PracticeSession.objects.filter(id__in=world.practice_sessions.values()):
        assert session.correct == session.attempts.filter(is_correct=True).count()
    # Exams: the stored result is recomputed, per category too.
    up = ExamSession.objects.get(pk=world.exam_sessions[world.exam_up.id])
    down = ExamSession.objects.get(pk=world.exam_sessions[world.exam_down.id])
    up_result: dict[str, Any] = up.result or {}
    down_result: dict[str, Any] = down.result or {}
    assert (up.score_percent, up.correct, up_result["correct"]) == (67, 2, 2)
    assert (down.score_percent, down.correct, down_result["correct"]) == (67, 2, 2)
    assert (up_result["score_percent"], up_result["answered"], up_result["total"]) == (67, 3, 3)
    up_first = next(c for c in up_result["categories"] if c["category_id"] == world.category.id)
    assert (up_first["correct"], up_first["total"], up_first["score_percent"]) == (2, 2, 100)
    down_first = next(c for c in down_result["categories"] if c["category_id"] == world.category.id)
    assert (down_first["correct"], down_first["score_percent"]) == (1, 50)
    assert up.status == SessionStatus.SUBMITTED
    assert down.status == SessionStatus.SUBMITTED
    # The open exam is not graded yet: left alone, and graded on the new key when submitted.
    open_id = world.exam_sessions[world.exam_open.id]
    open_answer = ExamAnswer.objects.get(session_id=open_id, question=q)
    assert open_answer.is_correct is None
    assert open_answer.question_version is None
    submit_exam_session(session_id=open_id, user=world.exam_open)
    open_answer.refresh_from_db()
    assert open_answer.is_correct is True
    assert open_answer.question_version == new_version
    # The learning record: facts regraded, and aggregates equal a full rebuild.
    facts = AnswerFact.objects.filter(question_id=q.id)
    assert facts.filter(question_version=new_version).count() == facts.count() == 6
    assert facts.get(user=world.right_to_wrong).is_correct is False
    assert facts.get(user=world.wrong_to_right).is_correct is True
    assert facts.get(user=world.exam_down).is_correct is False
    everyone = [u.id for u in User.objects.all()]
    before = aggregates(everyone)
    assert recompute_aggregates().changed == 0
    assert aggregates(everyone) == before
    # Anonymous statistics: right answers counted with the new key.
    q.refresh_from_db()
    assert q.times_answered == 6
    assert q.times_correct == facts.filter(is_correct=True).count() == 3
    # The run, its audit event.
    run = RekeyRun.objects.get(question=q)
    assert (run.status, run.from_version, run.to_version) == ("done", old_version, new_version)
    assert (run.practice_attempts, run.exam_answers, run.exam_sessions) == (3, 2, 2)
    assert run.changed_grades == 4
    event = AuditEvent.objects.get(action="question.regrade", target_id=str(q.id))
    assert event.actor_id == editor.id
    assert event.after is not None
    assert event.after["practice_attempts"] == 3
    assert AuditEvent.objects.filter(action="question.rekey", target_id=str(q.id)).count() == 1


def test_candidates_whose_grade_changed_are_told_about_their_own_answers_only(
    world: World, editor: User
) -> None:
    rekey_and_regrade(
        question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="Typo in key", by=editor
    )
    told = {n.user_id: n for n in Notification.objects.all()}
    assert set(told) == {
        world.right_to_wrong.id,
        world.wrong_to_right.id,
        world.exam_up.id,
        world.exam_down.id,
    }
    assert "now marked wrong" in told[world.right_to_wrong.id].body
    assert "now marked correct" in told[world.wrong_to_right.id].body
    up_session = world.exam_sessions[world.exam_up.id]
    assert f"Mock exam #{up_session}: your score changed from 33% to 67%" in (
        told[world.exam_up.id].body
    )
    down_session = world.exam_sessions[world.exam_down.id]
    assert "from 100% to 67%" in told[world.exam_down.id].body
    for notification in told.values():
        assert f"question #{world.q.id}" in notification.body
        # Nobody else's session, name or address.
        others = [s for uid, s in world.exam_sessions.items() if uid != notification.user_id]
        assert not any(f"#{s}:" in notification.body for s in others)
        assert "@" not in notification.body
    assert str(down_session) not in told[world.exam_up.id].body


def test_the_same_rekey_twice_is_409_and_changes_nothing(
    world: World, editor_client: APIClient
) -> None:
    body = {"correct_option_ids": [world.opts[1]], "reason": "Wrong key."}
    assert editor_client.post(rekey_url(world.q.id), body, format="json").status_code == 200

    def state() -> Any:
        world.q.refresh_from_db()
        return (
            world.q.version,
            world.q.times_correct,
            sorted(PracticeAttempt.objects.values_list("id", "is_correct", "question_version")),
            sorted(ExamSession.objects.values_list("id", "score_percent", "result")),
            sorted(AnswerFact.objects.values_list("id", "is_correct", "question_version")),
            Notification.objects.count(),
            AuditEvent.objects.count(),
            list(RekeyRun.objects.values_list("id", "practice_attempts", "exam_answers")),
        )

    before = state()
    again = editor_client.post(rekey_url(world.q.id), body, format="json")
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"
    assert state() == before


def test_a_second_rekey_regrades_from_the_first_ones_version(world: World, editor: User) -> None:
    first = rekey_and_regrade(
        question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="B", by=editor
    )
    second = rekey_and_regrade(
        question_id=world.q.id, correct_option_ids=[world.opts[2]], reason="C after all", by=editor
    )
    assert second.version > first.version
    assert (second.practice_attempts, second.exam_answers) == (3, 2)
    attempts = {
        a.session.user_id: a.is_correct
        for a in PracticeAttempt.objects.filter(question=world.q).select_related("session")
    }
    assert attempts == {
        world.right_to_wrong.id: False,
        world.wrong_to_right.id: False,
        world.wrong_stays.id: True,
    }
    world.q.refresh_from_db()
    facts = AnswerFact.objects.filter(question_id=world.q.id)
    # (The open exam was never submitted: five facts.)
    assert world.q.times_correct == facts.filter(is_correct=True).count() == 1
    assert recompute_aggregates().changed == 0


def test_a_finished_run_is_not_regraded_again(world: World, editor: User) -> None:
    result = rekey_and_regrade(
        question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="B", by=editor
    )
    notified = Notification.objects.count()
    again = finish_rekey_run(run_id=result.run_id)
    assert again == result
    assert Notification.objects.count() == notified


def test_a_large_run_is_left_to_the_task_which_finishes_it_in_batches(
    world: World, editor: User, django_capture_on_commit_callbacks: Any
) -> None:
    """Over the synchronous limit the request only re-keys; the task (by name, eager here) does
    the regrade, one attempt per batch, each counted once."""
    from django.test import override_settings

    with override_settings(QUALITY_REKEY_PRACTICE_BATCH=1, QUALITY_REKEY_SYNC_LIMIT=0):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            result = rekey_and_regrade(
                question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="B", by=editor
            )
        assert (result.status, result.practice_attempts, result.exam_answers) == ("regrading", 0, 0)
        assert len(callbacks) == 1
        assert not Notification.objects.exists()
        with django_capture_on_commit_callbacks(execute=True):
            callbacks[0]()  # publishes quality.finish_rekey_run (eager: runs it)
    run = RekeyRun.objects.get(pk=result.run_id)
    assert run.status == RekeyStatus.DONE
    assert (run.practice_attempts, run.exam_answers, run.exam_sessions) == (3, 2, 2)
    assert Notification.objects.count() == 4
    assert finish_rekey_run(run_id=run.pk).practice_attempts == 3


def test_a_run_waits_for_transactions_older_than_the_new_key(world: World, editor: User) -> None:
    """While a transaction begun before the new key committed is still open, the run regrades
    what it can see but does not finish (that transaction may hold an answer graded on the old
    key); a later call finishes it. Here the open transaction is a side connection's."""
    from apps.quality.services import regrade
    from tests.side_connection import side_connection

    with side_connection() as side:
        side.autocommit = False
        side.execute("SELECT 1")  # a transaction is open from now on
        run = regrade._rekey(
            question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="B", by=editor
        )
        left = finish_rekey_run(run_id=run.pk, drain_timeout_sec=0.05)
        assert (left.status, left.practice_attempts, left.exam_answers) == ("regrading", 3, 2)
        assert not Notification.objects.exists()
        side.rollback()
        done = finish_rekey_run(run_id=run.pk)
    assert (done.status, done.practice_attempts, done.exam_answers) == ("done", 3, 2)
    assert Notification.objects.count() == 4


def test_a_rekey_is_refused_while_a_regrade_of_the_question_runs(
    world: World, editor: User
) -> None:
    from apps.core.exceptions import Conflict

    run = RekeyRun.objects.create(
        question=world.q,
        from_version=world.q.version,
        to_version=world.q.version + 1,
        status=RekeyStatus.REGRADING,
    )
    with pytest.raises(Conflict):
        rekey_and_regrade(
            question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="B", by=editor
        )
    run.delete()


# --- permissions and bad input ----------------------------------------------------------------


def test_candidates_get_403_and_anonymous_401(world: World, user_client: APIClient) -> None:
    body = {"correct_option_ids": [world.opts[1]], "reason": "x"}
    assert user_client.post(rekey_url(world.q.id), body, format="json").status_code == 403
    assert APIClient().post(rekey_url(world.q.id), body, format="json").status_code == 401
    assert not RekeyRun.objects.exists()


def test_admins_may_rekey(world: World, admin_client_api: APIClient) -> None:
    body = {"correct_option_ids": [world.opts[1]], "reason": "x"}
    assert admin_client_api.post(rekey_url(world.q.id), body, format="json").status_code == 200


def test_unknown_question_is_404(db: Any, editor_client: APIClient) -> None:
    body = {"correct_option_ids": [1], "reason": "x"}
    response = editor_client.post(rekey_url(987654), body, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "no key"},
        {"correct_option_ids": [], "reason": "empty"},
        {"correct_option_ids": ["x"], "reason": "not ids"},
        {"correct_option_ids": [1]},
        {"correct_option_ids": [1], "reason": ""},
        {"correct_option_ids": [1], "reason": "x", "regrade": False},
    ],
)
def test_bad_input_is_400_and_writes_nothing(
    world: World, editor_client: APIClient, body: dict[str, Any]
) -> None:
    version = world.q.version
    response = editor_client.post(rekey_url(world.q.id), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    world.q.refresh_from_db()
    assert world.q.version == version
    assert not RekeyRun.objects.exists()


def test_an_invalid_key_is_400_and_writes_nothing(world: World, editor_client: APIClient) -> None:
    foreign = options_of(world.q2)[1]
    two = world.opts[:2]  # two options on a single best answer question
    for key in ([foreign], two):
        response = editor_client.post(
            rekey_url(world.q.id), {"correct_option_ids": key, "reason": "x"}, format="json"
        )
        assert response.status_code == 400, key
        assert "correct_option_ids" in response.json()["fields"]
    assert not RekeyRun.objects.exists()
    assert set(
        AnswerOption.objects.filter(question=world.q, is_correct=True).values_list("id", flat=True)
    ) == {world.opts[0]}
    assert PracticeAttempt.objects.filter(question=world.q, is_correct=True).count() == 1


def test_rekey_refuses_to_run_inside_a_callers_transaction(world: World, editor: User) -> None:
    """Inside a transaction the new key would commit after the regrade scanned (answers graded
    on the old key meanwhile would be missed), so the service refuses and changes nothing."""
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        rekey_and_regrade(
            question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="B", by=editor
        )
    assert not RekeyRun.objects.exists()
