"""Real threads against real PostgreSQL (each with its own connection): concurrent re-keys
regrade once, concurrent finishers of one run count each answer once, and an answer graded on
the old key while the re-key commits is still regraded."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from apps.analytics.models import AnswerFact
from apps.analytics.services import recompute_aggregates
from apps.exams.models import ExamAnswer, ExamSession
from apps.exams.services import scoring
from apps.notifications.models import Notification
from apps.practice.models import PracticeAttempt, PracticeSession
from apps.practice.services import answering, create_practice_session, record_practice_answer
from apps.quality import statements as quality_statements
from apps.quality.models import ItemStatistics, RekeyRun, RekeyStatus
from apps.quality.services import regrade
from apps.quality.services.regrade import finish_rekey_run, rekey_and_regrade
from apps.questions.models import Question
from tests.accounts.factories import UserFactory
from tests.conftest import client_for
from tests.exams.factories import fixed_template
from tests.exams.test_concurrency import run_together
from tests.quality.test_rekey import World, build_world, rekey_url, sit

pytestmark = pytest.mark.django_db(transaction=True)


def consistent(world: World) -> None:
    """What must hold after any number of regrades: the counters and statistics follow the
    answers, and the aggregates equal a full rebuild."""
    q = Question.objects.get(pk=world.q.pk)
    facts = AnswerFact.objects.filter(question_id=q.id)
    assert q.times_correct == facts.filter(is_correct=True).count()
    assert set(facts.values_list("question_version", flat=True)) == {q.version}
    for session in PracticeSession.objects.all():
        assert session.correct == session.attempts.filter(is_correct=True).count()
    assert recompute_aggregates().changed == 0


def test_concurrent_identical_rekeys_regrade_once(editor: Any) -> None:
    world = build_world()
    clients = [client_for(editor) for _ in range(6)]
    body = {"correct_option_ids": [world.opts[1]], "reason": "Wrong key."}

    def rekey(client: Any) -> Callable[[], int]:
        return lambda: client.post(rekey_url(world.q.id), body, format="json").status_code

    statuses = run_together([rekey(c) for c in clients])
    assert sorted(statuses) == [200] + [409] * 5
    run = RekeyRun.objects.get()
    assert (run.status, run.practice_attempts, run.exam_answers, run.exam_sessions) == (
        RekeyStatus.DONE,
        3,
        2,
        2,
    )
    assert Notification.objects.count() == 4
    # The item analysis was rerun once the run finished: the regraded answers are the new
    # version's now, and the old version has none left.
    versions = set(
        ItemStatistics.objects.filter(question=world.q).values_list("version", flat=True)
    )
    assert versions == {run.to_version}
    consistent(world)


def test_concurrent_different_rekeys_leave_one_consistent_grading(editor: Any) -> None:
    world = build_world()
    keys = [world.opts[1], world.opts[2], world.opts[3]]

    def rekey(option: int) -> Callable[[], Any]:
        def job() -> Any:
            try:
                return rekey_and_regrade(
                    question_id=world.q.id, correct_option_ids=[option], reason="x", by=editor
                ).status
            except Exception as exc:  # 409 while another regrade of the question runs
                return type(exc).__name__

        return job

    outcomes = run_together([rekey(k) for k in keys])
    assert "done" in outcomes
    assert set(outcomes) <= {"done", "Conflict"}
    final_key = list(
        Question.objects.get(pk=world.q.pk)
        .options.filter(is_correct=True)
        .values_list("id", flat=True)
    )
    for attempt in PracticeAttempt.objects.filter(question=world.q):
        assert attempt.is_correct == (attempt.selected_option_ids == final_key)
    assert RekeyRun.objects.filter(status=RekeyStatus.DONE).count() == outcomes.count("done")
    consistent(world)


def test_concurrent_finishers_of_one_run_count_each_answer_once(editor: Any) -> None:
    world = build_world()
    run = regrade._rekey(
        question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="x", by=editor
    )
    results = run_together([lambda: finish_rekey_run(run_id=run.pk) for _ in range(4)])
    assert {r.status for r in results} == {"done"}
    run.refresh_from_db()
    assert (run.practice_attempts, run.exam_answers, run.exam_sessions) == (3, 2, 2)
    assert Notification.objects.count() == 4
    consistent(world)


def watch_the_drain(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """An event set once the re-key's drain has seen an older transaction still open (and so
    is waiting for it)."""
    waiting = threading.Event()
    original = quality_statements.open_transactions_begun_before

    def watched(before: Any) -> int:
        found = original(before)
        if found:
            waiting.set()
        return found

    monkeypatch.setattr(quality_statements, "open_transactions_begun_before", watched)
    return waiting


def release_when(question_id: int, waiting: threading.Event, release: threading.Event) -> None:
    """Lets the held answer go on once the re-key waits for it, or once the re-key is done
    (which it must not be while the answer is open: then the answer commits too late)."""
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and not waiting.is_set():
            done = RekeyRun.objects.filter(question_id=question_id, status=RekeyStatus.DONE)
            if done.exists():
                break
            time.sleep(0.02)
    finally:
        release.set()
        connection.close()  # this thread's own connection


def test_a_practice_answer_graded_on_the_old_key_during_the_rekey_is_regraded(
    editor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The answer reads the old key, then is held before it writes, while the re-key commits
    the new key: it commits an attempt graded on the old key after the re-key's commit. The
    drain makes the regrade wait for it, so it is regraded (and counted) once. (Without the
    drain the re-key finishes first and the answer is committed unregraded: this test fails.)"""
    world = build_world()
    late = UserFactory()
    session = create_practice_session(
        user=late, question_count=10, category_slugs=[world.category.slug]
    )
    read, release = threading.Event(), threading.Event()
    original = answering._write_answer

    def held_write(**kwargs: Any) -> Any:
        if kwargs["user_id"] == late.id:
            read.set()
            assert release.wait(30)
        return original(**kwargs)

    monkeypatch.setattr(answering, "_write_answer", held_write)

    def answer() -> bool:
        with transaction.atomic():
            feedback = record_practice_answer(
                user=late,
                session_id=session.id,
                question_id=world.q.id,
                selected_option_ids=[world.opts[1]],
            )
        return feedback.is_correct

    graded_then, result = _across_a_rekey(answer, world, editor, read, release, monkeypatch)
    assert graded_then is False  # graded on the old key when it was answered
    attempt = PracticeAttempt.objects.get(session=session, question=world.q)
    assert attempt.is_correct is True
    assert attempt.question_version == result.version
    assert (result.status, result.practice_attempts) == ("done", 4)
    assert PracticeSession.objects.get(pk=session.pk).correct == 1
    assert Notification.objects.filter(user=late).count() == 1
    consistent(world)


