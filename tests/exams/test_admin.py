"""The staff tool: examiners and admins manage templates; editors and candidates cannot."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.audit.models import AuditEvent
from apps.exams.models import ExamTemplate
from apps.exams.services import start_exam_session
from tests.exams.factories import make_bank

pytestmark = pytest.mark.django_db

TEMPLATES = "/admin/exams/examtemplate/"
SESSIONS = "/admin/exams/examsession/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def template_form(category_ids: list[int], counts: list[int], total: int) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Examiner's mock, Paper 1",
        "paper": "1",
        "duration_minutes": "60",
        "total_questions": str(total),
        "description": "",
        "is_active": "on",
        "kind": "blueprint",
        "shuffle_questions": "on",
        "blueprint_items-TOTAL_FORMS": str(len(counts)),
        "blueprint_items-INITIAL_FORMS": "0",
        "blueprint_items-MIN_NUM_FORMS": "0",
        "blueprint_items-MAX_NUM_FORMS": "1000",
        "fixed_questions-TOTAL_FORMS": "0",
        "fixed_questions-INITIAL_FORMS": "0",
        "fixed_questions-MIN_NUM_FORMS": "0",
        "fixed_questions-MAX_NUM_FORMS": "1000",
    }
    for i, (category_id, count) in enumerate(zip(category_ids, counts, strict=True)):
        data[f"blueprint_items-{i}-category"] = str(category_id)
        data[f"blueprint_items-{i}-count"] = str(count)
    return data


@pytest.mark.parametrize("who", ["examiner", "admin_user"])
def test_examiners_and_admins_manage_templates(request, who, template):
    client = logged_in(request.getfixturevalue(who))
    assert client.get(TEMPLATES).status_code == 200
    assert client.get(f"{TEMPLATES}{template.id}/change/").status_code == 200
    assert client.get(f"{TEMPLATES}add/").status_code == 200
    first, second = make_bank(categories=2, per_category=1)
    response = client.post(f"{TEMPLATES}add/", template_form([first.id, second.id], [3, 2], 5))
    assert response.status_code == 302, response.content.decode()[:3000]
    created = ExamTemplate.objects.get(name="Examiner's mock, Paper 1")
    assert sorted(created.blueprint_items.values_list("count", flat=True)) == [2, 3]
    event = AuditEvent.objects.get(action="exam_template.create")
    assert event.target_id == str(created.id)
    assert event.after is not None
    assert event.after["blueprint"] == {str(first.id): 3, str(second.id): 2}


def test_a_blueprint_that_does_not_add_up_is_refused(examiner):
    client = logged_in(examiner)
    first, second = make_bank(categories=2, per_category=1)
    response = client.post(f"{TEMPLATES}add/", template_form([first.id, second.id], [3, 2], 6))
    assert response.status_code == 200
    assert "adds up to 5 questions" in response.content.decode()
    assert not ExamTemplate.objects.filter(name="Examiner's mock, Paper 1").exists()


@pytest.mark.parametrize("who", ["editor", "user"])
def test_editors_and_candidates_cannot(request, who, template):
    person = request.getfixturevalue(who)
    person.is_staff = True  # even with staff access to the admin site
    person.save()
    client = logged_in(person)
    assert client.get(TEMPLATES).status_code == 403
    assert client.get(f"{TEMPLATES}{template.id}/change/").status_code == 403
    assert client.get(SESSIONS).status_code == 403
    (category,) = make_bank(categories=1, per_category=1)
    assert client.post(f"{TEMPLATES}add/", template_form([category.id], [1], 1)).status_code == 403
    assert "exams" not in client.get("/admin/").content.decode().lower()


def test_sessions_are_read_only(examiner, user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    client = logged_in(examiner)
    assert client.get(SESSIONS).status_code == 200
    page = client.get(f"{SESSIONS}{session.id}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(f"{SESSIONS}add/").status_code == 403
    assert client.post(f"{SESSIONS}{session.id}/delete/", {"post": "yes"}).status_code == 403


def test_a_paper_template_takes_its_papers_time_and_no_blueprint_rows(examiner):
    from apps.exams.models import TemplateKind
    from tests.exams.test_drawing import set_paper_blueprint

    (first,) = make_bank(categories=1, per_category=1)
    set_paper_blueprint(1, {first: 180}, question_count=180, duration_minutes=240)
    client = logged_in(examiner)
    form = {**template_form([first.id], [5], 5), "kind": "paper"}
    refused = client.post(f"{TEMPLATES}add/", form)
    assert refused.status_code == 200
    assert "draws to its paper&#x27;s blueprint" in refused.content.decode()
    response = client.post(f"{TEMPLATES}add/", {**template_form([], [], 30), "kind": "paper"})
    assert response.status_code == 302, response.content.decode()[:3000]
    created = ExamTemplate.objects.get(name="Examiner's mock, Paper 1")
    assert created.kind == TemplateKind.PAPER
    # 240 minutes for 180 questions: 40 for 30 (not the 60 the form said).
    assert created.duration_minutes == 40
