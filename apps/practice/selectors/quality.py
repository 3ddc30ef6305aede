"""What item analysis (apps/quality) reads from practice: the options picked in given attempts,
and candidates' open reports per question."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from apps.core.answer_rows import selections_by_session_question
from apps.practice.models import PracticeAttempt, QuestionReport, ReportStatus


def attempt_selections(*, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], list[int]]:
    """``{(session_id, question_id): selected option ids}`` for these attempts (a question is
    answered at most once per session); keys without an attempt are absent."""
    return selections_by_session_question(PracticeAttempt, keys=keys)


def open_report_counts(*, question_ids: Collection[int]) -> dict[int, int]:
    """``{question_id: open reports}`` for those of these questions that have any."""
    if not question_ids:
        return {}
    rows = (
        QuestionReport.objects.filter(question_id__in=list(question_ids), status=ReportStatus.OPEN)
        .order_by()
        .values("question_id")
        .annotate(open=Count("id"))
        .values_list("question_id", "open")
    )
    return dict(rows)


def open_report_count(*, question_ref: str = "question_id") -> Coalesce:
    """An expression for annotating another app's queryset with the number of open reports of
    the question in its ``question_ref`` column (0 when none), so a list can filter and order
    by it in the database."""
    counts = (
        QuestionReport.objects.filter(question_id=OuterRef(question_ref), status=ReportStatus.OPEN)
        .order_by()
        .values("question_id")
        .annotate(open=Count("id"))
        .values("open")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), 0)
