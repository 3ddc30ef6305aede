from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.resources.models import Resource
from tests.resources.factories import ResourceFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/resources"


def body(**over: Any) -> dict[str, Any]:
    data = {
        "kind": "seminar",
        "title": "Perioperative fluids",
        "author": "Dr B",
        "description": "<p>Fluids</p><script>x()</script>",
        "duration_sec": 3600,
        "category": CategoryFactory(slug="periop").slug,
        "url": "https://learn.example.com/fluids",
        "is_featured": True,
    }
    data.update(over)
    return data


@pytest.mark.parametrize("client_name", ["user_client", "examiner_client"])
def test_non_editors_cannot_write(request: pytest.FixtureRequest, client_name: str) -> None:
    client: APIClient = request.getfixturevalue(client_name)
    r = ResourceFactory()
    assert client.post(URL, body(), format="json").status_code == 403
    assert client.patch(f"{URL}/{r.pk}", {"title": "x"}, format="json").status_code == 403
    assert client.delete(f"{URL}/{r.pk}").status_code == 403
    assert Resource.objects.count() == 1
    assert not AuditEvent.objects.exists()


def test_editor_creates_updates_and_deletes_with_audit(
    editor_client: APIClient, editor: Any
) -> None:
    res = editor_client.post(URL, body(), format="json")
    assert res.status_code == 201, res.json()
    created = res.json()
    assert created["description"] == "<p>Fluids</p>"
    assert created["category"]["slug"] == "periop"
    assert created["is_published"] is True
    assert created["published_at"] is not None
    rid = created["id"]

    res = editor_client.patch(
        f"{URL}/{rid}", {"is_published": False, "title": "Fluids 101"}, format="json"
    )
    assert res.status_code == 200
    assert res.json()["title"] == "Fluids 101"
    # candidates no longer see it; the editor still does
    assert editor_client.get(f"{URL}/{rid}").status_code == 200

    assert editor_client.delete(f"{URL}/{rid}").status_code == 204
    assert not Resource.objects.exists()
    events = list(AuditEvent.objects.order_by("id").values_list("action", "actor_id"))
    assert events == [
        ("resource.create", editor.pk),
        ("resource.update", editor.pk),
        ("resource.delete", editor.pk),
    ]


def test_unpublished_resource_is_hidden_from_candidates(user_client: APIClient) -> None:
    r = ResourceFactory(is_published=False)
    assert user_client.get(f"{URL}/{r.pk}").status_code == 404


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"kind": "podcast"}, "kind"),
        ({"url": "not a url"}, "url"),
        ({"category": "nope"}, "category"),
        ({"title": ""}, "title"),
        ({"duration_sec": -1}, "duration_sec"),
    ],
)
def test_bad_input_is_400(editor_client: APIClient, override: dict[str, Any], field: str) -> None:
    res = editor_client.post(URL, body(**override), format="json")
    assert res.status_code == 400
    assert field in res.json()["fields"]
    assert not Resource.objects.exists()


def test_duplicate_kind_and_title_is_400(editor_client: APIClient) -> None:
    assert editor_client.post(URL, body(), format="json").status_code == 201
    res = editor_client.post(URL, body(), format="json")
    assert res.status_code == 400
    assert res.json()["code"] == "validation_error"
    assert Resource.objects.count() == 1


def test_patch_unknown_is_404(editor_client: APIClient) -> None:
    assert editor_client.patch(f"{URL}/999999", {"title": "x"}, format="json").status_code == 404
