"""A candidate's flags and private notes on questions (one row per user and question)."""

from __future__ import annotations

from django.db import transaction

from apps.accounts.models import User
from apps.core.exceptions import ValidationFailed
from apps.practice.exceptions import FlagNotFound
from apps.practice.models import QuestionFlag
from apps.questions.selectors import published_questions


def require_published_question(question_id: int) -> None:
    """A flag or a report is only taken on a question a candidate can see."""
    if not published_questions().filter(pk=question_id).exists():
        raise ValidationFailed(fields={"question_id": ["No such question."]})


@transaction.atomic
def set_question_flag(
    *,
    user: User,
    question_id: int,
    is_flagged: bool | None = None,
    note: str | None = None,
) -> tuple[QuestionFlag, bool]:
    """Creates or updates the user's flag and private note on a question; returns
    ``(flag, created)``. Omitted values are left as they are (a new flag is flagged, with no
    note)."""
    require_published_question(question_id)
    flag, created = QuestionFlag.objects.select_for_update().get_or_create(
        user=user,
        question_id=question_id,
        defaults={
            "is_flagged": True if is_flagged is None else is_flagged,
            "note": (note or "").strip(),
        },
    )
    if not created:
        if is_flagged is not None:
            flag.is_flagged = is_flagged
        if note is not None:
            flag.note = note.strip()
        flag.save(update_fields=["is_flagged", "note", "updated_at"])
    return flag, created


def remove_question_flag(*, user: User, question_id: int) -> None:
    """Removes the user's flag and note on a question."""
    deleted, _ = QuestionFlag.objects.filter(user_id=user.pk, question_id=question_id).delete()
    if not deleted:
        raise FlagNotFound()
