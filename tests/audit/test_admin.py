"""The audit trail in the admin: read-only for everyone, filters, search and CSV export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.contrib.auth.models import Group, Permission
from django.test import Client, RequestFactory
from django.utils import timezone

from apps.accounts.models import Role, User
from apps.audit.admin import AuditEventAdmin
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/audit/auditevent/"
EXPORT = "/admin/audit/auditevent/export/"


def staff_client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def read_csv(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response.streaming
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def events(user: User, admin_user: User) -> dict[str, AuditEvent]:
    with time_machine.travel(timezone.now() - timedelta(days=10), tick=False):
        old = record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.login_failed",
            target=user,
            subject_user_id=user.pk,
        )
    return {
        "old": old,
        "content": record_event(
            kind=AuditEvent.Kind.CONTENT,
            action="questions.question.updated",
            actor=admin_user,
            target_type="questions.question",
            target_id=4242,
            before={"stem": "a"},
            after={"stem": "b"},
        ),
        "security": record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.password_changed",
            actor=user,
            target=user,
            subject_user_id=user.pk,
        ),
        "formula": record_event(
            kind=AuditEvent.Kind.CONTENT,
            action="cms.page.updated",
            actor=admin_user,
            target_type="cms.page",
            target_id='=HYPERLINK("http://x")',
            after={"title": "+1"},
        ),
    }


def test_nobody_may_add_change_or_delete_events_not_even_a_superuser(
    admin_user: User, events: dict[str, AuditEvent]
) -> None:
    model_admin = AuditEventAdmin(AuditEvent, site)
    request = RequestFactory().get(CHANGELIST)
    request.user = admin_user
    assert admin_user.is_superuser
    event = events["content"]
    assert model_admin.has_view_permission(request, event)
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert "delete_selected" not in model_admin.get_actions(request)

    client = staff_client(admin_user)
    assert client.get(f"{CHANGELIST}add/").status_code == 403
    assert client.get(f"{CHANGELIST}{event.pk}/delete/").status_code == 403
    page = client.get(f"{CHANGELIST}{event.pk}/change/")
    assert page.status_code == 200  # a read-only view
    assert b'name="_save"' not in page.content
    posted = client.post(f"{CHANGELIST}{event.pk}/change/", {"action": "tampered"})
    assert posted.status_code == 403
    bulk = client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [event.pk]})
    assert AuditEvent.objects.filter(pk=event.pk, action="questions.question.updated").exists()
    assert bulk.status_code in {200, 302}


def test_the_model_refuses_updates() -> None:
    event = record_event(kind=AuditEvent.Kind.SECURITY, action="auth.login_failed")
    event.action = "rewritten"
    with pytest.raises(RuntimeError):
        event.save()


def test_who_may_view(events: dict[str, AuditEvent], user: User, editor: User) -> None:
    role_admin = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=False)
    assert staff_client(role_admin).get(CHANGELIST).status_code == 200
    # An editor is staff but sees neither the list nor the export.
    assert staff_client(editor).get(CHANGELIST).status_code == 403
    assert staff_client(editor).get(EXPORT).status_code == 403
    # ... until granted the view permission explicitly.
    auditors = Group.objects.create(name="auditors")
    auditors.permissions.add(Permission.objects.get(codename="view_auditevent"))
    editor.groups.add(auditors)
    assert staff_client(User.objects.get(pk=editor.pk)).get(CHANGELIST).status_code == 200
    # A candidate is sent to the login page.
    assert staff_client(user).get(CHANGELIST).status_code == 302


def test_changelist_filters_and_search(admin_user: User, events: dict[str, AuditEvent]) -> None:
    client = staff_client(admin_user)

    def shown(params: dict[str, str]) -> set[int]:
        response = client.get(CHANGELIST, params)
        assert response.status_code == 200
        return {obj.pk for obj in response.context["cl"].result_list}

    everything = shown({})
    assert {e.pk for e in events.values()} <= everything
    assert shown({"kind__exact": "content"}) == {events["content"].pk, events["formula"].pk}
    assert shown({"action__exact": "auth.password_changed"}) == {events["security"].pk}
    since = (timezone.now() - timedelta(days=7)).date().isoformat()
    recent = shown({"occurred_at__gte": since})
    assert events["old"].pk not in recent
    assert events["content"].pk in recent
    assert shown({"q": "4242"}) == {events["content"].pk}
    assert shown({"q": admin_user.email}) == {events["content"].pk, events["formula"].pk}
    assert shown({"q": "cms.page"}) == {events["formula"].pk}
    assert shown({"q": "password_changed"}) == {events["security"].pk}


def test_changelist_query_count_does_not_grow(
    admin_user: User, django_assert_max_num_queries: Any
) -> None:
    client = staff_client(admin_user)
    for n in range(3):
        record_event(kind=AuditEvent.Kind.SECURITY, action=f"a{n}", actor=admin_user)
    with django_assert_max_num_queries(20) as few:
        assert client.get(CHANGELIST).status_code == 200
    for n in range(60):
        record_event(kind=AuditEvent.Kind.SECURITY, action=f"b{n}", actor=admin_user)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(CHANGELIST).status_code == 200


def test_export_streams_exactly_the_filtered_events(
    admin_user: User, events: dict[str, AuditEvent]
) -> None:
    client = staff_client(admin_user)
    rows = read_csv(client.get(EXPORT, {"kind__exact": "content"}))
    assert {int(r["id"]) for r in rows} == {events["content"].pk, events["formula"].pk}
    by_id = {int(r["id"]): r for r in rows}
    content = by_id[events["content"].pk]
    assert content["action"] == "questions.question.updated"
    assert content["actor_label"] == admin_user.email
    assert content["before"] == '{"stem": "a"}'
    assert content["after"] == '{"stem": "b"}'
    # Spreadsheet formulas are neutralised.
    formula = by_id[events["formula"].pk]
    assert formula["target_id"] == '\'=HYPERLINK("http://x")'
    assert formula["after"] == '{"title": "+1"}'

    searched = read_csv(client.get(EXPORT, {"q": "password_changed"}))
    assert [int(r["id"]) for r in searched] == [events["security"].pk]

    # Every page, not only the first one.
    for n in range(120):
        record_event(kind=AuditEvent.Kind.SESSION, action="exams.answer_saved", target_id=n)
    assert len(read_csv(client.get(EXPORT, {"kind__exact": "session"}))) == 120

    # The export itself is audited, and not part of its own file.
    exported = AuditEvent.objects.filter(action="audit.exported")
    assert exported.count() == 3
    latest = exported.first()
    assert latest is not None
    assert latest.actor == admin_user
    assert latest.after == {"scope": "filtered", "query": "kind__exact=session"}


def test_export_link_keeps_the_current_filters(
    admin_user: User, events: dict[str, AuditEvent]
) -> None:
    page = staff_client(admin_user).get(CHANGELIST, {"kind__exact": "security"}).content.decode()
    assert f'href="{EXPORT}?kind__exact=security"' in page


def test_export_selected_action(admin_user: User, events: dict[str, AuditEvent]) -> None:
    response = staff_client(admin_user).post(
        CHANGELIST,
        {
            "action": "export_selected_csv",
            "_selected_action": [events["old"].pk, events["security"].pk],
        },
    )
    rows = read_csv(response)
    assert {int(r["id"]) for r in rows} == {events["old"].pk, events["security"].pk}
    assert AuditEvent.objects.get(action="audit.exported").after == {
        "scope": "selected",
        "query": "",
    }
