from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.cms.models import FeaturedItem, Page
from apps.resources.models import Resource
from apps.taxonomy.models import Category
from tests.resources.factories import ResourceFactory
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def web(editor: Any) -> Client:
    client = Client()
    client.force_login(editor)
    return client


def test_page_admin_sanitises_and_audits(web: Client, editor: Any) -> None:
    res = web.post(
        reverse("admin:cms_page_add"),
        {
            "slug": "privacy",
            "title": "Privacy",
            "body": "<p>Hi</p><script>x()</script>",
            "is_published": "on",
        },
    )
    assert res.status_code == 302
    page = Page.objects.get()
    assert page.body == "<p>Hi</p>"
    event = AuditEvent.objects.get(action="page.create")
    assert event.actor == editor
    assert (event.after or {})["body"] == "<p>Hi</p>"

    web.post(
        reverse("admin:cms_page_change", args=[page.pk]),
        {"slug": "privacy", "title": "Privacy notice", "body": "<p>Hi</p>", "is_published": "on"},
    )
    event = AuditEvent.objects.get(action="page.update")
    assert ((event.before or {})["title"], (event.after or {})["title"]) == (
        "Privacy",
        "Privacy notice",
    )


def test_category_change_records_subcategories(web: Client) -> None:
    sub = SubcategoryFactory(name="Thorax", slug="thorax")
    cat = sub.category
    data = {
        "name": cat.name,
        "slug": cat.slug,
        "description": "",
        "order": 1,
        "is_active": "on",
        "subcategories-TOTAL_FORMS": 2,
        "subcategories-INITIAL_FORMS": 1,
        "subcategories-MIN_NUM_FORMS": 0,
        "subcategories-MAX_NUM_FORMS": 1000,
        "subcategories-0-id": sub.pk,
        "subcategories-0-category": cat.pk,
        "subcategories-0-order": 0,
        "subcategories-0-name": "Thorax",
        "subcategories-0-slug": "thorax",
        "subcategories-0-is_active": "on",
        "subcategories-1-category": cat.pk,
        "subcategories-1-order": 1,
        "subcategories-1-name": "Abdomen",
        "subcategories-1-slug": "abdomen",
        "subcategories-1-is_active": "on",
    }
    res = web.post(reverse("admin:taxonomy_category_change", args=[cat.pk]), data)
    assert res.status_code == 302
    event = AuditEvent.objects.get(action="category.update")
    assert [s["slug"] for s in (event.before or {})["subcategories"]] == ["thorax"]
    assert [s["slug"] for s in (event.after or {})["subcategories"]] == ["thorax", "abdomen"]


def test_category_deactivate_action_is_audited(web: Client) -> None:
    cat = CategoryFactory()
    web.post(
        reverse("admin:taxonomy_category_changelist"),
        {"action": "deactivate", "_selected_action": [cat.pk]},
    )
    assert Category.objects.get(pk=cat.pk).is_active is False
    event = AuditEvent.objects.get(action="category.update")
    assert ((event.before or {})["is_active"], (event.after or {})["is_active"]) == (True, False)


def test_resource_actions_and_delete_are_audited(web: Client) -> None:
    r = ResourceFactory(is_published=False, published_at=None)
    url = reverse("admin:resources_resource_changelist")
    web.post(url, {"action": "publish", "_selected_action": [r.pk]})
    web.post(url, {"action": "feature", "_selected_action": [r.pk]})
    r.refresh_from_db()
    assert (r.is_published, r.is_featured) == (True, True)
    assert r.published_at is not None
    web.post(reverse("admin:resources_resource_delete", args=[r.pk]), {"post": "yes"})
    assert not Resource.objects.exists()
    actions = list(AuditEvent.objects.order_by("id").values_list("action", flat=True))
    assert actions == ["resource.update", "resource.update", "resource.delete"]
    deleted = AuditEvent.objects.get(action="resource.delete")
    assert deleted.target_id == str(r.pk)
    assert (deleted.before or {})["title"] == r.title


def test_featured_item_admin_is_audited(web: Client) -> None:
    res = web.post(
        reverse("admin:cms_featureditem_add"),
        {
            "title": "Mock exams are live",
            "subtitle": "",
            "image_url": "",
            "link_url": "",
            "order": 1,
            "is_active": "on",
        },
    )
    assert res.status_code == 302
    assert FeaturedItem.objects.count() == 1
    assert AuditEvent.objects.filter(action="featureditem.create").count() == 1
