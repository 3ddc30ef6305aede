"""Integrity signals during mocks: the events endpoint, the sittings (address and browser) of a
session, the bound, and what examiners see in the admin."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.exams.models import (
    MAX_EVENTS_PER_SESSION,
    EventSource,
    ExamSession,
    ExamSessionEvent,
    ExamSitting,
)
from apps.exams.services import start_exam_session, submit_exam_session
from tests.accounts.factories import UserFactory
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

SESSIONS = "/api/v1/exams/sessions"
NOW = datetime(2026, 5, 11, 8, 30, tzinfo=UTC)
BROWSER = {"REMOTE_ADDR": "203.0.113.7", "HTTP_USER_AGENT": "Firefox/140"}


def events_url(session_id: int) -> str:
    return f"{SESSIONS}/{session_id}/events"


def started(client: APIClient, template_id: int, **meta: str) -> int:
    response = client.post(SESSIONS, {"template_id": template_id}, format="json", **meta)
    assert response.status_code == 201, response.content
    return int(response.json()["id"])


def report(client: APIClient, session_id: int, body: Any, **meta: str) -> Any:
    return client.post(events_url(session_id), body, format="json", **(meta or BROWSER))


def assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["message"]


@pytest.fixture
def frozen(time_machine: Any) -> None:
    time_machine.move_to(NOW, tick=False)


def test_a_signal_is_recorded_with_the_sitting_it_came_from(user, template, frozen):
    client = client_for(user)
    session_id = started(client, template.id, **BROWSER)
    at = (NOW - timedelta(seconds=3)).isoformat()
    response = report(client, session_id, {"kind": "focus_lost", "at": at})
    assert response.status_code == 204
    assert response.content == b""
    (event,) = ExamSessionEvent.objects.filter(session_id=session_id)
    assert (event.kind, event.source) == ("focus_lost", EventSource.CLIENT)
    assert (event.occurred_at, event.recorded_at) == (NOW - timedelta(seconds=3), NOW)
    (sitting,) = ExamSitting.objects.filter(session_id=session_id)
    assert event.sitting == sitting
    assert (sitting.ip_address, sitting.user_agent, sitting.first_seen_at) == (
        "203.0.113.7",
        "Firefox/140",
        NOW,
    )


@pytest.mark.parametrize("kind", ["focus_lost", "focus_regained", "hidden", "visible", "resumed"])
def test_every_kind_is_accepted(user, template, kind):
    client = client_for(user)
    session_id = started(client, template.id, **BROWSER)
    assert report(client, session_id, {"kind": kind, "at": NOW.isoformat()}).status_code == 204
    assert ExamSessionEvent.objects.get(session_id=session_id).kind == kind


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "tab_switched", "at": NOW.isoformat()}, "kind"),
        ({"at": NOW.isoformat()}, "kind"),
        ({"kind": "hidden"}, "at"),
        ({"kind": "hidden", "at": "yesterday"}, "at"),
        ({"kind": "hidden", "at": NOW.isoformat(), "ip": "10.0.0.1"}, "ip"),
        ([{"kind": "hidden", "at": NOW.isoformat()}], None),
    ],
)
def test_bad_input_is_a_400_and_writes_nothing(user, template, body, field):
    client = client_for(user)
    session_id = started(client, template.id)
    response = report(client, session_id, body)
    assert response.status_code == 400, response.content
    envelope = response.json()
    assert envelope["code"] == "validation_error"
    if field:
        assert field in envelope["fields"]
    assert not ExamSessionEvent.objects.filter(session_id=session_id).exists()


def test_after_submission_it_is_a_409(user, template):
    client = client_for(user)
    session_id = started(client, template.id)
    submit_exam_session(session_id=session_id, user=user)
    response = report(client, session_id, {"kind": "visible", "at": NOW.isoformat()})
    assert_error(response, 409, "exam_submitted")
    assert not ExamSessionEvent.objects.filter(session_id=session_id).exists()


def test_after_the_deadline_it_is_a_409(user, template, time_machine):
    time_machine.move_to(NOW, tick=False)
    session_id = started(client_for(user), template.id)
    time_machine.move_to(NOW + timedelta(minutes=31), tick=False)
    # A fresh token: the one issued at the start has expired by now.
    response = report(client_for(user), session_id, {"kind": "visible", "at": NOW.isoformat()})
    assert_error(response, 409, "exam_expired")


def test_another_candidates_session_is_not_found(user, other_user, template):
    session_id = started(client_for(user), template.id)
    response = report(client_for(other_user), session_id, {"kind": "hidden", "at": NOW.isoformat()})
    assert_error(response, 404, "not_found")
    missing = report(client_for(user), 10**9, {"kind": "hidden", "at": NOW.isoformat()})
    assert_error(missing, 404, "not_found")
    assert not ExamSessionEvent.objects.exists()


def test_anonymous_callers_are_refused(api_client, user, template):
    session_id = started(client_for(user), template.id)
    response = api_client.post(events_url(session_id), {"kind": "hidden", "at": NOW.isoformat()})
    assert response.status_code == 401


def test_a_session_keeps_a_bounded_number_of_events(user, template, frozen):
    client = client_for(user)
    session_id = started(client, template.id, **BROWSER)
    session = ExamSession.objects.get(id=session_id)
    sitting = ExamSitting.objects.get(session=session)
    ExamSessionEvent.objects.bulk_create(
        ExamSessionEvent(
            session=session, sitting=sitting, kind="hidden", occurred_at=NOW, recorded_at=NOW
        )
        for _ in range(MAX_EVENTS_PER_SESSION - 1)
    )
    assert report(client, session_id, {"kind": "visible", "at": NOW.isoformat()}).status_code == 204
    response = report(client, session_id, {"kind": "hidden", "at": NOW.isoformat()})
    assert_error(response, 409, "event_limit_reached")
    assert ExamSessionEvent.objects.filter(session=session).count() == MAX_EVENTS_PER_SESSION


def test_opening_the_session_from_another_address_or_browser_notes_a_resume(user, template, frozen):
    client = client_for(user)
    session_id = started(client, template.id, **BROWSER)
    # The same browser again: nothing new.
    assert client.get(f"{SESSIONS}/{session_id}", **BROWSER).status_code == 200
    assert ExamSitting.objects.filter(session_id=session_id).count() == 1
    assert not ExamSessionEvent.objects.filter(session_id=session_id).exists()
    elsewhere = {"REMOTE_ADDR": "198.51.100.4", "HTTP_USER_AGENT": "Safari/18"}
    assert client.get(f"{SESSIONS}/{session_id}", **elsewhere).status_code == 200
    assert client.get(f"{SESSIONS}/{session_id}", **elsewhere).status_code == 200
    sittings = list(ExamSitting.objects.filter(session_id=session_id))
    assert [(s.ip_address, s.user_agent) for s in sittings] == [
        ("203.0.113.7", "Firefox/140"),
        ("198.51.100.4", "Safari/18"),
    ]
    (resumed,) = ExamSessionEvent.objects.filter(session_id=session_id)
    assert (resumed.kind, resumed.source, resumed.sitting) == ("resumed", "server", sittings[1])
    # Starting the same template again returns the open session, from a third browser.
    third = {"REMOTE_ADDR": "198.51.100.4", "HTTP_USER_AGENT": "Chrome/150"}
    again = client.post(SESSIONS, {"template_id": template.id}, format="json", **third)
    assert again.status_code == 200
    assert ExamSitting.objects.filter(session_id=session_id).count() == 3
    assert ExamSessionEvent.objects.filter(session_id=session_id, kind="resumed").count() == 2


def test_a_submitted_session_notes_no_sitting(user, template):
    session = start_exam_session(user=user, template_id=template.id).session
    submit_exam_session(session_id=session.id, user=user)
    assert client_for(user).get(f"{SESSIONS}/{session.id}", **BROWSER).status_code == 200
    assert not ExamSitting.objects.filter(session=session).exists()


def test_examiners_see_sittings_and_signals_on_the_session_page(examiner, user, template):
    client = client_for(user)
    session_id = started(client, template.id, **BROWSER)
    report(client, session_id, {"kind": "focus_lost", "at": NOW.isoformat()})
    client.get(f"{SESSIONS}/{session_id}", REMOTE_ADDR="198.51.100.4", HTTP_USER_AGENT="Edge/9")
    admin = Client()
    admin.force_login(examiner)
    page = admin.get(f"/admin/exams/examsession/{session_id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    for shown in ("203.0.113.7", "Firefox/140", "198.51.100.4", "Edge/9", "Focus lost", "Resumed"):
        assert shown in html
    # Read-only: no form fields for the signals.
    assert 'name="events-0-kind"' not in html
    assert 'name="sittings-0-ip_address"' not in html


def test_the_candidates_export_holds_their_sittings_and_signals(user, other_user, template, frozen):
    from apps.exams.selectors import personal_data

    client = client_for(user)
    session_id = started(client, template.id, **BROWSER)
    report(client, session_id, {"kind": "hidden", "at": NOW.isoformat()})
    started(client_for(other_user), template.id, REMOTE_ADDR="192.0.2.1")
    (exported,) = personal_data(user_id=user.id)["exam_sessions"]
    assert exported["sittings"] == [
        {"ip_address": "203.0.113.7", "user_agent": "Firefox/140", "first_seen_at": NOW.isoformat()}
    ]
    assert exported["integrity_events"] == [
        {
            "kind": "hidden",
            "source": "client",
            "occurred_at": NOW.isoformat(),
            "recorded_at": NOW.isoformat(),
        }
    ]


def test_the_session_list_counts_sittings_and_signals_in_one_query(
    examiner, user, template, django_assert_max_num_queries
):
    client = client_for(user)
    session_id = started(client, template.id, **BROWSER)
    for kind in ("hidden", "visible"):
        report(client, session_id, {"kind": kind, "at": NOW.isoformat()})
    client.get(f"{SESSIONS}/{session_id}", REMOTE_ADDR="198.51.100.4")
    admin = Client()
    admin.force_login(examiner)
    with django_assert_max_num_queries(12) as one:
        page = admin.get("/admin/exams/examsession/")
    assert page.status_code == 200
    row = page.context["cl"].result_list[0]
    # Two reported, one resume noted from the second address.
    assert (row.sittings_seen, row.signals) == (2, 3)
    for other in (UserFactory(), UserFactory(), UserFactory()):
        start_exam_session(user=other, template_id=template.id)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert admin.get("/admin/exams/examsession/").status_code == 200
