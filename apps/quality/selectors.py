"""Reads of item quality for staff: the quality queue and one question's statistics per version.

The queue shows one row per analysed question: the statistics of its latest analysed version
(a question re-keyed today keeps showing the old version's numbers, and its flags, until first
attempts on the new version are analysed). ``reported`` is not stored: it is computed from the
open candidate reports, here, so resolving a report takes the question off that filter at once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils.html import strip_tags

from apps.core.db_routing import reading_from_replica
from apps.core.exceptions import NotFound
from apps.practice.selectors import open_report_count
from apps.quality.models import ItemFlag, ItemStatistics
from apps.questions.models import Question
from apps.questions.selectors import versions_of
from apps.readiness.models import ItemParameter
from apps.readiness.selectors import item_parameters

FLAG_REPORTED = "reported"
QUEUE_FLAGS: tuple[str, ...] = (*ItemFlag.values, FLAG_REPORTED)
QUEUE_ORDERINGS: dict[str, tuple[str, ...]] = {
    "n": ("n", "question_id"),
    "-n": ("-n", "question_id"),
    "facility": ("facility", "question_id"),
    "-facility": ("-facility", "question_id"),
    "discrimination": ("discrimination", "question_id"),
    "-discrimination": ("-discrimination", "question_id"),
    "open_reports": ("open_reports", "question_id"),
    "-open_reports": ("-open_reports", "-n", "question_id"),
}
DEFAULT_QUEUE_ORDERING = "-open_reports"
EXCERPT_CHARS = 80
_ROW_FIELDS = (
    "question_id",
    "version",
    "n",
    "facility",
    "discrimination",
    "flags",
    "suspected_option_id",
)


def current_versions(*, question_ids: Collection[int]) -> dict[int, int]:
    """``{question_id: current version number}`` for those of these questions that exist."""
    if not question_ids:
        return {}
    return dict(Question.objects.filter(id__in=list(question_ids)).values_list("id", "version"))


def quality_queue(*, flag: str | None = None, ordering: str | None = None) -> QuerySet[Any]:
    """The latest analysed version of each question, with ``open_reports`` annotated and the
    question joined (for the stem), filtered by one flag and ordered by one of
    :data:`QUEUE_ORDERINGS`. A count and a page are one statement each."""
    latest = (
        ItemStatistics.objects.filter(question_id=OuterRef("question_id"))
        .order_by("-version")
        .values("version")[:1]
    )
    rows = (
        ItemStatistics.objects.filter(version=Subquery(latest))
        .annotate(open_reports=open_report_count(question_ref="question_id"))
        .select_related("question")
        .only(*_ROW_FIELDS, "question__id", "question__stem")
    )
    if flag == FLAG_REPORTED:
        rows = rows.filter(open_reports__gt=0)
    elif flag:
        rows = rows.filter(Q(flags__contains=[flag]))
    return rows.order_by(*QUEUE_ORDERINGS[ordering or DEFAULT_QUEUE_ORDERING])


def stem_excerpt(stem: str) -> str:
    """The stem as plain text, cut at a word to about :data:`EXCERPT_CHARS` characters."""
    text = " ".join(strip_tags(stem).split())
    if len(text) <= EXCERPT_CHARS:
        return text
    cut = text[:EXCERPT_CHARS].rsplit(" ", 1)[0] or text[:EXCERPT_CHARS]
    return f"{cut.rstrip(' ,.;:')} ..."


@dataclass(frozen=True)
class VersionStatistics:
    """One version as ``GET /staff/questions/{id}/stats`` shows it; a version with no analysed
    first attempts yet has ``n`` 0 and no statistics."""

    version: int
    created_at: datetime | None
    n: int
    facility: float | None
    discrimination: float | None
    upper_lower_index: float | None
    median_time_sec: float | None
    flags: list[str]
    suspected_option_id: int | None
    options: list[dict[str, Any]]
    computed_at: datetime | None
    # The version's Rasch calibration (readiness), with its own n: {"difficulty", "se", "n",
    # "infit", "outfit"}; None until a nightly calibration has seen the version.
    irt: dict[str, Any] | None = None


@dataclass(frozen=True)
class QuestionStatistics:
    id: int
    versions: list[VersionStatistics]


def ensure_question_exists(*, question_id: int) -> None:
    """NotFound unless the question exists (any status: staff analyse drafts and retired
    questions too)."""
    if not Question.objects.filter(id=question_id).exists():
        raise NotFound("No such question.")


@reading_from_replica()
def question_statistics(*, question_id: int) -> QuestionStatistics:
    """Every version of the question (its snapshots and any version with statistics), newest
    first. Three statements. NotFound for an unknown question."""
    ensure_question_exists(question_id=question_id)
    snapshots = {v.number: v.created_at for v in versions_of(question_id=question_id)}
    stored = {s.version: s for s in ItemStatistics.objects.filter(question_id=question_id)}
    calibrated = item_parameters(question_id=question_id)
    versions: list[VersionStatistics] = []
    for number in sorted(set(snapshots) | set(stored) | set(calibrated), reverse=True):
        row = stored.get(number)
        versions.append(
            VersionStatistics(
                version=number,
                created_at=snapshots.get(number),
                n=row.n if row else 0,
                facility=row.facility if row else None,
                discrimination=row.discrimination if row else None,
                upper_lower_index=row.upper_lower_index if row else None,
                median_time_sec=row.median_time_sec if row else None,
                flags=list(row.flags) if row else [],
                suspected_option_id=row.suspected_option_id if row else None,
                options=list(row.options) if row else [],
                computed_at=row.computed_at if row else None,
                irt=_irt(calibrated.get(number)),
            )
        )
    return QuestionStatistics(id=question_id, versions=versions)


def _irt(parameters: ItemParameter | None) -> dict[str, Any] | None:
    if parameters is None:
        return None
    return {
        "difficulty": round(parameters.difficulty, 3),
        "se": round(parameters.se, 3),
        "n": parameters.n,
        "infit": None if parameters.infit is None else round(parameters.infit, 2),
        "outfit": None if parameters.outfit is None else round(parameters.outfit, 2),
    }
