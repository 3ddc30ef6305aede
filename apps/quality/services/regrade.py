"""Re-keying a question and regrading, exactly once, every answer graded on the old key.

:func:`rekey_and_regrade` is the one entry point (the API's ``POST /staff/questions/{id}/rekey``
and the admin both call it). A run (:class:`~apps.quality.models.RekeyRun`) goes:

1. **Re-key** (one transaction): the question row is locked, its version ``from_version`` read,
   ``apps.questions.services.versions.rekey_question`` sets the key and snapshots version
   ``to_version``, and the run is created. A question with a run still regrading takes no
   other re-key (409, and a partial unique constraint behind it); the same key twice is 409
   from ``rekey_question``. So of two concurrent re-keys, the second waits for the row lock and
   then is refused: only one regrades.
2. **Drain**: the database clock is read *after* that commit (``key_changed_at``), and the run
   waits until no other transaction begun before that moment is still open
   (``pg_stat_activity``; :mod:`apps.quality.statements`).
3. **Regrade** in batches, each one transaction: lock the run row (batches of one run never
   overlap), lock the answers' sessions in id order, then regrade the answers that *still*
   carry a version graded on the old key (``regraded_versions``) and move them to
   ``to_version``; in the same transaction fix the sessions' counters (practice) or rescore
   the sessions (exams), set the learning-record facts' grade and version, rebuild the
   aggregates of the learners whose grade changed, move the question's ``times_correct``, and
   add to the run's counts.
4. **Finish** (one transaction, under the run's lock, once): status ``done``, the audit event,
   one notification to each candidate whose grade changed, and the question's item analysis
   queued (``quality.analyse_items``): the regraded answers now count for the new version.

Why every answer graded on the old key is regraded, and none twice:

- *Exactly once per answer.* An answer is regraded only while it carries an old version, under
  its session's row lock, and the same statement set moves it to ``to_version``; a second pass
  (a retry, a concurrent worker, a repeated call) re-reads it after the lock and finds it gone.
  Every count derived from a regrade (session counters, ``times_correct``, the run's counts) is
  written in that transaction, so it moves exactly when the answer does; the aggregates are
  rebuilt from the facts (absolute, so repeatable).
- *No answer missed.* Practice grades an answer in one statement that reads the key and the
  version together (one snapshot), and exams score a paper with the key and version read by one
  statement too (``PAPER_KEY``). So an answer is graded on the new key with the new version,
  or on the old key with an old version. One graded on the old key was read by a transaction
  that began before the new key committed, hence before ``key_changed_at``. The regrade starts
  only when every such transaction has ended (step 2), so each of their answers is committed
  (or rolled back) and visible to the batches, which run until none is left. Transactions
  beginning after ``key_changed_at`` read the new key. Row locks alone could not give this: a
  practice answer's snapshot is taken before it waits for its session lock, so an answer may
  read the old key and still commit after any lock the regrade takes and releases.
- *Runs of one question never interleave* (step 1), so an answer moved to ``to_version`` by one
  run cannot be missed by the next.

If the drain does not end within ``QUALITY_REKEY_DRAIN_TIMEOUT_SEC`` (a stuck transaction), or
more than ``QUALITY_REKEY_SYNC_LIMIT`` answers are to be regraded, the request returns what was
done with the run still ``regrading`` and the Celery task ``quality.finish_rekey_run`` carries
on (enqueued by name; it retries until the drain ends). Small runs finish in the request.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.analytics.services.regrading import RegradedFact, regrade_answer_facts
from apps.audit.services import record_event
from apps.core.exceptions import Conflict, NotFound
from apps.core.queue import enqueue_after_commit
from apps.exams.services.rescoring import exam_answers_to_regrade, regrade_exam_answers
from apps.practice.services.regrading import attempts_to_regrade, regrade_practice_attempts
from apps.quality import statements
from apps.quality.models import RekeyRun, RekeyStatus
from apps.quality.services.analysis import ANALYSE_TASK
from apps.quality.services.regrade_notices import notify_regraded_candidates
from apps.questions.grading import answer_keys
from apps.questions.models import Question
from apps.questions.selectors import versions_of
from apps.questions.services.statistics import correct_question_stats
from apps.questions.services.versions import rekey_question

FINISH_TASK = "quality.finish_rekey_run"
PRACTICE_BATCH = 500
EXAM_BATCH = 100


@dataclass(frozen=True)
class RekeyResult:
    run_id: int
    question_id: int
    version: int
    status: str  # RekeyStatus: "done", or "regrading" while the task carries on
    practice_attempts: int
    exam_answers: int
    exam_sessions: int

    @property
    def done(self) -> bool:
        return self.status == RekeyStatus.DONE

    def as_contract(self) -> dict[str, Any]:
        """The API's shape (api-contract.md, "Staff: item quality")."""
        return {
            "version": self.version,
            "regraded": {
                "practice_attempts": self.practice_attempts,
                "exam_answers": self.exam_answers,
                "exam_sessions": self.exam_sessions,
            },
        }


