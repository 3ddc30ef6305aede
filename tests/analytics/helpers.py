"""Driving the learning record through its port, as practice and exams do."""

from __future__ import annotations

import itertools
from datetime import datetime

from django.utils import timezone

from apps.accounts.models import Profile, User
from apps.questions.learning import AnsweredQuestion, AnswerSource, publish_answers
from apps.questions.models import Question

_session_ids = itertools.count(1_000_000)


def next_session_id() -> int:
    return next(_session_ids)


def answer(
    user: User,
    question: Question,
    *,
    correct: bool = True,
    at: datetime | None = None,
    seconds: int = 30,
    source: AnswerSource = "practice",
    session_id: int | None = None,
) -> AnsweredQuestion:
    return AnsweredQuestion(
        user_id=user.pk,
        question_id=question.pk,
        category_id=question.category_id,
        is_correct=correct,
        time_spent_sec=seconds,
        answered_at=at or timezone.now(),
        source=source,
        source_id=session_id if session_id is not None else next_session_id(),
    )


def publish(*answers: AnsweredQuestion) -> None:
    publish_answers(answers=list(answers))


def set_timezone(user: User, name: str) -> None:
    Profile.objects.filter(user=user).update(timezone=name)
    user.refresh_from_db()
    user.profile.refresh_from_db()
