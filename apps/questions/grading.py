"""Grading: the one home of two rules practice and exams share.

- What a candidate may select (:func:`validate_selection`): the question's own options, at
  most one for a single best answer question, at most :data:`MAX_SELECTED_OPTIONS`; a
  repeated option counts once.
- What is correct (:func:`is_selection_correct`): exactly the set of correct options.

Both modes call these; neither spells a rule out again (tests/questions/
test_grading_selection.py holds practice and exams to the same answer for any selection).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from apps.core.exceptions import ValidationFailed
from apps.questions.models import AnswerOption, QuestionType

MAX_SELECTED_OPTIONS = 20
"""The most option ids one answer may send (the serializers' ``max_length`` too)."""

SELECTION_FIELD = "selected_option_ids"


def selection_error(
    *,
    question_type: str,
    option_ids: Collection[int],
    selected: Sequence[int],
    allow_empty: bool = False,
) -> str | None:
    """Why ``selected`` (option ids as sent) is not a selection a candidate may make on a
    question of ``question_type`` whose options are ``option_ids``; ``None`` when it is.

    Checked in this order, so both modes name the same fault first: nothing selected (unless
    ``allow_empty``: an exam saves ``[]`` as "no answer"), too many ids sent, ids that are not
    the question's options, more than one distinct option on a single best answer question.
    Pure, so an exam batch of 500 answers checks each against what it holds in memory."""
    if not selected:
        return None if allow_empty else "Select at least one option."
    if len(selected) > MAX_SELECTED_OPTIONS:
        return "Too many options selected."
    foreign = sorted({oid for oid in selected if oid not in option_ids})
    if foreign:
        return f"Not an option of this question: {', '.join(map(str, foreign))}."
    if question_type == QuestionType.SINGLE and len(set(selected)) > 1:
        return "A single best answer question takes one option."
    return None


def validate_selection(
    *,
    question_type: str,
    option_ids: Collection[int],
    selected: Sequence[int],
    allow_empty: bool = False,
) -> list[int]:
    """The selection as stored and graded (distinct ids, ascending); raises
    :class:`~apps.core.exceptions.ValidationFailed` on ``selected_option_ids`` with the
    reason :func:`selection_error` gives."""
    error = selection_error(
        question_type=question_type,
        option_ids=option_ids,
        selected=selected,
        allow_empty=allow_empty,
    )
    if error is not None:
        raise ValidationFailed(fields={SELECTION_FIELD: [error]})
    return sorted(set(selected))


@dataclass(frozen=True)
class Grade:
    is_correct: bool
    correct_option_ids: list[int]


def is_selection_correct(
    *, correct_option_ids: Iterable[int], selected_option_ids: Iterable[int]
) -> bool:
    """Exact set equality: no partial credit, order and duplicates do not matter."""
    correct = frozenset(correct_option_ids)
    return bool(correct) and frozenset(selected_option_ids) == correct


def answer_keys(*, question_ids: Iterable[int]) -> dict[int, list[int]]:
    """``{question_id: sorted correct option ids}`` for many questions in one query."""
    keys: dict[int, list[int]] = {qid: [] for qid in question_ids}
    rows = AnswerOption.objects.filter(question_id__in=list(keys), is_correct=True).values_list(
        "question_id", "id"
    )
    for question_id, option_id in rows.order_by("question_id", "id"):
        keys[question_id].append(option_id)
    return keys


def grade(*, correct_option_ids: Iterable[int], selected_option_ids: Iterable[int]) -> Grade:
    correct = sorted(set(correct_option_ids))
    return Grade(
        is_correct=is_selection_correct(
            correct_option_ids=correct, selected_option_ids=selected_option_ids
        ),
        correct_option_ids=correct,
    )
