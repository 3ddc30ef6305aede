"""The candidate's flags and private notes on questions."""

from __future__ import annotations

from django.db.models import QuerySet

from apps.practice.exceptions import FlagNotFound
from apps.practice.models import QuestionFlag


def flags_for(*, user_id: int) -> QuerySet[QuestionFlag]:
    """The user's flags and notes, most recently changed first, with the question and its
    category joined in."""
    return (
        QuestionFlag.objects.filter(user_id=user_id)
        .select_related("question__category")
        .order_by("-updated_at", "-id")
    )


def flag_for(*, user_id: int, question_id: int) -> QuestionFlag:
    flag = flags_for(user_id=user_id).filter(question_id=question_id).first()
    if flag is None:
        raise FlagNotFound()
    return flag


def flagged_question_ids(*, user_id: int) -> list[int]:
    """Ids of the questions the user has flagged, in id order."""
    return list(
        QuestionFlag.objects.filter(user_id=user_id, is_flagged=True)
        .order_by("question_id")
        .values_list("question_id", flat=True)
    )
