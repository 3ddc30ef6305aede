"""The leak rule on every candidate-facing content endpoint: no ``is_correct``, no explanation,
no correct option ids, at any depth, whatever the filters."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.cms.models import FeaturedItem, Page
from tests.questions.factories import make_question
from tests.questions.leaks import assert_no_leak
from tests.resources.factories import ResourceFactory
from tests.taxonomy.factories import SubcategoryFactory, TagFactory

pytestmark = pytest.mark.django_db

SECRET = "EXPLANATION-THAT-MUST-NOT-LEAK"


@pytest.fixture
def bank() -> dict[str, Any]:
    sub = SubcategoryFactory(slug="thorax")
    tag = TagFactory(slug="lungs")
    single = make_question(category=sub.category, subcategory=sub, explanation=SECRET, tags=[tag])
    multi = make_question(category=sub.category, type="multi", explanation=SECRET)
    single.media.create(url="https://img.example.com/cxr.png", alt_text="Chest film")
    resource = ResourceFactory(category=sub.category)
    Page.objects.create(slug="privacy", title="Privacy", body="<p>p</p>")
    FeaturedItem.objects.create(title="Slide")
    return {"category": sub.category, "single": single, "multi": multi, "resource": resource}


@pytest.mark.parametrize("client_name", ["user_client", "examiner_client"])
def test_no_candidate_endpoint_leaks_the_key(
    request: pytest.FixtureRequest, client_name: str, bank: dict[str, Any]
) -> None:
    client: APIClient = request.getfixturevalue(client_name)
    slug = bank["category"].slug
    urls = [
        "/api/v1/categories",
        f"/api/v1/categories/{slug}",
        "/api/v1/questions",
        f"/api/v1/questions?category={slug}&subcategory=thorax&tag=lungs",
        "/api/v1/questions?search=patient",
        "/api/v1/questions?type=multi&page_size=100",
        f"/api/v1/questions/{bank['single'].pk}",
        f"/api/v1/questions/{bank['multi'].pk}",
        "/api/v1/resources",
        f"/api/v1/resources/{bank['resource'].pk}",
        "/api/v1/pages/privacy",
        "/api/v1/featured-items",
    ]
    correct_ids = {
        o.pk for q in (bank["single"], bank["multi"]) for o in q.options.filter(is_correct=True)
    }
    for url in urls:
        res = client.get(url)
        assert res.status_code == 200, url
        payload = res.json()
        assert_no_leak(payload, secrets=(SECRET,))
        # Option ids appear (candidates need them to answer) but never apart from their option.
        if "options" in str(payload):
            questions = payload.get("results", [payload]) if isinstance(payload, dict) else []
            for question in questions:
                for option in question.get("options", []):
                    assert set(option) == {"id", "text"}
        assert "correct_option" not in res.content.decode()
    assert correct_ids  # the fixture has a key to leak
