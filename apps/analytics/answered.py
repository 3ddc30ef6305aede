"""What the learning record tells the mock draw (the ``exams.answered_questions`` port): when a
candidate last answered each question, whichever mode the answer came from."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from django.db.models import Max

from apps.analytics.models import AnswerFact


def last_answered_questions(*, user_id: int, category_ids: Collection[int]) -> dict[int, datetime]:
    """``{question_id: latest answered_at}`` of the user's facts in these categories: one
    aggregate over the user's own facts (index ``answerfact_user_question``)."""
    rows = (
        AnswerFact.objects.filter(user_id=user_id, category_id__in=list(category_ids))
        .values("question_id")
        .annotate(last=Max("answered_at"))
        .values_list("question_id", "last")
    )
    return dict(rows)
