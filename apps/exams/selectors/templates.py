"""Exam templates: which are active, whether the bank can fill them now, and what starting a
session reads of one."""

from __future__ import annotations

from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from apps.core.exceptions import NotFound
from apps.exams.models import BlueprintItem, ExamTemplate, ExamTemplateQuestion, TemplateKind
from apps.exams.selectors.drawing import DrawPlan, draw_plan
from apps.exams.selectors.standards import part_a_standard
from apps.exams.statements import FIXED_QUESTION_IDS, STARTABLE_TEMPLATE, instance
from apps.questions.models import QuestionType
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


def template_availability(
    templates: Iterable[ExamTemplate], *, plans: dict[int, DrawPlan] | None = None
) -> dict[int, Availability]:
    """Whether the bank can fill each template now, in two queries however many templates (and
    the exam standard's four when a paper template is among them).

    The templates must come with ``blueprint_items`` (with category) and ``fixed_questions``
    prefetched, as :func:`active_exam_templates` and :func:`active_exam_template` return them.
    ``plans``: their :func:`template_plans`, when the caller has them.
    """
    templates = list(templates)
    if plans is None:
        plans = template_plans(templates)
    category_ids = {cid for plan in plans.values() for cid in plan.counts}
    fixed_ids = {
        row.question_id
        for t in templates
        if t.kind == TemplateKind.FIXED
        for row in t.fixed_questions.all()
    }
    bank: dict[int, tuple[int, int]] = {}
    if category_ids:
        bank = {
            category_id: (n, single)
            for category_id, n, single in published_questions()
            .filter(category_id__in=category_ids)
            .values_list("category_id")
            .annotate(n=Count("id"), single=Count("id", filter=Q(type=QuestionType.SINGLE)))
            .values_list("category_id", "n", "single")
        }
    published_fixed: set[int] = set()
    if fixed_ids:
        published_fixed = set(
            published_questions().filter(id__in=fixed_ids).values_list("id", flat=True)
        )
    return {t.id: _availability(t, plans.get(t.id), bank, published_fixed) for t in templates}


def template_plans(templates: Iterable[ExamTemplate]) -> dict[int, DrawPlan]:
    """The plan of each drawn (blueprint or paper) template, reading the exam standard once if
    any is a paper template. Blueprint templates need ``blueprint_items`` prefetched."""
    templates = list(templates)
    standard = part_a_standard() if any(t.kind == TemplateKind.PAPER for t in templates) else None
    return {
        t.id: draw_plan(t, standard=standard) for t in templates if t.kind != TemplateKind.FIXED
    }


def plan_mismatch(template: ExamTemplate, plan: DrawPlan) -> str:
    """Why a drawn template's plan cannot be used as it stands."""
    if template.kind == TemplateKind.PAPER:
        return f"Paper {template.paper} has no blueprint to draw from."
    return (
        f"The blueprint adds up to {plan.total} questions but the template declares "
        f"{template.total_questions}."
    )


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
    template: ExamTemplate,
    plan: DrawPlan | None,
    bank: dict[int, tuple[int, int]],
    published_fixed: set[int],
) -> Availability:
    if template.kind == TemplateKind.FIXED or plan is None:
        listed = [row.question_id for row in template.fixed_questions.all()]
        return fixed_template_availability(template, listed, published_fixed)
    if plan.total != template.total_questions or not plan.counts:
        return Availability(False, plan_mismatch(template, plan))
    kind = "single best answer questions" if plan.single_best_answer_only else "questions"
    for category_id, count in plan.counts.items():
        every, single = bank.get(category_id, (0, 0))
        have = single if plan.single_best_answer_only else every
        if have < count:
            return Availability(
                False,
                f"The question bank has {have} of the {count} {kind} needed from "
                f"{plan.category_names.get(category_id, category_id)}.",
            )
    return Availability(True)


def active_exam_templates() -> list[tuple[ExamTemplate, Availability]]:
    """Active templates with their availability, in a fixed number of queries. A paper
    template carries its paper's time for its length in ``duration_minutes`` (what a session of
    it gets; the stored value is not used and these instances are never saved)."""
    templates = list(_templates_with_plan().filter(is_active=True).order_by("paper", "name", "id"))
    plans = template_plans(templates)
    availability = template_availability(templates, plans=plans)
    for template in templates:
        if template.kind == TemplateKind.PAPER:
            template.duration_minutes = plans[template.id].duration_minutes
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
