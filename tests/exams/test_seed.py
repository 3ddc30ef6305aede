"""The demo templates: paper mocks whose descriptions say exactly what they draw."""

from __future__ import annotations

import io
import re
from collections import Counter
from datetime import timedelta

import pytest

from apps.exams.models import BlueprintItem, ExamTemplate, TemplateKind
from apps.exams.seed import DEMO_TEMPLATES, EARLIER_DESCRIPTIONS, seed_demo
from apps.exams.selectors import active_exam_templates
from apps.exams.selectors.drawing import draw_plan
from apps.exams.selectors.standards import DEFAULT_BLUEPRINTS
from apps.exams.services import start_exam_session, submit_exam_session
from apps.questions.models import Question
from apps.questions.seed import seed_demo as seed_questions
from apps.taxonomy.models import Category
from apps.taxonomy.seed import seed_demo as seed_taxonomy
from tests.accounts.factories import UserFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

CLAIM = re.compile(
    r": (?P<total>\d+) single best answer questions: (?P<parts>[^.]+)\. (?P<minutes>\d+) minutes"
)


def claim(description: str) -> tuple[int, dict[str, int], int]:
    """(questions, {category name: questions}, minutes) as a description states them."""
    found = CLAIM.search(description)
    assert found, description
    parts = {}
    for part in found["parts"].split(", "):
        name, count = part.rsplit(" ", 1)
        parts[name] = int(count)
    return int(found["total"]), parts, int(found["minutes"])


@pytest.fixture
def demo_bank() -> None:
    """The demo syllabus and question bank as `make seed` loads them."""
    seed_taxonomy(stdout=io.StringIO())
    seed_questions(stdout=io.StringIO())


def test_every_seeded_template_draws_what_its_description_says(demo_bank):
    out = io.StringIO()
    seed_demo(stdout=out)
    assert "4 created" in out.getvalue()
    # The demo bank holds multiple response questions too, in the mocks' categories.
    assert Question.objects.filter(type="multi").exists()
    names = dict(Category.objects.values_list("id", "name"))
    availability = {t.name: a for t, a in active_exam_templates()}
    for spec in DEMO_TEMPLATES:
        template = ExamTemplate.objects.get(name=spec.name)
        assert template.kind == TemplateKind.PAPER
        total, parts, minutes = claim(template.description)
        assert total == template.total_questions == spec.questions
        if not availability[spec.name].available:
            # Full-length: the demo bank cannot fill it; the plan is what it says.
            plan = draw_plan(template)
            assert {names[c]: n for c, n in plan.counts.items()} == parts
            assert plan.duration_minutes == minutes
            continue
        # Two candidates, two sittings each: every paper is what the description says.
        for user in (UserFactory(), UserFactory()):
            for _ in range(2):
                session = start_exam_session(user=user, template_id=template.id).session
                drawn = Question.objects.filter(id__in=session.question_ids)
                assert len(session.question_ids) == total
                assert set(drawn.values_list("type", flat=True)) == {"single"}
                drawn_categories = drawn.values_list("category_id", flat=True)
                assert Counter(names[c] for c in drawn_categories) == parts
                assert session.expires_at - session.started_at == timedelta(minutes=minutes)
                submit_exam_session(session_id=session.id, user=user)
    assert availability["Demo Mock, Paper 1"].available
    assert availability["Demo Mock, Paper 2"].available
    assert not availability["Exam A, Paper 1"].available
    reason = availability["Exam A, Paper 1"].unavailable_reason or ""
    assert "single best answer questions" in reason


def test_the_full_length_papers_follow_the_part_a_format(demo_bank):
    seed_demo(stdout=io.StringIO())
    slugs = dict(Category.objects.values_list("id", "slug"))
    for name, paper, minutes in (("Exam A, Paper 1", 1, 180), ("Exam A, Paper 2", 2, 120)):
        plan = draw_plan(ExamTemplate.objects.get(name=name))
        assert {slugs[c]: n for c, n in plan.counts.items()} == DEFAULT_BLUEPRINTS[paper]
        assert plan.duration_minutes == minutes
        assert plan.single_best_answer_only


def test_two_demo_mocks_repeat_only_what_the_demo_bank_cannot_avoid(demo_bank):
    seed_demo(stdout=io.StringIO())
    user = UserFactory()
    single = Counter(Question.objects.filter(type="single").values_list("category_id", flat=True))
    shared = {}
    for name in ("Demo Mock, Paper 1", "Demo Mock, Paper 2"):
        template = ExamTemplate.objects.get(name=name)
        plan = draw_plan(template)
        sittings = []
        for _ in range(2):
            session = start_exam_session(user=user, template_id=template.id).session
            sittings.append(set(session.question_ids))
            submit_exam_session(session_id=session.id, user=user)
        # A category with fewer than two mocks' worth repeats the shortfall, no more.
        unavoidable = sum(max(0, 2 * n - single[c]) for c, n in plan.counts.items())
        shared[name] = len(sittings[0] & sittings[1])
        assert shared[name] == unavoidable
    # Paper 1's taster fits twice in the demo bank: no repeat at all.
    assert shared["Demo Mock, Paper 1"] == 0


def test_seed_is_idempotent_and_leaves_an_edited_template_alone(demo_bank):
    seed_demo(stdout=io.StringIO())
    ExamTemplate.objects.filter(name="Demo Mock, Paper 1").update(description="Edited.")
    before = sorted(ExamTemplate.objects.values_list("name", "kind", "total_questions"))
    out = io.StringIO()
    seed_demo(stdout=out)
    assert "0 created, 0 brought" in out.getvalue()
    assert sorted(ExamTemplate.objects.values_list("name", "kind", "total_questions")) == before
    assert ExamTemplate.objects.get(name="Demo Mock, Paper 1").description == "Edited."


def test_a_demo_mock_an_earlier_seed_wrote_is_brought_to_its_paper(demo_bank):
    anatomy = Category.objects.get(slug="anatomy-embryology")
    old_text = next(
        d for d in EARLIER_DESCRIPTIONS if d.startswith("A 30-minute taster of Paper 1")
    )
    old = ExamTemplate.objects.create(
        name="Demo Mock, Paper 1",
        paper=1,
        duration_minutes=30,
        total_questions=20,
        description=old_text,
        kind=TemplateKind.BLUEPRINT,
    )
    BlueprintItem.objects.create(template=old, category=anatomy, count=20)
    out = io.StringIO()
    seed_demo(stdout=out)
    assert "3 created, 1 brought" in out.getvalue()
    old.refresh_from_db()
    assert old.kind == TemplateKind.PAPER
    assert not old.blueprint_items.exists()
    assert claim(old.description)[0] == 20


def test_seed_skips_a_paper_without_blueprint_categories_and_says_so():
    CategoryFactory(slug="anatomy-embryology", name="Anatomy & Embryology")
    out = io.StringIO()
    seed_demo(stdout=out)
    demo = ExamTemplate.objects.get(name="Demo Mock, Paper 1")
    total, parts, _ = claim(demo.description)
    assert (total, parts) == (20, {"Anatomy & Embryology": 20})
    assert not ExamTemplate.objects.filter(name="Demo Mock, Paper 2").exists()
    assert "paper 2 has no blueprint" in out.getvalue()
    assert Category.objects.count() == 1
