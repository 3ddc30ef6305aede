"""What the workbench's own pages show: the quality queue and the staff overview.

The queue is the quality app's selector (:func:`apps.quality.selectors.quality_queue`: the
latest analysed version of each question, its flags and open reports), narrowed by default to
the rows that need an editor (a flag or an open report), plus the questions candidates reported
that have no statistics yet (too new or too little answered to analyse), which the selector,
built on statistics rows, cannot list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from apps.analytics import selectors as analytics_selectors
from apps.practice import selectors as practice_selectors
from apps.practice.models import ReportStatus
from apps.quality import selectors
from apps.quality.models import ItemFlag, ItemStatistics
from apps.quality.workbench import charts
from apps.questions.models import Question

PAGE_SIZE = 50
OVERVIEW_DAYS = 30
WEAKEST = 10
ALL_FLAGGED = ""  # the queue's default filter: any flag or an open report
FLAG_LABELS: dict[str, str] = {**dict(ItemFlag.choices), selectors.FLAG_REPORTED: "Reported"}
SORTABLE = ("n", "facility", "discrimination", "open_reports")


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    query: str  # the ?o= value a click on the header asks for
    sorted: str  # "", "ascending" or "descending"


def _columns(ordering: str) -> list[Column]:
    labels = {"n": "n", "facility": "Facility", "discrimination": "Discrimination"}
    labels["open_reports"] = "Open reports"
    out = []
    for key in SORTABLE:
        state = "ascending" if ordering == key else "descending" if ordering == f"-{key}" else ""
        out.append(Column(key, labels[key], key if state == "descending" else f"-{key}", state))
    return out


def queue_context(*, flag: str, ordering: str, page: str | int | None) -> dict[str, Any]:
    """The queue's rows (a page of them), its filter and sort links. An unknown flag or
    ordering falls back to the default instead of failing: they come from the URL."""
    flag = flag if flag in selectors.QUEUE_FLAGS else ALL_FLAGGED
    if ordering not in selectors.QUEUE_ORDERINGS:
        ordering = selectors.DEFAULT_QUEUE_ORDERING
    rows = selectors.quality_queue(flag=flag or None, ordering=ordering)
    if flag == ALL_FLAGGED:
        rows = rows.filter(~Q(flags=[]) | Q(open_reports__gt=0))
    page_obj = Paginator(rows, PAGE_SIZE).get_page(page)
    return {
        "flag": flag,
        "ordering": ordering,
        "flags": [(ALL_FLAGGED, "Needs attention"), *FLAG_LABELS.items()],
        "columns": _columns(ordering),
        "page_obj": page_obj,
        "rows": [_queue_row(row) for row in page_obj.object_list],
        "unanalysed_reported": unanalysed_reported() if flag in (ALL_FLAGGED, "reported") else [],
    }


def _queue_row(row: ItemStatistics) -> dict[str, Any]:
    return {
        "question_id": row.question_id,
        "excerpt": selectors.stem_excerpt(row.question.stem),
        "version": row.version,
        "n": row.n,
        "facility": row.facility,
        "discrimination": row.discrimination,
        "flags": [FLAG_LABELS.get(f, f) for f in row.flags],
        "miskey": ItemFlag.MISKEY_SUSPECTED in row.flags,
        "suspected_option_id": row.suspected_option_id,
        "open_reports": getattr(row, "open_reports", 0),
    }


def unanalysed_reported(limit: int = PAGE_SIZE) -> list[dict[str, Any]]:
    """Questions with open reports and no statistics at all, most reported first."""
    analysed = ItemStatistics.objects.filter(question_id=OuterRef("pk"))
    questions: QuerySet[Question] = (
        Question.objects.filter(reports__status=ReportStatus.OPEN)
        .annotate(open_reports=Count("reports", filter=Q(reports__status=ReportStatus.OPEN)))
        .filter(~Exists(analysed))
        .only("id", "stem", "version")
        .order_by("-open_reports", "id")[:limit]
    )
    return [
        {
            "question_id": q.pk,
            "excerpt": selectors.stem_excerpt(q.stem),
            "version": q.version,
            "open_reports": q.open_reports,  # type: ignore[attr-defined]
        }
        for q in questions
    ]


# --- the staff overview --------------------------------------------------------------------------
def answers_per_day(
    *, days: int = OVERVIEW_DAYS, today: date | None = None
) -> list[tuple[date, int, int]]:
    """``(day, answered, correct)`` for each of the last ``days`` days (learners' local days,
    as the learning record keeps them), zeros included, oldest first."""
    last = today or timezone.localdate()
    first = last - timedelta(days=days - 1)
    totals = analytics_selectors.answers_per_day(first=first, last=last)
    return [
        (day, *totals.get(day, (0, 0))) for day in (first + timedelta(days=i) for i in range(days))
    ]


def overview_context() -> dict[str, Any]:
    """Answers per day, the weakest questions, open reports and flagged items, with charts."""
    days = answers_per_day()
    min_n = getattr(settings, "QUALITY_MIN_N_FACILITY", 30)
    weakest = [
        _queue_row(row)
        for row in selectors.quality_queue(ordering="facility").filter(
            n__gte=min_n, facility__isnull=False
        )[:WEAKEST]
    ]
    # Open reports have their own card and table below.
    flag_counts = [
        (flag, FLAG_LABELS[flag], selectors.quality_queue(flag=flag).count())
        for flag in ItemFlag.values
    ]
    open_report_count, by_reason, recent_reports = practice_selectors.open_reports_overview()
    return {
        "days": days,
        "answered_total": sum(a for _, a, _ in days),
        "correct_total": sum(c for _, _, c in days),
        "answers_chart": charts.answers_per_day_chart(days),
        "weakest": weakest,
        "weakest_min_n": min_n,
        "weakest_chart": charts.horizontal_bar_chart(
            [(f"#{w['question_id']} v{w['version']}", w["facility"]) for w in weakest],
            xlabel="facility (proportion correct)",
            xmax=1.0,
        ),
        "flag_counts": flag_counts,
        "flags_chart": charts.horizontal_bar_chart(
            [(label, float(n)) for _, label, n in flag_counts], xlabel="questions", counts=True
        ),
        "open_report_count": open_report_count,
        "reports_by_reason": by_reason,
        "recent_reports": recent_reports,
    }
