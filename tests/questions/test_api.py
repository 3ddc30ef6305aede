from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.questions.models import Question, QuestionStatus
from apps.questions.services import record_question_stats
from tests.questions.factories import QuestionFactory, make_question
from tests.questions.leaks import assert_no_leak
from tests.taxonomy.factories import CategoryFactory, SubcategoryFactory, TagFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/questions"


def body(**over: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "stem": "A 60-year-old man has painless jaundice. What is the most likely diagnosis?",
        "type": "single",
        "category": CategoryFactory(slug="hpb").slug,
        "difficulty": 3,
        "explanation": "<p>Courvoisier's law.</p><script>steal()</script>",
        "reference": "Bailey & Love, ch. 67",
        "status": "published",
        "tags": ["jaundice"],
        "options": [
            {"text": "Carcinoma of the pancreatic head", "is_correct": True},
            {"text": "Gallstones", "is_correct": False},
            {"text": "Hepatitis A", "is_correct": False},
        ],
    }
    data.update(over)
    return data


# --- candidate reads ---------------------------------------------------------------------------
def test_candidate_list_shows_only_published_in_active_categories(user_client: APIClient) -> None:
    visible = make_question()
    make_question(status=QuestionStatus.DRAFT)
    make_question(status=QuestionStatus.RETIRED)
    make_question(category=CategoryFactory(is_active=False))
    res = user_client.get(URL)
    assert res.status_code == 200
    assert res.data["count"] == 1
    assert [q["id"] for q in res.data["results"]] == [visible.pk]


def test_candidate_list_and_detail_never_leak(user_client: APIClient) -> None:
    q = make_question(type="multi", explanation="SECRET-EXPLANATION-TEXT")
    listing = user_client.get(URL).json()
    detail = user_client.get(f"{URL}/{q.pk}").json()
    for payload in (listing, detail):
        assert_no_leak(payload, secrets=("SECRET-EXPLANATION-TEXT",))
    assert set(detail) >= {
        "id",
        "stem",
        "type",
        "difficulty",
        "category",
        "subcategory",
        "options",
        "media",
    }
    assert [set(o) for o in detail["options"]] == [{"id", "text"}] * 5
    assert detail["category"] == {"slug": q.category.slug, "name": q.category.name}


def test_examiner_reads_like_a_candidate(examiner_client: APIClient) -> None:
    q = make_question(explanation="HIDDEN")
    assert_no_leak(examiner_client.get(f"{URL}/{q.pk}").json(), secrets=("HIDDEN",))


@pytest.mark.parametrize("status", [QuestionStatus.DRAFT, QuestionStatus.RETIRED])
def test_candidate_detail_of_invisible_question_is_404(user_client: APIClient, status: str) -> None:
    q = make_question(status=status)
    res = user_client.get(f"{URL}/{q.pk}")
    assert res.status_code == 404
    assert res.json()["code"] == "not_found"


def test_anonymous_is_401(api_client: APIClient) -> None:
    assert api_client.get(URL).status_code == 401


def test_staff_sees_key_and_all_statuses(editor_client: APIClient) -> None:
    q = make_question(status=QuestionStatus.DRAFT, explanation="Why")
    res = editor_client.get(f"{URL}/{q.pk}")
    assert res.status_code == 200
    assert res.data["explanation"] == "Why"
    assert sum(o["is_correct"] for o in res.data["options"]) == 1
    assert editor_client.get(URL, {"status": "draft"}).data["count"] == 1


def test_filters(user_client: APIClient) -> None:
    sub = SubcategoryFactory()
    tag = TagFactory(name="Hernia", slug="hernia")
    a = make_question(category=sub.category, subcategory=sub, difficulty=2, tags=[tag])
    b = make_question(category=sub.category, difficulty=5, type="multi")
    make_question()

    def ids(**params: Any) -> list[int]:
        res = user_client.get(URL, params)
        assert res.status_code == 200, res.data
        return [q["id"] for q in res.data["results"]]

    assert ids(category=sub.category.slug) == [a.pk, b.pk]
    assert ids(subcategory=sub.slug) == [a.pk]
    assert ids(difficulty=5) == [b.pk]
    assert ids(tag="hernia") == [a.pk]
    assert ids(type="multi") == [b.pk]
    assert ids(category="no-such-category") == []


