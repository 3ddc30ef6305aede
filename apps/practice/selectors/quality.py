"""What item analysis (apps/quality) reads from practice: the options picked in given attempts,
and candidates' open reports per question."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce

from apps.core.answer_rows import selections_by_session_question
from apps.practice.models import PracticeAttempt, QuestionReport, ReportReason, ReportStatus


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


def open_reports_of(*, question_id: int) -> list[QuestionReport]:
    """A question's open reports with their reporters, newest first (the editors' page)."""
    return list(
        QuestionReport.objects.filter(question_id=question_id, status=ReportStatus.OPEN)
        .select_related("user")
        .order_by("-created_at")
    )


def open_reports_overview(
    *, recent: int = 10
) -> tuple[int, list[tuple[str, int]], list[QuestionReport]]:
    """For the staff overview: how many reports are open, how many per reason (the reason's
    label, most first) and the ``recent`` newest with their question."""
    open_reports = QuestionReport.objects.filter(status=ReportStatus.OPEN)
    reasons = dict(ReportReason.choices)
    by_reason = [
        (reasons.get(row["reason"], row["reason"]), row["n"])
        for row in open_reports.order_by().values("reason").annotate(n=Count("id")).order_by("-n")
    ]
    newest = list(open_reports.select_related("question").order_by("-created_at")[:recent])
    return open_reports.count(), by_reason, newest
