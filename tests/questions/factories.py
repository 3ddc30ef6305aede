from __future__ import annotations

from typing import Any

import factory

from apps.questions.models import AnswerOption, Question, QuestionStatus, QuestionType
from apps.questions.normalisation import stem_fingerprint
from apps.taxonomy.models import Category
from tests.taxonomy.factories import CategoryFactory


class AnswerOptionFactory(factory.django.DjangoModelFactory[AnswerOption]):
    class Meta:
        model = AnswerOption

    text = factory.Sequence(lambda n: f"Option {n}")
    is_correct = False
    order = factory.Sequence(lambda n: n)


class QuestionFactory(factory.django.DjangoModelFactory[Question]):
    """A published question with a valid option set: single -> 5 options, one correct;
    multi -> 5 options, two correct. Pass ``options=[(text, is_correct), ...]`` to choose them,
    or ``options=[]`` for none."""

    class Meta:
        model = Question
        skip_postgeneration_save = True

    stem = factory.Sequence(
        lambda n: f"A 45-year-old patient presents with finding number {n}. What is the cause?"
    )
    stem_normalised = factory.LazyAttribute(lambda o: stem_fingerprint(o.stem))
    type = QuestionType.SINGLE
    category = factory.SubFactory(CategoryFactory)
    subcategory = None
    difficulty = 3
    explanation = "Because the anatomy says so."
    reference = "Standard textbook, chapter 1"
    status = QuestionStatus.PUBLISHED

    @factory.post_generation
    def options(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if not create:
            return
        if extracted is not None:
            specs = [(text, bool(correct)) for text, correct in extracted]
        else:
            n_correct = 2 if self.type == QuestionType.MULTI else 1
            specs = [(f"Option {chr(65 + i)} for Q{self.pk}", i < n_correct) for i in range(5)]
        AnswerOption.objects.bulk_create(
            [
                AnswerOption(question=self, text=text, is_correct=correct, order=i)
                for i, (text, correct) in enumerate(specs)
            ]
        )

    @factory.post_generation
    def tags(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create and extracted:
            self.tags.set(extracted)


def make_question(category: Category | None = None, type: str = "single", **kw: Any) -> Question:
    """A published question with options (see :class:`QuestionFactory`)."""
    if category is not None:
        kw["category"] = category
    return QuestionFactory(type=type, **kw)
