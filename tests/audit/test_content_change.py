from __future__ import annotations

from typing import Any

import pytest

from apps.audit.models import AuditEvent
from apps.audit.services import record_content_change
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


def test_an_update_that_changed_nothing_is_not_recorded(editor: Any) -> None:
    category = CategoryFactory()
    same = {"name": category.name}
    assert (
        record_content_change(
            action="category.update", actor=editor, target=category, before=same, after=same
        )
        is None
    )
    assert not AuditEvent.objects.exists()


def test_a_change_is_recorded_with_its_target_and_values(editor: Any) -> None:
    category = CategoryFactory(name="Old")
    event = record_content_change(
        action="category.update",
        actor=editor,
        target=category,
        before={"name": "Old"},
        after={"name": "New"},
    )
    assert event is not None
    stored = AuditEvent.objects.get()
    assert (stored.kind, stored.action, stored.actor) == ("content", "category.update", editor)
    assert (stored.target_type, stored.target_id) == ("taxonomy.category", str(category.pk))
    assert (stored.before, stored.after) == ({"name": "Old"}, {"name": "New"})