def _result(run: RekeyRun) -> RekeyResult:
    return RekeyResult(
        run_id=run.pk,
        question_id=run.question_id,
        version=run.to_version,
        status=run.status,
        practice_attempts=run.practice_attempts,
        exam_answers=run.exam_answers,
        exam_sessions=run.exam_sessions,
    )


def rekey_and_regrade(
    *, question_id: int, correct_option_ids: list[int], reason: str, by: User | None
) -> RekeyResult:
    """Sets the question's key to ``correct_option_ids`` as a new version and regrades every
    answer graded on the old key (see the module docstring). Call it outside a transaction:
    the new key must commit before the regrade can know it has seen every old answer.

    Raises ``NotFound`` (no such question), ``ValidationFailed`` (not a valid key for it) and
    ``Conflict`` (that is already the key; or a regrade of the question is still running).
    Raises ``RuntimeError`` inside a caller's transaction (the Django Admin's change view is
    one): there the new key would commit only with the caller, after the regrade."""
    _refuse_inside_a_transaction()
    run = _rekey(
        question_id=question_id, correct_option_ids=correct_option_ids, reason=reason, by=by
    )
    pending = attempts_to_regrade(
        question_id=question_id, versions=run.regraded_versions
    ) + exam_answers_to_regrade(
        question_id=question_id, versions=run.regraded_versions, include_unversioned=True
    )
    if pending > _setting("QUALITY_REKEY_SYNC_LIMIT", 5000):
        enqueue_after_commit(FINISH_TASK, run.pk)
        return _result(run)
    result = finish_rekey_run(run_id=run.pk)
    if not result.done:
        enqueue_after_commit(FINISH_TASK, run.pk)
    return result


def _refuse_inside_a_transaction() -> None:
    """A test's own wrapping transaction (Django's ``TestCase``, pytest-django's ``django_db``)
    is allowed: nothing else shares its uncommitted state."""
    blocks = transaction.get_connection().atomic_blocks
    if any(not getattr(block, "_from_testcase", False) for block in blocks):
        raise RuntimeError("rekey_and_regrade must be called outside a transaction")


@transaction.atomic
def _rekey(
    *, question_id: int, correct_option_ids: list[int], reason: str, by: User | None
) -> RekeyRun:
    question = Question.objects.select_for_update(of=("self",)).filter(pk=question_id).first()
    if question is None:
        raise NotFound("No such question.")
    if RekeyRun.objects.filter(question_id=question_id, status=RekeyStatus.REGRADING).exists():
        raise Conflict("A regrade of this question is still running; try again when it is done.")
    from_version = question.version
    old_key = answer_keys(question_ids=[question_id])[question_id]
    version = rekey_question(
        question_id=question_id, correct_option_ids=correct_option_ids, reason=reason, by=by
    )
    # Every earlier version whose key was the old key: answers graded on any of them were
    # graded on the key now corrected.
    graded_on_old = {
        v.number
        for v in versions_of(question_id=question_id)
        if v.number < version.number and sorted(v.correct_option_ids) == old_key
    }
    graded_on_old.add(from_version)
    return RekeyRun.objects.create(
        question_id=question_id,
        from_version=from_version,
        to_version=version.number,
        old_correct_option_ids=old_key,
        new_correct_option_ids=sorted(version.correct_option_ids),
        regraded_versions=sorted(graded_on_old),
        reason=reason,
        created_by=by if getattr(by, "pk", None) else None,
    )


