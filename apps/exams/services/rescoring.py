"""Rescoring submitted sessions after a question's key was corrected (a re-key).

Called by ``apps.quality.services.regrade``, which owns the argument for exactly-once. The
row-level half is here: an answer is regraded only while it still carries one of the versions
graded on the old key (or none, for a session scored before versions were recorded), under its
session's row lock (the lock saving, submitting and scoring take first); it leaves with the new
version, so a second pass finds nothing to do. The result is rebuilt by the scoring code's own
rules (:func:`~apps.exams.services.scoring.counted_answers`,
:func:`~apps.exams.services.scoring.apply_result`): a session's stored outcome after a
rescoring is what scoring it afresh with the new key would store.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q

from apps.exams.models import ExamAnswer, ExamSession, SessionStatus
from apps.exams.services.scoring import apply_result, counted_answers
from apps.exams.statements import SavedAnswer, store_result
from apps.questions.grading import is_selection_correct
from apps.questions.selectors import PaperKey, paper_key


@dataclass(frozen=True)
class RegradedExamAnswer:
    """One regraded answer. ``counted``: it has a fact in the learning record (a selection
    saved in time); ``score_before``/``score_after``: the session's score around this regrade
    (equal when the grade did not change)."""

    user_id: int
    session_id: int
    question_id: int
    counted: bool
    was_correct: bool
    is_correct: bool
    score_before: int | None
    score_after: int | None

    @property
    def changed(self) -> bool:
        return self.was_correct != self.is_correct


def _graded_on(versions: Collection[int], include_unversioned: bool) -> Q:
    graded = Q(question_version__in=list(versions))
    if include_unversioned:
        graded |= Q(question_version__isnull=True)
    return graded


def _scored_answers(question_id: int, versions: Collection[int], unversioned: bool) -> Q:
    return (
        Q(question_id=question_id)
        & _graded_on(versions, unversioned)
        & ~Q(session__status=SessionStatus.IN_PROGRESS)
    )


def exam_answers_to_regrade(
    *, question_id: int, versions: Collection[int], include_unversioned: bool
) -> int:
    """How many answers of submitted sessions are still graded on one of ``versions``."""
    return ExamAnswer.objects.filter(
        _scored_answers(question_id, versions, include_unversioned)
    ).count()


def regrade_exam_answers(
    *,
    question_id: int,
    versions: Collection[int],
    include_unversioned: bool,
    to_version: int,
    correct_option_ids: Sequence[int],
    limit: int = 100,
) -> list[RegradedExamAnswer]:
    """Regrades the answers to the question of up to ``limit`` submitted sessions still graded
    on one of ``versions`` with the key ``correct_option_ids``, moves them to ``to_version``,
    and rescores each session whose grade changed. In the caller's transaction (required).

    Sessions in progress are left alone: they are graded when submitted, on the key then."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("regrade_exam_answers must run inside a transaction")
    pending = _scored_answers(question_id, versions, include_unversioned)
    session_ids = sorted(
        set(
            ExamAnswer.objects.filter(pending)
            .order_by("session_id")
            .values_list("session_id", flat=True)[:limit]
        )
    )
    if not session_ids:
        return []
    sessions = {
        s.id: s
        for s in ExamSession.objects.select_for_update()
        .filter(id__in=session_ids)
        .exclude(status=SessionStatus.IN_PROGRESS)
        .order_by("id")
    }
    answers = list(
        ExamAnswer.objects.select_for_update()
        .filter(pending, session_id__in=list(sessions))
        .order_by("session_id", "id")
    )
    regraded: list[RegradedExamAnswer] = []
    for answer in answers:
        session = sessions[answer.session_id]
        key = paper_key(question_ids=session.question_ids)
        counted = bool(counted_answers(session, [_saved(answer)], key))
        now_correct = counted and is_selection_correct(
            correct_option_ids=correct_option_ids,
            selected_option_ids=answer.selected_option_ids,
        )
        was_correct = bool(answer.is_correct)
        ExamAnswer.objects.filter(pk=answer.pk).update(
            is_correct=now_correct, question_version=to_version
        )
        before = session.score_percent
        if now_correct != was_correct:
            _rescore(session, key=key)
        regraded.append(
            RegradedExamAnswer(
                user_id=session.user_id,
                session_id=session.id,
                question_id=question_id,
                counted=counted,
                was_correct=was_correct,
                is_correct=now_correct,
                score_before=before,
                score_after=session.score_percent,
            )
        )
    return regraded


def _saved(answer: ExamAnswer) -> SavedAnswer:
    return SavedAnswer(
        id=answer.pk,
        question_id=answer.question_id,
        selected_option_ids=answer.selected_option_ids,
        flagged=answer.flagged,
        time_spent_sec=answer.time_spent_sec,
        saved_at=answer.saved_at,
    )


def _rescore(session: ExamSession, *, key: PaperKey) -> None:
    """Rebuilds the session's stored outcome from its answers' stored grades (status, times and
    the submission moment stay): what scoring would store with today's grades."""
    answers = [_saved(a) for a in ExamAnswer.objects.filter(session_id=session.id).order_by("id")]
    right = set(
        ExamAnswer.objects.filter(session_id=session.id, is_correct=True).values_list(
            "question_id", flat=True
        )
    )
    counted = counted_answers(session, answers, key)
    apply_result(
        session,
        key=key,
        answered_questions={a.question_id for a in counted},
        correct_questions={a.question_id for a in counted if a.question_id in right},
    )
    store_result(session)