def test_bad_filter_value_is_400_envelope(user_client: APIClient) -> None:
    res = user_client.get(URL, {"difficulty": "hard"})
    assert res.status_code == 400
    assert res.json()["code"] == "validation_error"
    assert "difficulty" in res.json()["fields"]


def test_full_text_search_matches_stems_with_stemming(user_client: APIClient) -> None:
    hit = make_question(stem="Which artery is ligated during a thyroidectomy to avoid bleeding?")
    other = make_question(stem="What is the blood supply of the femoral head?")
    make_question(stem="A patient with appendicitis has a fever.")
    res = user_client.get(URL, {"search": "thyroidectomies femoral"})
    assert [q["id"] for q in res.data["results"]] == []  # websearch: every term must match
    res = user_client.get(URL, {"search": "ligation"})  # stems: ligation ~ ligated
    assert [q["id"] for q in res.data["results"]] == [hit.pk]
    assert [
        q["id"] for q in user_client.get(URL, {"search": "thyroidectomies"}).data["results"]
    ] == [hit.pk]
    res = user_client.get(URL, {"search": "blood OR ligated"})
    assert {q["id"] for q in res.data["results"]} == {hit.pk, other.pk}


def test_search_never_finds_invisible_questions(user_client: APIClient) -> None:
    make_question(stem="Retired thyroid question", status=QuestionStatus.RETIRED)
    assert user_client.get(URL, {"search": "thyroid"}).data["count"] == 0


@pytest.mark.parametrize("client_name", ["user_client", "editor_client"])
def test_list_query_count_does_not_grow_with_page_size(
    request: pytest.FixtureRequest, client_name: str, django_assert_max_num_queries: Any
) -> None:
    client: APIClient = request.getfixturevalue(client_name)
    sub = SubcategoryFactory()
    tags = [TagFactory(), TagFactory()]
    for i in range(30):
        q = make_question(
            category=sub.category, subcategory=sub, tags=tags, type="multi" if i % 2 else "single"
        )
        q.media.create(url="https://img.example.com/x.png", alt_text="x")

    def count(page_size: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            res = client.get(URL, {"page_size": page_size})
        assert res.status_code == 200
        assert len(res.data["results"]) == page_size
        return len(ctx.captured_queries)

    small = count(2)
    assert count(30) == small
    with django_assert_max_num_queries(small):
        client.get(URL, {"page_size": 25, "search": "patient"})


# --- staff writes ------------------------------------------------------------------------------
@pytest.mark.parametrize("client_name", ["user_client", "examiner_client"])
def test_candidates_and_examiners_cannot_write(
    request: pytest.FixtureRequest, client_name: str
) -> None:
    client: APIClient = request.getfixturevalue(client_name)
    q = make_question()
    assert client.post(URL, body(), format="json").status_code == 403
    assert client.patch(f"{URL}/{q.pk}", {"difficulty": 1}, format="json").status_code == 403
    assert client.put(f"{URL}/{q.pk}", body(), format="json").status_code == 403
    res = client.delete(f"{URL}/{q.pk}")
    assert res.status_code == 403
    assert res.json()["code"] == "permission_denied"
    assert Question.objects.count() == 1


@pytest.mark.parametrize("client_name", ["editor_client", "admin_client_api"])
def test_editor_and_admin_create_with_options(
    request: pytest.FixtureRequest, client_name: str
) -> None:
    client: APIClient = request.getfixturevalue(client_name)
    res = client.post(URL, body(), format="json")
    assert res.status_code == 201, res.data
    assert res.data["status"] == "published"
    assert res.data["version"] == 1
    assert [o["is_correct"] for o in res.data["options"]] == [True, False, False]
    assert "<script>" not in res.data["explanation"]
    assert "steal" not in res.data["explanation"]
    assert res.data["tags"] == ["jaundice"]
    assert AuditEvent.objects.filter(
        action="question.create", target_id=str(res.data["id"])
    ).exists()


def test_create_with_invalid_options_is_400_and_writes_nothing(editor_client: APIClient) -> None:
    res = editor_client.post(
        URL,
        body(options=[{"text": "a", "is_correct": True}, {"text": "b", "is_correct": True}]),
        format="json",
    )
    assert res.status_code == 400
    assert res.json()["code"] == "validation_error"
    assert "options" in res.json()["fields"]
    assert Question.objects.count() == 0


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"category": "nope"}, "category"),
        ({"subcategory": "nope"}, "subcategory"),
        ({"difficulty": 6}, "difficulty"),
        ({"type": "essay"}, "type"),
        ({"options": "x"}, "options"),
        ({"stem": ""}, "stem"),
    ],
)
def test_create_bad_input(editor_client: APIClient, override: dict[str, Any], field: str) -> None:
    res = editor_client.post(URL, body(**override), format="json")
    assert res.status_code == 400
    assert any(name.split(".")[0] == field for name in res.json()["fields"])
    assert Question.objects.count() == 0


