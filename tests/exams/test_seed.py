from __future__ import annotations

import io
import json
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from apps.exams.models import BlueprintItem, ExamTemplate
from apps.exams.seed import DEMO_TEMPLATES, seed_demo
from apps.exams.selectors import active_exam_templates
from apps.exams.services import start_exam_session
from apps.taxonomy.models import Category
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

DEMO = Path(__file__).resolve().parents[2] / "apps"


def seed_taxonomy() -> None:
    """The demo syllabus (apps/taxonomy/demo_content/categories.json)."""
    rows = json.loads((DEMO / "taxonomy/demo_content/categories.json").read_text())
    for row in rows:
        CategoryFactory(slug=row["slug"], name=row["name"], order=row["order"])


def seed_demo_sized_bank() -> None:
    """A bank the size of the demo content: per category, as many published questions as
    apps/questions/demo_content/questions.json holds."""
    rows = json.loads((DEMO / "questions/demo_content/questions.json").read_text())
    per_category = Counter(row["category"] for row in rows)
    for category in Category.objects.all():
        for _ in range(per_category[category.slug]):
            make_question(category=category)


pytestmark = pytest.mark.django_db


def test_full_size_blueprints_follow_the_part_a_format():
    by_name = {t.name: t for t in DEMO_TEMPLATES}
    paper_1, paper_2 = by_name["Exam A, Paper 1"], by_name["Exam A, Paper 2"]
    assert (sum(paper_1.blueprint.values()), paper_1.duration_minutes) == (180, 180)
    assert (sum(paper_2.blueprint.values()), paper_2.duration_minutes) == (120, 120)
    for name in ("Demo Mock, Paper 1", "Demo Mock, Paper 2"):
        assert sum(by_name[name].blueprint.values()) == 20


def test_seed_is_idempotent_and_the_mocks_fit_a_demo_sized_bank(user):
    out = io.StringIO()
    seed_taxonomy()
    seed_demo_sized_bank()
    seed_demo(stdout=out)
    assert "skipped" not in out.getvalue().split("exams:", 1)[-1]
    snapshot = sorted(
        BlueprintItem.objects.values_list("template__name", "category__slug", "count")
    )
    seed_demo(stdout=io.StringIO())
    assert ExamTemplate.objects.count() == 4
    assert (
        sorted(BlueprintItem.objects.values_list("template__name", "category__slug", "count"))
        == snapshot
    )

    availability = {t.name: a for t, a in active_exam_templates()}
    assert availability["Demo Mock, Paper 1"].available
    assert availability["Demo Mock, Paper 2"].available
    # The demo bank is far smaller than a full paper: listed, but says why it cannot start.
    assert not availability["Exam A, Paper 1"].available
    assert availability["Exam A, Paper 1"].unavailable_reason
    for name in ("Demo Mock, Paper 1", "Demo Mock, Paper 2"):
        template = ExamTemplate.objects.get(name=name)
        session = start_exam_session(user=user, template_id=template.id).session
        assert len(session.question_ids) == 20
        assert session.expires_at - session.started_at == timedelta(minutes=30)


def test_seed_leaves_an_edited_template_alone():
    seed_taxonomy()
    seed_demo(stdout=io.StringIO())
    ExamTemplate.objects.filter(name="Demo Mock, Paper 1").update(duration_minutes=45)
    seed_demo(stdout=io.StringIO())
    assert ExamTemplate.objects.get(name="Demo Mock, Paper 1").duration_minutes == 45


def test_seed_skips_missing_categories_and_says_so():
    CategoryFactory(slug="anatomy-embryology", name="Anatomy & Embryology")
    out = io.StringIO()
    seed_demo(stdout=out)
    demo = ExamTemplate.objects.get(name="Demo Mock, Paper 1")
    assert demo.total_questions == 7
    assert list(demo.blueprint_items.values_list("category__slug", flat=True)) == [
        "anatomy-embryology"
    ]
    assert not ExamTemplate.objects.filter(name="Demo Mock, Paper 2").exists()
    assert "no categories" in out.getvalue()
    assert Category.objects.count() == 1