def test_an_exam_scored_on_the_old_key_during_the_rekey_is_rescored(
    editor: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = build_world()
    late = UserFactory()
    template = fixed_template([world.q, world.q2], shuffle_questions=False)
    session_id = sit(late, template.id, {world.q.id: world.opts[1]}, submit=False)
    read, release = threading.Event(), threading.Event()
    original = scoring.store_result

    def held_store(session: ExamSession) -> None:
        if session.pk == session_id:
            read.set()
            assert release.wait(30)
        original(session)

    monkeypatch.setattr(scoring, "store_result", held_store)

    def submit() -> int | None:
        return scoring.submit_exam_session(session_id=session_id, user=late).score_percent

    score_then, result = _across_a_rekey(submit, world, editor, read, release, monkeypatch)
    assert score_then == 0  # scored on the old key
    answer = ExamAnswer.objects.get(session_id=session_id, question=world.q)
    assert answer.is_correct is True
    assert answer.question_version == result.version
    scored = ExamSession.objects.get(pk=session_id)
    assert (scored.correct, scored.score_percent) == (1, 50)
    assert (result.exam_answers, result.exam_sessions) == (3, 3)
    consistent(world)


def _across_a_rekey(
    work: Any,
    world: Any,
    editor: Any,
    read: threading.Event,
    release: threading.Event,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[Any, Any]:
    """Runs ``work`` (which sets ``read`` once it has read the old key, then waits for
    ``release``) beside a re-key of ``world.q`` to option 1; ``release`` is set once the re-key
    is waiting for ``work``'s transaction to end. Returns both results."""

    def rekey() -> Any:
        assert read.wait(30)
        return rekey_and_regrade(
            question_id=world.q.id, correct_option_ids=[world.opts[1]], reason="x", by=editor
        )

    waiting = watch_the_drain(monkeypatch)
    watcher = threading.Thread(target=release_when, args=(world.q.id, waiting, release))
    watcher.start()
    try:
        first, result = run_together([work, rekey])
    finally:
        release.set()
        watcher.join(timeout=60)
    return first, result
