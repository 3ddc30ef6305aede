"""A request body key that the endpoint does not declare is a 400 naming it (issue 13).

``{"category": "x"}`` on POST /practice/sessions used to make a session of the whole bank. The
rule lives once, in ``apps.core.api.serializers.InputSerializer``; the walk over the OpenAPI
schema below makes sure no write operation, present or future, forgets it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers
from rest_framework.test import APIClient

from apps.accounts.models import Role, User
from apps.cms.models import Page
from apps.core.api.serializers import UNKNOWN_FIELD, InputSerializer
from apps.practice.models import PracticeSession
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.conftest import client_for
from tests.resources.factories import ResourceFactory
from tests.trust.data import make_world

pytestmark = pytest.mark.django_db

STRANGER = "zz_not_a_field"
WRITE_METHODS = ("post", "put", "patch")


def assert_unknown(response: Any, *names: str) -> dict[str, Any]:
    assert response.status_code == 400, response.content[:500]
    body = response.json()
    assert body["code"] == "validation_error"
    for name in names:
        assert name in body["fields"], body
        assert body["fields"][name][0].startswith(UNKNOWN_FIELD), body
    return body


# --- The mechanism -------------------------------------------------------------------------------


class _Child(InputSerializer):
    text = serializers.CharField()


class _Parent(InputSerializer):
    name = serializers.CharField()
    children = _Child(many=True, required=False)
    items = serializers.ListField(child=_Child(), required=False)
    shown = serializers.CharField(read_only=True)


def test_unknown_keys_are_named_at_every_depth_with_the_other_errors() -> None:
    form = _Parent(
        data={
            "colour": "red",
            "shown": "x",  # read-only: not accepted either
            "children": [{"text": "a", "size": 1}],
            "items": [{"text": "b"}, {"weight": 2}],
        }
    )
    assert not form.is_valid()
    assert set(form.errors) == {"name", "colour", "shown", "children", "items"}
    assert form.errors["colour"][0].code == UNKNOWN_FIELD
    assert form.errors["children"][0]["size"][0].code == UNKNOWN_FIELD
    assert set(form.errors["items"][1]) == {"weight", "text"}


def test_declared_keys_pass_and_a_non_object_is_left_to_drf() -> None:
    assert _Parent(data={"name": "n", "children": [{"text": "a"}]}).is_valid()
    form = _Parent(data=["name"])
    assert not form.is_valid()
    assert "non_field_errors" in form.errors


# --- Through the API -----------------------------------------------------------------------------


def test_the_reported_case_category_instead_of_categories(user: User) -> None:
    response = client_for(user).post("/api/v1/practice/sessions", {"category": "x"}, format="json")
    assert_unknown(response, "category")
    assert not PracticeSession.objects.exists()


def test_nested_unknown_keys_are_named_by_their_path(editor: User) -> None:
    question = {
        "stem": "A stem",
        "category": "anything",
        "options": [{"text": "a", "is_correct": True, "colour": "red"}, {"text": "b"}],
    }
    response = client_for(editor).post("/api/v1/questions", question, format="json")
    assert_unknown(response, "options.0.colour")


def test_an_exam_batch_refuses_unknown_keys_on_its_fast_path_too(user: User) -> None:
    from tests.exams.factories import blueprint_template, make_bank

    (category,) = make_bank(categories=1, per_category=2)
    client = client_for(user)
    paper = client.post(
        "/api/v1/exams/sessions",
        {"template_id": blueprint_template({category: 2}).pk},
        format="json",
    ).json()
    url = f"/api/v1/exams/sessions/{paper['id']}/attempts"
    answer = {"question_id": paper["questions"][0]["id"], "selected_option_ids": []}
    assert client.post(url, {"attempts": [answer]}, format="json").status_code == 200
    inner = client.post(url, {"attempts": [{**answer, "answer": 1}]}, format="json")
    assert_unknown(inner, "attempts.0.answer")
    beside = client.post(url, {"attempts": [answer], "submit": True}, format="json")
    assert_unknown(beside, "submit")
    single = client.post(url, {**answer, "flaged": True}, format="json")
    assert_unknown(single, "flaged")


def test_me_accepts_read_only_fields_sent_back_but_not_strangers(user: User) -> None:
    client = client_for(user)
    me = client.get("/api/v1/me").json()
    same = client.patch("/api/v1/me", {"email": me["email"], "display_name": "Ann"}, format="json")
    assert same.status_code == 200, same.content
    assert_unknown(client.patch("/api/v1/me", {"nickname": "Ann"}, format="json"), "nickname")


def test_deleting_the_account_with_an_unknown_key_deletes_nothing(user: User) -> None:
    response = client_for(user).delete(
        "/api/v1/me", {"password": DEFAULT_PASSWORD, "confirm": True}, format="json"
    )
    assert_unknown(response, "confirm")
    assert User.objects.filter(pk=user.pk).exists()


# --- Every write operation of the schema ---------------------------------------------------------


def _write_operations() -> list[tuple[str, str, str]]:
    """(method, path, media type) of every operation that takes a request body."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody") if method in WRITE_METHODS else None
            if body:
                media = "application/json" if "application/json" in body["content"] else "multipart"
                found.append((method, path, media))
    return sorted(found)


# Stripe's webhook takes Stripe's own signed event, whose fields are Stripe's to add; it is
# authenticated by the signature and tested in tests/billing/test_webhooks.py.
NOT_A_CLIENT_INPUT = {("post", "/api/v1/billing/webhooks/stripe")}
WRITE_OPERATIONS = [op for op in _write_operations() if op[:2] not in NOT_A_CLIENT_INPUT]


def test_the_walk_finds_the_write_operations() -> None:
    assert len(WRITE_OPERATIONS) >= 25
    assert ("post", "/api/v1/practice/sessions", "application/json") in WRITE_OPERATIONS


def test_every_write_operation_refuses_an_unknown_field() -> None:
    """As an admin (no operation refuses the role first), on real objects (no 404 first)."""
    world = make_world(Role.ADMIN)
    ids = {
        **world.ids,
        ("/pages/", "slug"): Page.objects.create(slug="terms", title="Terms").slug,
        ("/resources/", "id"): ResourceFactory().pk,
    }
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {world.token}")
    missed = {}
    for method, path, media in WRITE_OPERATIONS:
        url = path
        for name in re.findall(r"{(\w+)}", path):
            value = next(v for (prefix, n), v in ids.items() if prefix in path and n == name)
            url = url.replace(f"{{{name}}}", str(value))
        if media == "multipart":
            response = getattr(client, method)(url, {STRANGER: "1"}, format="multipart")
        else:
            response = getattr(client, method)(url, {STRANGER: 1}, format="json")
        fields = response.json().get("fields", {}) if response.status_code == 400 else {}
        if not str(fields.get(STRANGER, [""])[0]).startswith(UNKNOWN_FIELD):
            missed[f"{method.upper()} {path}"] = (response.status_code, response.content[:200])
    assert not missed, missed
