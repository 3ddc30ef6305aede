from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.resources.selectors import featured_resource_rows
from tests.resources.factories import ResourceFactory

pytestmark = pytest.mark.django_db


def test_featuring_in_the_admin_clears_the_shared_featured_list(
    editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    resource = ResourceFactory(is_published=True, is_featured=False)
    assert featured_resource_rows() == []  # now cached
    web = Client()
    web.force_login(editor)
    with django_capture_on_commit_callbacks(execute=True):
        response = web.post(
            "/admin/resources/resource/",
            {"action": "feature", "_selected_action": [str(resource.pk)]},
        )
    assert response.status_code == 302
    assert [r["id"] for r in featured_resource_rows()] == [resource.pk]
