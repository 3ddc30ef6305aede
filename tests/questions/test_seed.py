from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Count, Q

from apps.cms import seed as cms_seed
from apps.cms.models import Page
from apps.questions import seed as questions_seed
from apps.questions.models import AnswerOption, Question, QuestionStatus
from apps.questions.services import validate_option_set
from apps.resources import seed as resources_seed
from apps.resources.models import Resource
from apps.taxonomy import seed as taxonomy_seed
from apps.taxonomy.models import Category, Subcategory, Tag

pytestmark = pytest.mark.django_db


def counts() -> dict[str, int]:
    return {
        "categories": Category.objects.count(),
        "subcategories": Subcategory.objects.count(),
        "tags": Tag.objects.count(),
        "questions": Question.objects.count(),
        "options": AnswerOption.objects.count(),
        "resources": Resource.objects.count(),
        "pages": Page.objects.count(),
    }


def seed_all(**paths: Path) -> str:
    out = io.StringIO()
    taxonomy_seed.seed_demo(stdout=out, path=paths.get("categories"))
    questions_seed.seed_demo(stdout=out, path=paths.get("questions"))
    resources_seed.seed_demo(stdout=out, path=paths.get("resources"))
    cms_seed.seed_demo(stdout=out, path=paths.get("pages"))
    return out.getvalue()


@pytest.fixture
def small_content(tmp_path: Path) -> dict[str, Path]:
    files: dict[str, Any] = {
        "categories": [
            {
                "name": "Anatomy",
                "slug": "anatomy",
                "description": "d",
                "order": 1,
                "subcategories": [{"name": "Thorax", "slug": "thorax"}],
            },
            {
                "name": "Trauma",
                "slug": "trauma",
                "description": "",
                "order": 2,
                "subcategories": [],
            },
        ],
        "questions": [
            {
                "category": "anatomy",
                "subcategory": "thorax",
                "type": "single",
                "difficulty": 2,
                "stem": "Which nerve crosses the arch of the aorta?",
                "options": [
                    {"text": "Left vagus", "is_correct": True},
                    {"text": "Phrenic", "is_correct": False},
                ],
                "explanation": "<p>The left vagus.</p>",
                "reference": "Last",
                "tags": ["thorax", "nerves"],
            },
            {
                "category": "trauma",
                "subcategory": None,
                "type": "multi",
                "difficulty": 3,
                "stem": "Which are life-threatening chest injuries?",
                "options": [
                    {"text": "Tension pneumothorax", "is_correct": True},
                    {"text": "Massive haemothorax", "is_correct": True},
                    {"text": "Rib fracture", "is_correct": False},
                ],
                "explanation": "ATLS",
                "reference": "ATLS",
                "tags": [],
            },
            {
                "category": "trauma",
                "type": "single",
                "difficulty": 3,
                "stem": "Broken: two keys",
                "options": [{"text": "a", "is_correct": True}, {"text": "b", "is_correct": True}],
            },
            {
                "category": "nowhere",
                "type": "single",
                "stem": "Unknown category",
                "options": [{"text": "a", "is_correct": True}, {"text": "b", "is_correct": False}],
            },
        ],
        "resources": [
            {
                "kind": "video",
                "title": "Thorax in 10 minutes",
                "author": "Dr A",
                "description": "<b>x</b>",
                "duration_sec": 600,
                "category": "anatomy",
                "url": "https://e.org/v",
                "thumbnail_url": "https://e.org/t.jpg",
                "is_featured": True,
            },
            {"kind": "article", "title": "No URL", "category": "anatomy", "url": "not a url"},
        ],
        "pages": [
            {"slug": "privacy", "title": "Privacy", "body": "<p>p</p>"},
            {"slug": "terms", "title": "Terms", "body": "<p>t</p>"},
        ],
    }
    paths = {}
    for name, data in files.items():
        paths[name] = tmp_path / f"{name}.json"
        paths[name].write_text(json.dumps(data))
    return paths


def test_loaders_create_content_and_are_idempotent(small_content: dict[str, Path]) -> None:
    output = seed_all(**small_content)
    first = counts()
    assert first == {
        "categories": 2,
        "subcategories": 1,
        "tags": 2,
        "questions": 2,
        "options": 5,
        "resources": 1,
        "pages": 2,
    }
    assert "skipped #3" in output
    assert "skipped #4: unknown category 'nowhere'" in output
    assert "skipped 'No URL'" in output
    assert set(Question.objects.values_list("status", flat=True)) == {QuestionStatus.PUBLISHED}
    assert Resource.objects.get().is_featured is True

    seed_all(**small_content)
    assert counts() == first


def test_reseeding_never_undoes_an_editors_change(small_content: dict[str, Path]) -> None:
    seed_all(**small_content)
    Category.objects.filter(slug="anatomy").update(name="Anatomy & Embryology")
    Page.objects.filter(slug="privacy").update(title="Privacy notice (v2)")
    seed_all(**small_content)
    assert Category.objects.get(slug="anatomy").name == "Anatomy & Embryology"
    assert Page.objects.get(slug="privacy").title == "Privacy notice (v2)"


def test_missing_files_are_reported_not_fatal(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    output = seed_all(categories=missing, questions=missing, resources=missing, pages=missing)
    assert output.count("no demo content") == 4
    assert counts()["categories"] == 0


def test_the_demo_content_seeds_a_real_looking_bank() -> None:
    seed_all()
    first = counts()
    assert first["categories"] >= 20
    assert first["questions"] >= 100
    assert Question.objects.filter(status=QuestionStatus.PUBLISHED).count() == first["questions"]
    empty = Category.objects.annotate(n=Count("questions")).filter(n=0)
    assert list(empty.values_list("slug", flat=True)) == []
    for q in Question.objects.prefetch_related("options"):
        options = [{"text": o.text, "is_correct": o.is_correct} for o in q.options.all()]
        assert validate_option_set(type=q.type, options=options) == [], q.stem
        assert q.explanation
    assert Resource.objects.filter(is_featured=True).exists()
    assert {"privacy", "terms"} <= set(Page.objects.values_list("slug", flat=True))
    seed_all()
    assert counts() == first


def test_seed_synthetic_adds_valid_published_marked_questions() -> None:
    a = Category.objects.create(name="A", slug="a")
    b = Category.objects.create(name="B", slug="b")
    Category.objects.create(name="Off", slug="off", is_active=False)
    assert questions_seed.seed_synthetic(count=70, batch_size=25) == 70
    assert questions_seed.seed_synthetic(count=0) == 0
    qs = Question.objects.all()
    assert qs.count() == 70
    assert set(qs.values_list("is_synthetic", "status")) == {(True, QuestionStatus.PUBLISHED)}
    assert set(qs.values_list("category", flat=True)) == {a.pk, b.pk}
    assert all(q.stem.startswith("[Synthetic") for q in qs)
    assert qs.values("stem_normalised").distinct().count() == 70
    per_question = qs.annotate(
        n=Count("options"), correct=Count("options", filter=Q(options__is_correct=True))
    )
    for q in per_question:
        assert q.n == 5
        assert q.correct == (2 if q.type == "multi" else 1)
    assert qs.filter(type="multi").exists()
    # another run adds more, with different stems
    assert questions_seed.seed_synthetic(count=10) == 10
    assert Question.objects.values("stem_normalised").distinct().count() == 80
