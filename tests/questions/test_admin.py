from __future__ import annotations

import io
from typing import Any

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.questions.admin import QuestionAdmin
from apps.questions.models import ImportJob, Question, QuestionStatus
from apps.questions.services import record_question_stats
from tests.accounts.factories import UserFactory
from tests.questions.factories import make_question
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def editor_web(editor: Any) -> Client:
    client = Client()
    client.force_login(editor)
    return client


def question_form(
    category_id: int,
    options: list[tuple[str, bool]],
    *,
    existing: list[int] | None = None,
    **over: Any,
) -> dict[str, Any]:
    existing = existing or []
    data: dict[str, Any] = {
        "stem": "Which vessel is at risk in a supracondylar fracture of the humerus?",
        "type": "single",
        "category": category_id,
        "subcategory": "",
        "difficulty": 3,
        "status": "draft",
        "explanation": "<p>Brachial artery.</p><script>x()</script>",
        "reference": "Last's Anatomy",
        "options-TOTAL_FORMS": len(options),
        "options-INITIAL_FORMS": len(existing),
        "options-MIN_NUM_FORMS": 0,
        "options-MAX_NUM_FORMS": 1000,
        "media-TOTAL_FORMS": 0,
        "media-INITIAL_FORMS": 0,
        "media-MIN_NUM_FORMS": 0,
        "media-MAX_NUM_FORMS": 1000,
    }
    for i, (text, correct) in enumerate(options):
        data[f"options-{i}-order"] = i
        data[f"options-{i}-text"] = text
        if correct:
            data[f"options-{i}-is_correct"] = "on"
        if i < len(existing):
            data[f"options-{i}-id"] = existing[i]
    data.update(over)
    return data


FIVE = [("Brachial artery", True), ("Radial artery", False), ("Ulnar artery", False),
        ("Axillary artery", False), ("Profunda brachii", False)]  # fmt: skip


def test_editor_without_model_permissions_can_use_the_question_admin(editor_web: Client) -> None:
    q = make_question()
    for url in (
        reverse("admin:questions_question_changelist"),
        reverse("admin:questions_question_changelist") + "?q=patient&status__exact=published",
        reverse("admin:questions_question_add"),
        reverse("admin:questions_question_change", args=[q.pk]),
        reverse("admin:questions_importjob_upload"),
        reverse("admin:taxonomy_category_changelist"),
        reverse("admin:resources_resource_changelist"),
        reverse("admin:cms_page_changelist"),
        reverse("admin:cms_featureditem_changelist"),
    ):
        assert editor_web.get(url).status_code == 200, url


def test_candidates_cannot_reach_the_admin() -> None:
    client = Client()
    client.force_login(UserFactory())
    res = client.get(reverse("admin:questions_question_changelist"))
    assert res.status_code == 302
    assert "/login/" in res["Location"]


def test_add_with_valid_inline_options_creates_and_audits(editor_web: Client, editor: Any) -> None:
    cat = CategoryFactory()
    res = editor_web.post(reverse("admin:questions_question_add"), question_form(cat.pk, FIVE))
    assert res.status_code == 302, res.context["errors"] if res.context else res
    q = Question.objects.get()
    assert q.created_by == editor
    assert q.options.count() == 5
    assert "script" not in q.explanation
    event = AuditEvent.objects.get(action="question.create")
    assert event.actor == editor
    assert event.before is None
    assert [o["text"] for o in (event.after or {})["options"]] == [t for t, _ in FIVE]


@pytest.mark.parametrize(
    "options",
    [
        [("A", True), ("B", True), ("C", False)],
        [("A", False), ("B", False)],
        [("A", True)],
    ],
)
def test_admin_refuses_invalid_option_sets(
    editor_web: Client, options: list[tuple[str, bool]]
) -> None:
    res = editor_web.post(
        reverse("admin:questions_question_add"), question_form(CategoryFactory().pk, options)
    )
    assert res.status_code == 200  # the form again, with errors
    assert Question.objects.count() == 0
    assert not AuditEvent.objects.exists()


def test_admin_refuses_duplicate_stem(editor_web: Client) -> None:
    existing = make_question(
        stem="Which vessel is at risk in a supracondylar fracture of the humerus?"
    )
    res = editor_web.post(
        reverse("admin:questions_question_add"), question_form(existing.category_id, FIVE)
    )
    assert res.status_code == 200
    assert Question.objects.count() == 1


