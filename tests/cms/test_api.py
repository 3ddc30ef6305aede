from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.cms.models import FeaturedItem, Page
from apps.core.richtext import sanitize_html

pytestmark = pytest.mark.django_db


def test_published_page_is_public(api_client: APIClient) -> None:
    Page.objects.create(slug="privacy", title="Privacy notice", body="<h2>Who we are</h2>")
    res = api_client.get("/api/v1/pages/privacy")
    assert res.status_code == 200
    body = res.json()
    assert body["title"] == "Privacy notice"
    assert body["body"] == "<h2>Who we are</h2>"
    assert "updated_at" in body


def test_page_works_with_a_bad_token_too(api_client: APIClient) -> None:
    Page.objects.create(slug="terms", title="Terms", body="x")
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get("/api/v1/pages/terms").status_code == 200


def test_unpublished_or_unknown_page_is_404(api_client: APIClient) -> None:
    Page.objects.create(slug="draft", title="Draft", body="x", is_published=False)
    for slug in ("draft", "nope"):
        res = api_client.get(f"/api/v1/pages/{slug}")
        assert res.status_code == 404
        assert res.json()["code"] == "not_found"


def test_page_body_is_sanitised_on_save() -> None:
    page = Page.objects.create(
        slug="x",
        title="X",
        body='<p>ok</p><script>document.cookie</script><img src=x onerror="y()">',
    )
    page.refresh_from_db()
    assert page.body == '<p>ok</p><img src="x">'


def test_featured_items_are_public_active_and_ordered(api_client: APIClient) -> None:
    FeaturedItem.objects.create(title="Second", order=2)
    FeaturedItem.objects.create(title="First", order=1)
    FeaturedItem.objects.create(title="Hidden", order=0, is_active=False)
    res = api_client.get("/api/v1/featured-items")
    assert res.status_code == 200
    assert [i["title"] for i in res.json()] == ["First", "Second"]


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<script>alert(1)</script>text", "text"),
        ('<a href="javascript:alert(1)">x</a>', '<a rel="noopener noreferrer">x</a>'),
        (
            '<a href="https://e.org">x</a>',
            '<a href="https://e.org" rel="noopener noreferrer">x</a>',
        ),
        ('<p style="color:red" onmouseover="x()">p</p>', "<p>p</p>"),
        ("<iframe src=//evil></iframe>after", "after"),
        ("a < b", "a &lt; b"),
        ("<svg><script>x</script></svg>", ""),
        ("", ""),
    ],
)
def test_sanitiser(dirty: str, clean: str) -> None:
    assert sanitize_html(dirty) == clean
    assert sanitize_html(sanitize_html(dirty)) == clean


def test_featured_items_query_count_is_constant(
    api_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    FeaturedItem.objects.create(title="One")
    with django_assert_max_num_queries(1):
        api_client.get("/api/v1/featured-items")
    for i in range(20):
        FeaturedItem.objects.create(title=f"Slide {i}", order=i)
    with django_assert_max_num_queries(1):
        res = api_client.get("/api/v1/featured-items")
    assert len(res.json()) == 21