def test_duplicate_stem_is_400(editor_client: APIClient) -> None:
    assert editor_client.post(URL, body(), format="json").status_code == 201
    res = editor_client.post(URL, body(stem=body()["stem"].upper()), format="json")
    assert res.status_code == 400
    assert "stem" in res.json()["fields"]


def test_patch_changes_key_and_bumps_version(editor_client: APIClient) -> None:
    q = make_question()
    opts = list(q.options.all())
    new = [{"id": o.pk, "text": o.text, "is_correct": i == 1} for i, o in enumerate(opts)]
    res = editor_client.patch(f"{URL}/{q.pk}", {"options": new, "difficulty": 5}, format="json")
    assert res.status_code == 200, res.data
    assert res.data["version"] == 2
    assert res.data["difficulty"] == 5
    assert [o["id"] for o in res.data["options"]] == [o.pk for o in opts]


def test_patch_can_move_to_subcategory_of_its_category(editor_client: APIClient) -> None:
    sub = SubcategoryFactory()
    q = make_question(category=sub.category)
    res = editor_client.patch(f"{URL}/{q.pk}", {"subcategory": sub.slug}, format="json")
    assert res.status_code == 200
    assert res.data["subcategory"]["slug"] == sub.slug


def test_put_requires_full_body(editor_client: APIClient) -> None:
    q = make_question()
    res = editor_client.put(f"{URL}/{q.pk}", {"stem": "only a stem"}, format="json")
    assert res.status_code == 400
    assert {"category", "options"} <= set(res.json()["fields"])
    res = editor_client.put(f"{URL}/{q.pk}", body(), format="json")
    assert res.status_code == 200
    assert len(res.data["options"]) == 3


def test_patch_unknown_question_is_404(editor_client: APIClient) -> None:
    assert editor_client.patch(f"{URL}/999999", {"difficulty": 2}, format="json").status_code == 404


def test_delete_unanswered_is_204_answered_is_retired(editor_client: APIClient) -> None:
    fresh, answered = make_question(), make_question()
    record_question_stats(counts={answered.pk: (3, 2)})
    assert editor_client.delete(f"{URL}/{fresh.pk}").status_code == 204
    assert not Question.objects.filter(pk=fresh.pk).exists()
    res = editor_client.delete(f"{URL}/{answered.pk}")
    assert res.status_code == 200
    assert res.data["status"] == "retired"
    assert Question.objects.get(pk=answered.pk).status == QuestionStatus.RETIRED


def test_trailing_slash_works(user_client: APIClient) -> None:
    q = QuestionFactory()
    assert user_client.get(f"{URL}/{q.pk}/").status_code == 200
