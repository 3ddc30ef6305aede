"""The audit trail is append-only in the database too, not only through the model."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.audit.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(admin_user: User, user: User) -> AuditEvent:
    return record_event(
        kind=AuditEvent.Kind.CONTENT,
        action="accounts.user.roles_changed",
        actor=admin_user,
        target=user,
        subject_user_id=user.pk,
        before={"role": "user"},
        after={"role": "editor"},
    )


def refused(statement: object) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        statement()  # type: ignore[operator]


def test_updates_and_deletes_are_refused_by_the_database(event: AuditEvent) -> None:
    rows = AuditEvent.objects.filter(pk=event.pk)
    refused(lambda: rows.update(action="nothing.happened"))
    refused(lambda: rows.update(after={"role": "user"}))
    refused(lambda: rows.update(actor=None, action="rewritten"))  # more than the actor
    refused(lambda: rows.delete())

    def raw_sql() -> None:
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")

    refused(raw_sql)
    event.refresh_from_db()
    assert event.action == "accounts.user.roles_changed"
    assert event.after == {"role": "editor"}


def test_new_events_are_still_written(event: AuditEvent) -> None:
    record_event(kind=AuditEvent.Kind.SECURITY, action="auth.login_failed")
    assert AuditEvent.objects.count() == 2


def test_a_deleted_actor_is_pseudonymised_and_nothing_else_changes(
    event: AuditEvent, admin_user: User, user: User
) -> None:
    admin_id, email = admin_user.pk, admin_user.email
    untouched = record_event(kind=AuditEvent.Kind.SECURITY, action="auth.x", actor=user)
    admin_user.delete()
    event.refresh_from_db()
    assert event.actor_id is None
    assert event.actor_label == f"deleted user #{admin_id}"
    assert not AuditEvent.objects.filter(actor_label=email).exists()
    assert event.after == {"role": "editor"}
    untouched.refresh_from_db()
    assert untouched.actor_label == user.email
    # The pseudonym is the only label the database accepts for an unlinked actor.
    rows = AuditEvent.objects.filter(pk=event.pk)
    refused(lambda: rows.update(actor_label="someone else"))


def test_deleting_an_account_through_the_api_leaves_no_address_in_the_trail(user: User) -> None:
    from tests.accounts.factories import DEFAULT_PASSWORD
    from tests.accounts.helpers import bearer, tokens_for

    client = bearer(tokens_for(user.email)["access"])
    assert (
        client.post(
            "/api/v1/auth/change-password",
            {"current_password": DEFAULT_PASSWORD, "new_password": "tangerine lighthouse orbit"},
        ).status_code
        == 204
    )
    email, user_id = user.email, user.pk
    assert (
        client.delete("/api/v1/me", {"password": "tangerine lighthouse orbit"}).status_code == 204
    )
    assert not AuditEvent.objects.filter(actor_label=email).exists()
    assert AuditEvent.objects.filter(actor_label=f"deleted user #{user_id}").exists()
    assert email not in str(list(AuditEvent.objects.values_list("before", "after")))


def test_erasure_may_rewrite_who_an_event_names_and_nothing_else(user: User) -> None:
    from apps.audit.services import erasure

    event = record_event(
        kind=AuditEvent.Kind.SECURITY,
        action="auth.invited",
        subject_user_id=user.pk,
        after={"invited": user.email},
    )
    rows = AuditEvent.objects.filter(pk=event.pk)
    refused(lambda: rows.update(after={"invited": "someone"}))  # not outside erasure
    with erasure():
        rows.update(after={"invited": f"deleted user #{user.pk}"})
        refused(lambda: rows.update(action="rewritten"))
        refused(lambda: rows.update(subject_user_id=None))
        refused(lambda: rows.delete())
    refused(lambda: rows.update(after={}))  # the permission ended with the block
    event.refresh_from_db()
    assert event.after == {"invited": f"deleted user #{user.pk}"}
    assert event.action == "auth.invited"


def test_account_deletion_erases_the_address_inside_event_values(user: User) -> None:
    from tests.accounts.factories import DEFAULT_PASSWORD
    from tests.accounts.helpers import bearer, tokens_for

    email, user_id = user.email, user.pk
    record_event(
        kind=AuditEvent.Kind.SECURITY,
        action="auth.invited",
        subject_user_id=user_id,
        after={"invited": email, "note": f"sent to {email.upper()}"},
    )
    client = bearer(tokens_for(email)["access"])
    assert client.delete("/api/v1/me", {"password": DEFAULT_PASSWORD}).status_code == 204
    event = AuditEvent.objects.get(action="auth.invited")
    assert event.after == {
        "invited": f"deleted user #{user_id}",
        "note": f"sent to deleted user #{user_id}",
    }
    assert email not in str(list(AuditEvent.objects.values_list("actor_label", "before", "after")))


def test_an_admin_deletion_erases_as_much_as_the_api(admin_user: User, user: User) -> None:
    from django.test import Client

    old_email, user_id = user.email, user.pk
    record_event(kind=AuditEvent.Kind.SECURITY, action="auth.x", actor=user)
    # The address changes later: the label recorded above still holds the old one.
    user.email = "renamed@example.com"
    user.save(update_fields=["email"])
    record_event(
        kind=AuditEvent.Kind.SECURITY,
        action="auth.y",
        subject_user_id=user_id,
        after={"to": user.email},
    )
    staff = Client()
    staff.force_login(admin_user)
    response = staff.post(f"/admin/accounts/user/{user_id}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=user_id).exists()
    rows = str(list(AuditEvent.objects.values_list("actor_label", "before", "after")))
    assert old_email not in rows
    assert "renamed@example.com" not in rows
    assert AuditEvent.objects.get(action="auth.x").actor_label == f"deleted user #{user_id}"
    assert AuditEvent.objects.get(action="auth.y").after == {"to": f"deleted user #{user_id}"}
