from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from apps.resources.models import Resource
from tests.resources.factories import ResourceFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/resources"


def ids(client: APIClient, **params: Any) -> list[int]:
    res = client.get(URL, params)
    assert res.status_code == 200, res.json()
    return [r["id"] for r in res.json()["results"]]


def test_only_published_resources_are_listed(user_client: APIClient) -> None:
    visible = ResourceFactory()
    ResourceFactory(is_published=False)
    ResourceFactory(published_at=timezone.now() + timedelta(days=1))
    ResourceFactory(category=CategoryFactory(is_active=False))
    assert ids(user_client) == [visible.pk]


def test_filters(user_client: APIClient) -> None:
    cat = CategoryFactory(slug="trauma")
    video = ResourceFactory(kind="video", is_featured=True, category=cat)
    seminar = ResourceFactory(kind="seminar", category=cat)
    article = ResourceFactory(kind="article", is_featured=True)
    assert ids(user_client, featured="true") == [video.pk, article.pk]
    assert ids(user_client, featured="false") == [seminar.pk]
    assert ids(user_client, category="trauma") == [video.pk, seminar.pk]
    assert ids(user_client, kind="article") == [article.pk]
    assert ids(user_client, kind="seminar", category="trauma") == [seminar.pk]


def test_bad_kind_is_400(user_client: APIClient) -> None:
    res = user_client.get(URL, {"kind": "podcast"})
    assert res.status_code == 400
    assert "kind" in res.json()["fields"]


def test_shape_and_detail(user_client: APIClient) -> None:
    r = ResourceFactory(category=CategoryFactory(slug="anatomy", name="Anatomy"))
    res = user_client.get(f"{URL}/{r.pk}")
    assert res.status_code == 200
    body = res.json()
    assert body["category"] == {"slug": "anatomy", "name": "Anatomy"}
    assert {
        "id",
        "kind",
        "title",
        "author",
        "description",
        "duration_sec",
        "url",
        "thumbnail_url",
        "captions_url",
        "alt_text",
        "is_featured",
        "published_at",
    } <= set(body)


def test_unpublished_detail_is_404(user_client: APIClient) -> None:
    r = ResourceFactory(is_published=False)
    res = user_client.get(f"{URL}/{r.pk}")
    assert res.status_code == 404
    assert res.json()["code"] == "not_found"


def test_needs_auth(api_client: APIClient) -> None:
    assert api_client.get(URL).status_code == 401


def test_description_is_sanitised_on_save() -> None:
    r = ResourceFactory(
        description='<p onclick="x()">Hi</p><script>alert(1)</script><a href="javascript:x">l</a>'
    )
    r.refresh_from_db()
    assert "script" not in r.description
    assert "onclick" not in r.description
    assert "javascript" not in r.description
    assert r.description.startswith("<p>Hi</p>")


def test_list_query_count_is_constant(
    user_client: APIClient, django_assert_max_num_queries: Any
) -> None:
    for _ in range(30):
        ResourceFactory(category=CategoryFactory())

    def count(page_size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            res = user_client.get(URL, {"page_size": page_size})
        assert len(res.json()["results"]) == page_size
        return len(ctx.captured_queries)

    small = count(2)
    with django_assert_max_num_queries(small):
        user_client.get(URL, {"page_size": 30})
    assert Resource.objects.count() == 30