def test_changing_the_key_in_admin_bumps_version_and_records_before_after(
    editor_web: Client, editor: Any
) -> None:
    q = make_question()
    opts = list(q.options.order_by("order", "id"))
    options = [(o.text, i == 3) for i, o in enumerate(opts)]
    data = question_form(
        q.category_id, options, existing=[o.pk for o in opts], stem=q.stem, status="published"
    )
    data.update({f"options-{i}-question": q.pk for i in range(5)})
    res = editor_web.post(reverse("admin:questions_question_change", args=[q.pk]), data)
    assert res.status_code == 302
    q.refresh_from_db()
    assert q.version == 2
    assert q.options.get(is_correct=True).pk == opts[3].pk
    event = AuditEvent.objects.get(action="question.update")
    assert (event.before or {})["options"][0]["is_correct"] is True
    assert (event.after or {})["options"][3]["is_correct"] is True
    assert (event.after or {})["version"] == 2
    assert event.actor == editor


def test_candidate_preview_shows_what_a_candidate_sees() -> None:
    q = make_question(explanation="THE-EXPLANATION", stem="Stem <b>bold</b>")
    html = QuestionAdmin(Question, admin.site).candidate_preview(q)
    assert "Stem <b>bold</b>" in html
    for option in q.options.all():
        assert option.text in html
    assert "THE-EXPLANATION" not in html
    assert "correct" not in html.lower()


def test_bulk_publish_and_retire_actions(editor_web: Client) -> None:
    a = make_question(status=QuestionStatus.DRAFT)
    b = make_question(status=QuestionStatus.DRAFT)
    url = reverse("admin:questions_question_changelist")
    editor_web.post(url, {"action": "publish_selected", "_selected_action": [a.pk, b.pk]})
    assert set(Question.objects.values_list("status", flat=True)) == {"published"}
    editor_web.post(url, {"action": "retire_selected", "_selected_action": [a.pk]})
    a.refresh_from_db()
    assert a.status == "retired"
    assert AuditEvent.objects.filter(action="question.publish").count() == 2
    assert AuditEvent.objects.filter(action="question.retire").count() == 1


def test_deleting_an_answered_question_in_admin_retires_it(editor_web: Client) -> None:
    answered, fresh = make_question(), make_question()
    record_question_stats(counts={answered.pk: (1, 1)})
    for q in (answered, fresh):
        res = editor_web.post(
            reverse("admin:questions_question_delete", args=[q.pk]), {"post": "yes"}
        )
        assert res.status_code == 302
    assert Question.objects.get(pk=answered.pk).status == "retired"
    assert not Question.objects.filter(pk=fresh.pk).exists()
    assert AuditEvent.objects.filter(action="question.delete").count() == 1


def test_import_from_admin(
    editor_web: Client, editor: Any, django_capture_on_commit_callbacks: Any
) -> None:
    CategoryFactory(slug="physiology")
    csv = b"category,stem,option_a,option_b,correct\nphysiology,Where is renin?,JG cells,Liver,A\n"
    with django_capture_on_commit_callbacks(execute=True):
        res = editor_web.post(
            reverse("admin:questions_importjob_upload"),
            {"file": SimpleUploadedFile("q.csv", csv), "status": "draft"},
        )
    job = ImportJob.objects.get()
    assert res.status_code == 302
    assert res["Location"] == reverse("admin:questions_importjob_change", args=[job.pk])
    assert job.status == "succeeded"
    assert job.created_by == editor
    page = editor_web.get(res["Location"])
    assert page.status_code == 200
    assert b"created" in page.content


def test_admin_import_refuses_wrong_type(editor_web: Client) -> None:
    res = editor_web.post(
        reverse("admin:questions_importjob_upload"),
        {"file": SimpleUploadedFile("q.txt", io.BytesIO(b"x").read()), "status": "draft"},
    )
    assert res.status_code == 200
    assert b".csv, .json or .xlsx" in res.content
    assert not ImportJob.objects.exists()


def test_publishing_in_the_admin_shows_in_the_category_counts_at_once(
    editor_web: Client, user_client: Any, django_capture_on_commit_callbacks: Any
) -> None:
    cat = CategoryFactory(slug="admin-counts")

    def count() -> int:
        rows = user_client.get("/api/v1/categories").json()
        return next(c["question_count"] for c in rows if c["slug"] == "admin-counts")

    assert count() == 0  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        res = editor_web.post(
            reverse("admin:questions_question_add"),
            question_form(cat.pk, FIVE, status="published"),
        )
    assert res.status_code == 302
    assert count() == 1