def finish_rekey_run(*, run_id: int, drain_timeout_sec: float | None = None) -> RekeyResult:
    """Drains, regrades in batches and finishes the run; safe to call any number of times, from
    anywhere, concurrently. Returns the run as it stands: ``done``, or still ``regrading`` when
    an old transaction outlived the drain timeout (call again later; the task does)."""
    run = RekeyRun.objects.get(pk=run_id)
    if run.status == RekeyStatus.DONE:
        return _result(run)
    if run.key_changed_at is None:
        # Read after the new key committed (this runs outside the re-key's transaction).
        RekeyRun.objects.filter(pk=run_id, key_changed_at__isnull=True).update(
            key_changed_at=statements.database_now()
        )
        run.refresh_from_db(fields=["key_changed_at"])
    assert run.key_changed_at is not None  # nosec B101
    timeout = (
        _setting("QUALITY_REKEY_DRAIN_TIMEOUT_SEC", 10.0)
        if drain_timeout_sec is None
        else drain_timeout_sec
    )
    drained = _drain(run.key_changed_at, timeout=timeout)
    while _practice_batch(run_id):
        pass
    while _exam_batch(run_id):
        pass
    if drained:
        _finish(run_id)
    run.refresh_from_db()
    return _result(run)


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def _drain(key_changed_at: Any, *, timeout: float) -> bool:
    """Waits (polling, backing off) until no other transaction begun before ``key_changed_at``
    is open; False when ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    pause = 0.01
    while statements.open_transactions_begun_before(key_changed_at):
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
    return True


def _locked_run(run_id: int) -> RekeyRun | None:
    run = RekeyRun.objects.select_for_update().get(pk=run_id)
    return None if run.status == RekeyStatus.DONE else run


def _practice_batch(run_id: int) -> bool:
    """One batch of practice attempts; False when none was left."""
    with transaction.atomic():
        run = _locked_run(run_id)
        if run is None:
            return False
        regraded = regrade_practice_attempts(
            question_id=run.question_id,
            versions=run.regraded_versions,
            to_version=run.to_version,
            correct_option_ids=run.new_correct_option_ids,
            limit=_setting("QUALITY_REKEY_PRACTICE_BATCH", PRACTICE_BATCH),
        )
        if not regraded:
            return False
        changes = [(r.user_id, r.was_correct, r.is_correct) for r in regraded]
        _record_learning(
            run,
            [
                RegradedFact(r.user_id, "practice", r.session_id, r.question_id, r.is_correct)
                for r in regraded
            ],
            changes,
        )
        for r in regraded:
            if r.was_correct != r.is_correct:
                entry = _affected(run, r.user_id)
                field = "practice_right" if r.is_correct else "practice_wrong"
                entry[field] = entry.get(field, 0) + 1
        run.practice_attempts += len(regraded)
        run.save(update_fields=["practice_attempts", "changed_grades", "affected"])
        return True


def _exam_batch(run_id: int) -> bool:
    """One batch of exam answers (of submitted sessions); False when none was left."""
    with transaction.atomic():
        run = _locked_run(run_id)
        if run is None:
            return False
        regraded = regrade_exam_answers(
            question_id=run.question_id,
            versions=run.regraded_versions,
            include_unversioned=True,
            to_version=run.to_version,
            correct_option_ids=run.new_correct_option_ids,
            limit=_setting("QUALITY_REKEY_EXAM_BATCH", EXAM_BATCH),
        )
        if not regraded:
            return False
        # Only answers counted at scoring have a fact (and count in the question's statistics).
        counted = [r for r in regraded if r.counted]
        _record_learning(
            run,
            [
                RegradedFact(r.user_id, "exam", r.session_id, r.question_id, r.is_correct)
                for r in counted
            ],
            [(r.user_id, r.was_correct, r.is_correct) for r in counted],
        )
        rescored = [r for r in regraded if r.changed]
        for r in rescored:
            exams = _affected(run, r.user_id).setdefault("exams", {})
            before = exams.get(str(r.session_id), [r.score_before, r.score_after])[0]
            exams[str(r.session_id)] = [before, r.score_after]
        run.exam_answers += len(regraded)
        run.exam_sessions += len({r.session_id for r in rescored})
        run.save(update_fields=["exam_answers", "exam_sessions", "changed_grades", "affected"])
        return True


def _affected(run: RekeyRun, user_id: int) -> dict[str, Any]:
    entry: dict[str, Any] = run.affected.setdefault(str(user_id), {})
    return entry


def _record_learning(
    run: RekeyRun, facts: Sequence[RegradedFact], changes: Sequence[tuple[int, bool, bool]]
) -> None:
    """The learning record and the question's statistics follow the regraded answers, in the
    batch's transaction; ``changes`` are (user, was correct, is correct) of answers that count
    in the statistics."""
    flipped = [(uid, now) for uid, was, now in changes if was != now]
    regrade_answer_facts(
        facts=facts,
        question_version=run.to_version,
        rebuild_user_ids=sorted({uid for uid, _ in flipped}),
    )
    correct_question_stats(
        question_id=run.question_id,
        correct_delta=sum(1 if now else -1 for _, now in flipped),
    )
    run.changed_grades += len(flipped)


def _finish(run_id: int) -> None:
    """Marks the run done, audits it and notifies the candidates whose grade changed: once
    (under the run's lock, only from ``regrading``)."""
    with transaction.atomic():
        run = _locked_run(run_id)
        if run is None:
            return
        if _practice_batch_pending(run) or _exam_batch_pending(run):
            return  # a batch was added meanwhile: the next call finishes
        run.status = RekeyStatus.DONE
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "finished_at"])
        record_event(
            kind="content",
            action="question.regrade",
            actor=run.created_by,
            target_type="questions.question",
            target_id=run.question_id,
            before={
                "version": run.from_version,
                "correct_option_ids": run.old_correct_option_ids,
            },
            after={
                "version": run.to_version,
                "correct_option_ids": run.new_correct_option_ids,
                "rekey_run": run.pk,
                "practice_attempts": run.practice_attempts,
                "exam_answers": run.exam_answers,
                "exam_sessions": run.exam_sessions,
                "changed_grades": run.changed_grades,
                "candidates_notified": len(run.affected),
            },
        )
        notify_regraded_candidates(run)
        # The regraded facts now belong to the new version: its item statistics (and the old
        # version's, now without answers) are recomputed at once rather than overnight.
        enqueue_after_commit(ANALYSE_TASK, [run.question_id])


def _practice_batch_pending(run: RekeyRun) -> bool:
    return bool(attempts_to_regrade(question_id=run.question_id, versions=run.regraded_versions))


def _exam_batch_pending(run: RekeyRun) -> bool:
    return bool(
        exam_answers_to_regrade(
            question_id=run.question_id, versions=run.regraded_versions, include_unversioned=True
        )
    )
