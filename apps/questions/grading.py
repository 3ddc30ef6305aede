"""Grading: the one home of the rule "a correct answer is the exact set of correct options"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from apps.questions.models import AnswerOption


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
