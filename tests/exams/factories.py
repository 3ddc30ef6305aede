from __future__ import annotations

from typing import Any

import factory

from apps.exams.models import (
    BlueprintItem,
    ExamPaper,
    ExamSession,
    ExamTemplate,
    ExamTemplateQuestion,
    TemplateKind,
)
from apps.questions.grading import answer_keys
from apps.questions.models import Question
from apps.taxonomy.models import Category
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory


class ExamTemplateFactory(factory.django.DjangoModelFactory[ExamTemplate]):
    class Meta:
        model = ExamTemplate

    name = factory.Sequence(lambda n: f"Mock exam {n}, Paper 1")
    paper = ExamPaper.PAPER_1
    duration_minutes = 30
    total_questions = 4
    description = "A short mock."
    is_active = True
    kind = TemplateKind.BLUEPRINT


def make_bank(
    *, categories: int = 2, per_category: int = 5, type: str = "single"
) -> list[Category]:
    """``categories`` categories with ``per_category`` published questions each."""
    made = []
    for _ in range(categories):
        category = CategoryFactory()
        for _ in range(per_category):
            make_question(category=category, type=type)
        made.append(category)
    return made


def blueprint_template(plan: dict[Category, int], **kw: Any) -> ExamTemplate:
    kw.setdefault("total_questions", sum(plan.values()))
    template = ExamTemplateFactory(kind=TemplateKind.BLUEPRINT, **kw)
    for category, count in plan.items():
        BlueprintItem.objects.create(template=template, category=category, count=count)
    return template


def fixed_template(questions: list[Question], **kw: Any) -> ExamTemplate:
    kw.setdefault("total_questions", len(questions))
    template = ExamTemplateFactory(kind=TemplateKind.FIXED, **kw)
    ExamTemplateQuestion.objects.bulk_create(
        ExamTemplateQuestion(template=template, question=q, order=i)
        for i, q in enumerate(questions)
    )
    return template


def correct_answers(session: ExamSession) -> dict[int, list[int]]:
    """The key of every question in the session."""
    return answer_keys(question_ids=session.question_ids)


def wrong_option(session: ExamSession, question_id: int) -> int:
    key = set(answer_keys(question_ids=[question_id])[question_id])
    return next(o for o in session.option_order[str(question_id)] if o not in key)
