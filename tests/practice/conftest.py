"""Practice fixtures: a small question bank in two categories, and helpers for answers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from apps.accounts.models import User
from apps.practice import services
from apps.practice.models import PracticeSession
from apps.questions.models import AnswerOption, Question
from apps.taxonomy.models import Category, Subcategory
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory


@dataclass
class Bank:
    anatomy: Category
    physiology: Category
    anatomy_sub: Subcategory
    anatomy_questions: list[Question]  # single best answer; the first two in anatomy_sub
    physiology_questions: list[Question]  # multiple response

    @property
    def all_questions(self) -> list[Question]:
        return self.anatomy_questions + self.physiology_questions


@pytest.fixture
def bank(db: Any) -> Bank:
    anatomy = CategoryFactory(name="Anatomy & Embryology", slug="anatomy-embryology", order=1)
    physiology = CategoryFactory(name="Physiology", slug="physiology", order=2)
    sub = SubcategoryFactory(category=anatomy, name="Upper limb", slug="upper-limb")
    anatomy_questions = [
        make_question(anatomy, "single", subcategory=sub if i < 2 else None) for i in range(6)
    ]
    physiology_questions = [make_question(physiology, "multi") for _ in range(4)]
    return Bank(anatomy, physiology, sub, anatomy_questions, physiology_questions)


def correct_ids(question: Question | int) -> list[int]:
    qid = question if isinstance(question, int) else question.pk
    return sorted(
        AnswerOption.objects.filter(question_id=qid, is_correct=True).values_list("id", flat=True)
    )


def wrong_ids(question: Question | int) -> list[int]:
    """One wrong option: a valid selection for either question type that is never right."""
    qid = question if isinstance(question, int) else question.pk
    wrong = AnswerOption.objects.filter(question_id=qid, is_correct=False).order_by("id")
    return [wrong.values_list("id", flat=True)[0]]


def start_session(user: User, count: int = 5, **kwargs: Any) -> PracticeSession:
    return services.create_practice_session(user=user, question_count=count, **kwargs)


def answer(
    user: User, session: PracticeSession, question_id: int, *, right: bool, seconds: int = 10
) -> services.AnswerFeedback:
    return services.record_practice_answer(
        user=user,
        session_id=session.pk,
        question_id=question_id,
        selected_option_ids=correct_ids(question_id) if right else wrong_ids(question_id),
        time_spent_sec=seconds,
    )
