from __future__ import annotations

import pytest

from apps.questions.models import QuestionStatus
from apps.questions.normalisation import stem_fingerprint
from tests.questions.factories import QuestionFactory, make_question
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory

pytestmark = pytest.mark.django_db


def test_single_question_has_five_options_one_correct() -> None:
    q = make_question()
    flags = list(q.options.values_list("is_correct", flat=True))
    assert len(flags) == 5
    assert sum(flags) == 1
    assert q.status == QuestionStatus.PUBLISHED
    assert q.stem_normalised == stem_fingerprint(q.stem)


def test_multi_question_has_two_correct() -> None:
    q = make_question(type="multi")
    assert sum(q.options.values_list("is_correct", flat=True)) == 2


def test_category_and_explicit_options() -> None:
    cat = CategoryFactory()
    q = QuestionFactory(category=cat, options=[("a", True), ("b", False)])
    assert q.category == cat
    assert list(q.options.values_list("text", "is_correct")) == [("a", True), ("b", False)]


def test_subcategory_belongs_to_its_category() -> None:
    sub = SubcategoryFactory()
    q = make_question(category=sub.category, subcategory=sub)
    assert q.subcategory is not None
    assert q.subcategory.category_id == q.category_id
