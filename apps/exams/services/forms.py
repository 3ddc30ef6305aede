"""Fixed forms: one draw of a blueprint or paper template frozen into a fixed template, so that
every candidate who sits it answers the same questions in the same order and their scores
compare (Exam A, B, C of a paper)."""

from __future__ import annotations

import random
import string

from django.db import transaction
from django.db.models import Prefetch

from apps.accounts.models import User
from apps.audit.services import record_event
from apps.core.exceptions import NotFound, ValidationFailed
from apps.exams.exceptions import TemplateUnfillable
from apps.exams.models import BlueprintItem, ExamTemplate, ExamTemplateQuestion, TemplateKind
from apps.exams.selectors.drawing import draw_plan, plan_summary
from apps.exams.selectors.templates import plan_mismatch
from apps.exams.services.starting import draw_exam_paper


def _form_name(source: ExamTemplate) -> str:
    """``"<source>, form A"``, or the first letter not taken yet."""
    taken = set(
        ExamTemplate.objects.filter(name__startswith=f"{source.name}, form ").values_list(
            "name", flat=True
        )
    )
    for letter in string.ascii_uppercase:
        name = f"{source.name}, form {letter}"
        if name not in taken:
            return name
    raise ValidationFailed(f"{source.name} already has a form for every letter.")


def publish_fixed_form(
    *, template_id: int, actor: User, name: str | None = None, seed: int | None = None
) -> ExamTemplate:
    """Draws the blueprint or paper template ``template_id`` once, with no candidate's history
    (so no candidate's past decides what everybody sits), and publishes the draw as an active
    fixed template: the same questions in the same order for everyone (``shuffle_questions``
    off), the source's paper and time. Audited as ``exam_template.publish_form``.

    Raises ``NotFound``, ``ValidationFailed`` (a fixed template, a name in use) and
    ``TemplateUnfillable`` (the bank cannot fill the source now)."""
    source = (
        ExamTemplate.objects.prefetch_related(
            Prefetch("blueprint_items", queryset=BlueprintItem.objects.select_related("category"))
        )
        .filter(id=template_id)
        .first()
    )
    if source is None:
        raise NotFound("No such exam template.")
    if source.kind == TemplateKind.FIXED:
        raise ValidationFailed("A fixed template is a form already; publish from a drawn one.")
    plan = draw_plan(source)
    if plan.total != source.total_questions or not plan.counts:
        raise TemplateUnfillable(f"{source.name} cannot be drawn: {plan_mismatch(source, plan)}")
    name = name or _form_name(source)
    if ExamTemplate.objects.filter(name=name).exists():
        raise ValidationFailed(f"A template named {name!r} exists already.")
    if seed is None:
        seed = random.SystemRandom().getrandbits(62)
    question_ids, _ = draw_exam_paper(template=source, seed=seed, plan=plan)
    with transaction.atomic():
        form = ExamTemplate.objects.create(
            name=name,
            paper=source.paper,
            kind=TemplateKind.FIXED,
            duration_minutes=plan.duration_minutes,
            total_questions=len(question_ids),
            shuffle_questions=False,
            is_active=True,
            description=(
                f"A fixed form of {source.name}: {plan_summary(plan)}; in "
                f"{plan.duration_minutes} minutes. Every candidate sits the same questions in "
                "the same order, so scores on it compare."
            ),
        )
        ExamTemplateQuestion.objects.bulk_create(
            ExamTemplateQuestion(template=form, question_id=qid, order=index)
            for index, qid in enumerate(question_ids)
        )
        record_event(
            kind="content",
            action="exam_template.publish_form",
            actor=actor,
            target=form,
            before={"source_template_id": source.id, "source_name": source.name},
            after={
                "name": form.name,
                "paper": form.paper,
                "seed": str(seed),
                "duration_minutes": form.duration_minutes,
                "fixed_question_ids": question_ids,
            },
        )
    return form
