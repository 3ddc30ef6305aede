"""Editors work through candidates' problem reports in the admin without hand-assigned model
permissions: they see the queue and resolve reports; other staff and candidates cannot."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.accounts.models import Role
from apps.audit.models import AuditEvent
from apps.practice import services as practice_services
from apps.practice.models import QuestionReport, ReportStatus
from tests.accounts.factories import UserFactory
from tests.questions.factories import make_question

pytestmark = pytest.mark.django_db

QUEUE = "/admin/practice/questionreport/"


def web(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def reports(user: Any) -> list[QuestionReport]:
    return [
        practice_services.report_question(
            user=user, question_id=make_question().pk, reason="typo", message=f"typo {i}"
        )
        for i in range(3)
    ]


def test_an_editor_sees_the_report_queue_and_a_report(editor: Any, reports: Any) -> None:
    client = web(editor)
    for url in (QUEUE, QUEUE + "?status__exact=open", f"{QUEUE}{reports[0].pk}/change/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "typo 1" in client.get(QUEUE + "?q=typo+1").content.decode()
    # The workbench links a question's open reports like this.
    one = client.get(f"{QUEUE}?question__id__exact={reports[2].question_id}&status__exact=open")
    assert one.status_code == 200
    assert list(one.context["cl"].result_list) == [reports[2]]
    # The admin index lists the queue for them.
    assert QUEUE in client.get("/admin/").content.decode()


def test_an_editor_resolves_reports_with_the_action(editor: Any, reports: Any) -> None:
    response = web(editor).post(
        QUEUE,
        {"action": "mark_resolved", "_selected_action": [reports[0].pk, reports[1].pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 report(s) marked resolved." in response.content.decode()
    status = dict(QuestionReport.objects.values_list("pk", "status"))
    assert status == {
        reports[0].pk: ReportStatus.RESOLVED,
        reports[1].pk: ReportStatus.RESOLVED,
        reports[2].pk: ReportStatus.OPEN,
    }
    assert QuestionReport.objects.get(pk=reports[0].pk).resolved_by == editor
    assert AuditEvent.objects.filter(action="practice.report_resolved").count() == 2


def test_editors_cannot_add_or_delete_reports(editor: Any, reports: Any) -> None:
    client = web(editor)
    assert client.get(QUEUE + "add/").status_code == 403
    assert client.get(f"{QUEUE}{reports[0].pk}/delete/").status_code == 403
    page = client.get(QUEUE).content.decode()
    assert 'value="delete_selected"' not in page


def test_other_staff_and_candidates_are_refused(examiner: Any, reports: Any) -> None:
    assert web(examiner).get(QUEUE).status_code == 403
    assert (
        web(examiner)
        .post(QUEUE, {"action": "mark_resolved", "_selected_action": [reports[0].pk]})
        .status_code
        == 403
    )
    candidate = UserFactory(role=Role.USER)
    response = web(candidate).get(QUEUE)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not QuestionReport.objects.exclude(status=ReportStatus.OPEN).exists()
