"""Writing questions in the admin: five numbered option rows on the add page, a preview of the
unsaved form with its key and explanation, the allowed HTML named on the page, and the import
templates linked from the upload page."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse

from apps.accounts.models import Role
from apps.questions.models import Question
from apps.questions.services.imports import process_rows, read_rows
from tests.accounts.factories import UserFactory
from tests.taxonomy.factories import CategoryFactory

pytestmark = pytest.mark.django_db

ADD = "admin:questions_question_add"
PREVIEW = "admin:questions_question_preview"


def web(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form(category_id: int, rows: list[tuple[str, bool]], **over: Any) -> dict[str, Any]:
    """The add form as the browser posts it: five option rows numbered 1-5, some left blank."""
    data: dict[str, Any] = {
        "stem": "A <b>55-year-old</b> man <script>steal()</script>has a pulsatile mass. Next?",
        "type": "single",
        "category": category_id,
        "subcategory": "",
        "difficulty": 3,
        "status": "draft",
        "explanation": "<p>Ultrasound first.</p><img src=x onerror=alert(1)>",
        "reference": "",
        "options-TOTAL_FORMS": 5,
        "options-INITIAL_FORMS": 0,
        "options-MIN_NUM_FORMS": 2,
        "options-MAX_NUM_FORMS": 1000,
        "media-TOTAL_FORMS": 0,
        "media-INITIAL_FORMS": 0,
        "media-MIN_NUM_FORMS": 0,
        "media-MAX_NUM_FORMS": 1000,
    }
    for index in range(5):
        data[f"options-{index}-order"] = index + 1
        if index < len(rows):
            text, correct = rows[index]
            data[f"options-{index}-text"] = text
            if correct:
                data[f"options-{index}-is_correct"] = "on"
    data.update(over)
    return data


THREE = [("CT angiogram", False), ("<em>Ultrasound</em>", True), ("Laparotomy", False)]


def test_the_add_page_starts_with_five_numbered_option_rows(editor: Any) -> None:
    page = web(editor).get(reverse(ADD))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="options-TOTAL_FORMS" value="5"' in html
    for number in range(1, 6):
        assert f'name="options-{number - 1}-order" value="{number}"' in html
    assert 'name="options-5-order"' not in html


def test_blank_numbered_rows_are_not_saved(editor: Any) -> None:
    response = web(editor).post(reverse(ADD), form(CategoryFactory().pk, THREE))
    assert response.status_code == 302
    question = Question.objects.get()
    assert [(o.order, o.is_correct) for o in question.options.order_by("order")] == [
        (1, False),
        (2, True),
        (3, False),
    ]


def test_the_page_names_the_allowed_html(editor: Any) -> None:
    html = web(editor).get(reverse(ADD)).content.decode()
    assert "HTML allowed" in html
    for expected in ("<code>&lt;strong&gt;</code>", "<code>&lt;table&gt;</code>", "a: href, title"):
        assert expected in html
    assert "&lt;script&gt;" not in html
    assert reverse(PREVIEW) in html  # the Preview button posts the form there


def test_preview_shows_the_sanitised_question_with_key_and_explanation(editor: Any) -> None:
    response = web(editor).post(reverse(PREVIEW), form(CategoryFactory().pk, THREE))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Nothing has been saved" in html
    assert "<b>55-year-old</b>" in html
    assert "steal()" not in html
    assert "onerror" not in html
    assert "<p>Ultrasound first.</p>" in html
    assert '<span class="preview-key-letters">B</span>' in html
    assert "<em>Ultrasound</em> &#10003;" in html
    assert 'class="errorlist"' not in html
    assert not Question.objects.exists()


def test_preview_names_what_saving_would_refuse(editor: Any) -> None:
    rows = [("CT angiogram", False), ("Ultrasound", False)]
    response = web(editor).post(reverse(PREVIEW), form(CategoryFactory().pk, rows, stem=""))
    html = response.content.decode()
    assert "The stem is blank." in html
    assert "exactly one correct option" in html
    assert '<span class="preview-key-letters">none</span>' in html


def test_preview_is_for_editors_only(examiner: Any) -> None:
    data = form(CategoryFactory().pk, THREE)
    assert web(examiner).post(reverse(PREVIEW), data).status_code in (403, 404)
    candidate = web(UserFactory(role=Role.USER)).post(reverse(PREVIEW), data)
    assert candidate.status_code == 302
    assert "/admin/login/" in candidate["Location"]
    assert (
        web(UserFactory(role=Role.EDITOR, is_staff=True)).get(reverse(PREVIEW)).status_code == 405
    )


def test_the_upload_page_links_templates_that_import(editor: Any) -> None:
    CategoryFactory(slug="anatomy")
    CategoryFactory(slug="microbiology")
    client = web(editor)
    upload = client.get(reverse("admin:questions_importjob_upload")).content.decode()
    for fmt in ("csv", "xlsx"):
        url = reverse("admin:questions_importjob_template", args=[fmt])
        assert url in upload
        response = client.get(url)
        assert response.status_code == 200
        assert f'filename="questions-template.{fmt}"' in response["Content-Disposition"]
        rows = read_rows(fmt=fmt, content=response.content)
        with transaction.atomic():
            results = process_rows(rows=rows, dry_run=True, actor=editor, default_status="draft")
        assert [r.status for r in results] == ["valid", "valid"], [r.errors for r in results]
    header = next(csv.reader(io.StringIO(client.get(url.replace("xlsx", "csv")).content.decode())))
    assert header[0].lstrip("\ufeff") == "category"
    assert (
        client.get(reverse("admin:questions_importjob_template", args=["pdf"])).status_code == 404
    )
    assert not Question.objects.exists()


def test_templates_are_for_editors_only(examiner: Any) -> None:
    url = reverse("admin:questions_importjob_template", args=["csv"])
    assert web(examiner).get(url).status_code in (403, 404)
