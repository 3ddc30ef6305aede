"""The pool a new session draws from, narrowed by the session's mode."""

from __future__ import annotations

from collections.abc import Sequence

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from apps.practice.models import PracticeAttempt, PracticeMode
from apps.practice.selectors.flags import flagged_question_ids
from apps.practice.selectors.review import due_question_ids
from apps.questions.held_out import held_out_questions
from apps.questions.selectors import drawable_question_ids


def practised_question_ids(*, user_id: int) -> set[int]:
    """Questions the user has answered in any practice session."""
    return set(
        PracticeAttempt.objects.filter(session__user_id=user_id)
        .values_list("question_id", flat=True)
        .distinct()
    )


def last_answered_wrong_question_ids(*, user_id: int) -> set[int]:
    """Questions whose latest practice answer by the user was wrong (an attempt with no later
    attempt on the same question)."""
    mine = PracticeAttempt.objects.filter(session__user_id=user_id)
    later = mine.filter(question_id=OuterRef("question_id")).filter(
        Q(answered_at__gt=OuterRef("answered_at"))
        | Q(answered_at=OuterRef("answered_at"), id__gt=OuterRef("id"))
    )
    return set(
        mine.filter(is_correct=False)
        .annotate(superseded=Exists(later))
        .filter(superseded=False)
        .values_list("question_id", flat=True)
    )


def practice_pool(
    *,
    user_id: int,
    category_slugs: Sequence[str] = (),
    subcategory_slugs: Sequence[str] = (),
    mode: str = PracticeMode.ALL,
) -> list[int]:
    """Ids of the published questions a new session may draw from, in id order (the order the
    seeded draw relies on), narrowed by ``mode``; in every mode without the questions of the
    user's exams that still take answers (the ``questions.held_out`` port), whose keys practice
    must not reveal while the exam is open."""
    held = held_out_questions.get().question_ids(user_id=user_id, at=timezone.now())
    pool = [
        qid
        for qid in drawable_question_ids(
            category_slugs=category_slugs, subcategory_slugs=subcategory_slugs
        )
        if qid not in held
    ]
    if mode == PracticeMode.UNANSWERED:
        seen = practised_question_ids(user_id=user_id)
        return [qid for qid in pool if qid not in seen]
    if mode == PracticeMode.INCORRECT:
        wrong = last_answered_wrong_question_ids(user_id=user_id)
        return [qid for qid in pool if qid in wrong]
    if mode == PracticeMode.FLAGGED:
        flagged = set(flagged_question_ids(user_id=user_id))
        return [qid for qid in pool if qid in flagged]
    if mode == PracticeMode.DUE:
        drawable = set(pool)
        return [qid for qid in due_question_ids(user_id=user_id) if qid in drawable]
    return pool
