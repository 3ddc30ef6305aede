"""Regrading practice attempts after a question's key was corrected (a re-key).

Called by ``apps.quality.services.regrade``, which owns the argument for exactly-once; what this
module guarantees is the row-level half of it: an attempt is regraded only while it still
carries one of the versions graded on the old key, under its session's row lock (the lock an
answer to the session takes first), and it leaves with the new version, so a second pass finds
nothing to do.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F

from apps.practice.models import PracticeAttempt, PracticeSession
from apps.questions.grading import grade


@dataclass(frozen=True)
class RegradedAttempt:
    user_id: int
    session_id: int
    question_id: int
    was_correct: bool
    is_correct: bool


def attempts_to_regrade(*, question_id: int, versions: Collection[int]) -> int:
    """How many attempts at the question are still graded on one of ``versions``."""
    return PracticeAttempt.objects.filter(
        question_id=question_id, question_version__in=list(versions)
    ).count()


def regrade_practice_attempts(
    *,
    question_id: int,
    versions: Collection[int],
    to_version: int,
    correct_option_ids: Sequence[int],
    limit: int = 500,
) -> list[RegradedAttempt]:
    """Regrades up to ``limit`` attempts at the question graded on one of ``versions`` with the
    key ``correct_option_ids``, moves them to ``to_version`` and corrects their sessions'
    ``correct`` counters, in the caller's transaction (required: the locks must hold until the
    caller has written the learning record too).

    Lock order, as an answer takes them: the sessions (ascending id), then the attempts."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("regrade_practice_attempts must run inside a transaction")
    wanted = list(versions)
    session_ids = sorted(
        set(
            PracticeAttempt.objects.filter(question_id=question_id, question_version__in=wanted)
            .order_by("session_id")
            .values_list("session_id", flat=True)[:limit]
        )
    )
    if not session_ids:
        return []
    owners = dict(
        PracticeSession.objects.select_for_update()
        .filter(id__in=session_ids)
        .order_by("id")
        .values_list("id", "user_id")
    )
    attempts = list(
        PracticeAttempt.objects.select_for_update()
        .filter(question_id=question_id, question_version__in=wanted, session_id__in=session_ids)
        .order_by("id")
        .only("id", "session_id", "selected_option_ids", "is_correct")
    )
    regraded: list[RegradedAttempt] = []
    delta: dict[int, int] = {}
    for attempt in attempts:
        now_correct = grade(
            correct_option_ids=correct_option_ids,
            selected_option_ids=attempt.selected_option_ids,
        ).is_correct
        regraded.append(
            RegradedAttempt(
                user_id=owners[attempt.session_id],
                session_id=attempt.session_id,
                question_id=question_id,
                was_correct=attempt.is_correct,
                is_correct=now_correct,
            )
        )
        if now_correct != attempt.is_correct:
            delta[attempt.session_id] = delta.get(attempt.session_id, 0) + (
                1 if now_correct else -1
            )
        attempt.is_correct = now_correct
        attempt.question_version = to_version
    PracticeAttempt.objects.bulk_update(attempts, ["is_correct", "question_version"])
    for session_id, change in sorted(delta.items()):
        if change:
            PracticeSession.objects.filter(id=session_id).update(correct=F("correct") + change)
    return regraded
