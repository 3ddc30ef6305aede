from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.cms.models import Page

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("client_name", ["user_client", "examiner_client"])
def test_non_editors_cannot_write_pages(request: pytest.FixtureRequest, client_name: str) -> None:
    client: APIClient = request.getfixturevalue(client_name)
    Page.objects.create(slug="terms", title="Terms", body="x")
    new = {"slug": "about", "title": "About"}
    assert client.post("/api/v1/pages", new, format="json").status_code == 403
    assert client.patch("/api/v1/pages/terms", {"title": "y"}, format="json").status_code == 403
    assert client.delete("/api/v1/pages/terms").status_code == 403
    assert Page.objects.get().title == "Terms"


def test_anonymous_write_is_401(api_client: APIClient) -> None:
    Page.objects.create(slug="terms", title="Terms", body="x")
    res = api_client.patch("/api/v1/pages/terms", {"title": "y"}, format="json")
    assert res.status_code == 401


def test_editor_manages_pages_with_audit(
    editor_client: APIClient, api_client: APIClient, editor: Any
) -> None:
    res = editor_client.post(
        "/api/v1/pages",
        {
            "slug": "about",
            "title": "About",
            "body": "<p>Hi</p><script>x</script>",
            "is_published": False,
        },
        format="json",
    )
    assert res.status_code == 201
    assert res.json()["body"] == "<p>Hi</p>"
    assert api_client.get("/api/v1/pages/about").status_code == 404  # not published yet
    res = editor_client.patch("/api/v1/pages/about", {"is_published": True}, format="json")
    assert res.status_code == 200
    assert api_client.get("/api/v1/pages/about").json()["title"] == "About"
    assert editor_client.delete("/api/v1/pages/about").status_code == 204
    assert list(AuditEvent.objects.order_by("id").values_list("action", flat=True)) == [
        "page.create",
        "page.update",
        "page.delete",
    ]
    assert AuditEvent.objects.filter(actor=editor).count() == 3


def test_taken_slug_and_bad_input(editor_client: APIClient) -> None:
    Page.objects.create(slug="terms", title="Terms", body="x")
    res = editor_client.post("/api/v1/pages", {"slug": "terms", "title": "T"}, format="json")
    assert res.status_code == 400
    assert "slug" in res.json()["fields"]
    res = editor_client.post("/api/v1/pages", {"slug": "bad slug!", "title": ""}, format="json")
    assert res.status_code == 400
    assert {"slug", "title"} <= set(res.json()["fields"])
    assert Page.objects.count() == 1
