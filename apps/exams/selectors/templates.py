"""Exam templates: which are active, whether the bank can fill them now, and what starting a
session reads of one."""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, Prefetch, QuerySet

from apps.core.exceptions import NotFound
from apps.exams.models import BlueprintItem, ExamTemplate, ExamTemplateQuestion, TemplateKind
from apps.exams.statements import FIXED_QUESTION_IDS, STARTABLE_TEMPLATE, instance
from apps.questions.selectors import published_questions


@dataclass(frozen=True)
class Availability:
    available: bool
    unavailable_reason: str | None = None


def _templates_with_plan() -> QuerySet[ExamTemplate]:
    return ExamTemplate.objects.prefetch_related(
        Prefetch("blueprint_items", queryset=BlueprintItem.objects.select_related("category")),
        Prefetch(
            "fixed_questions",
            queryset=ExamTemplateQuestion.objects.only("id", "template_id", "question_id", "order"),
        ),
    )


def template_availability(templates: Iterable[ExamTemplate]) -> dict[int, Availability]:
    """Whether the bank can fill each template now, in two queries however many templates.

    The templates must come with ``blueprint_items`` (with category) and ``fixed_questions``
    prefetched, as :func:`active_exam_templates` and :func:`active_exam_template` return them.
    """
    templates = list(templates)
    category_ids = {
        item.category_id
        for t in templates
        if t.kind == TemplateKind.BLUEPRINT
        for item in t.blueprint_items.all()
    }
    fixed_ids = {
        row.question_id
        for t in templates
        if t.kind == TemplateKind.FIXED
        for row in t.fixed_questions.all()
    }
    bank: dict[int, int] = {}
    if category_ids:
        bank = dict(
            published_questions()
            .filter(category_id__in=category_ids)
            .values_list("category_id")
            .annotate(n=Count("id"))
            .values_list("category_id", "n")
        )
    published_fixed: set[int] = set()
    if fixed_ids:
        published_fixed = set(
            published_questions().filter(id__in=fixed_ids).values_list("id", flat=True)
        )
    return {t.id: _availability(t, bank, published_fixed) for t in templates}


def fixed_template_availability(
    template: ExamTemplate, listed: Sequence[int], published: Container[int]
) -> Availability:
    """Whether a fixed template can start, given its listed question ids and which of them
    are published."""
    if len(listed) != template.total_questions:
        return Availability(
            False,
            f"The template lists {len(listed)} questions but declares {template.total_questions}.",
        )
    missing = sum(1 for qid in listed if qid not in published)
    if missing:
        return Availability(False, f"{missing} of the template's questions are not published.")
    return Availability(True)


def _availability(
    template: ExamTemplate, bank: dict[int, int], published_fixed: set[int]
) -> Availability:
    if template.kind == TemplateKind.FIXED:
        listed = [row.question_id for row in template.fixed_questions.all()]
        return fixed_template_availability(template, listed, published_fixed)
    items = list(template.blueprint_items.all())
    planned = sum(item.count for item in items)
    if planned != template.total_questions:
        return Availability(
            False,
            f"The blueprint adds up to {planned} questions but the template declares "
            f"{template.total_questions}.",
        )
    for item in items:
        have = bank.get(item.category_id, 0)
        if have < item.count:
            return Availability(
                False,
                f"The question bank has {have} of the {item.count} questions needed from "
                f"{item.category.name}.",
            )
    return Availability(True)


def active_exam_templates() -> list[tuple[ExamTemplate, Availability]]:
    """Active templates with their availability, in a fixed number of queries."""
    templates = list(_templates_with_plan().filter(is_active=True).order_by("paper", "name", "id"))
    availability = template_availability(templates)
    return [(t, availability[t.id]) for t in templates]


def active_exam_template(*, template_id: int) -> ExamTemplate:
    """An active template with its plan prefetched; unknown and inactive ones are not found."""
    template = _templates_with_plan().filter(id=template_id, is_active=True).first()
    if template is None:
        raise NotFound("No such exam template.")
    return template


def startable_exam_template(*, template_id: int) -> ExamTemplate:
    """An active template, without its plan (one light statement, compiled once: what starting
    a session reads first); unknown and inactive ones are not found."""
    row = STARTABLE_TEMPLATE.fetch_first(template_id=template_id)
    if row is None:
        raise NotFound("No such exam template.")
    return instance(ExamTemplate, row)


def fixed_question_ids(*, template_id: int) -> list[int]:
    """The question ids a fixed template lists, in the template's order."""
    return [row["question_id"] for row in FIXED_QUESTION_IDS.fetch(template_id=template_id)]
