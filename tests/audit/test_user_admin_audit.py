"""Staff changes to a user's role, flags, groups and password are audited with before/after."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.accounts.models import User
from apps.accounts.tokens import issue_tokens_for
from apps.audit.models import AuditEvent
from tests.accounts.helpers import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def change_form(user: User, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "email": user.email,
        "role": user.role,
        "is_email_verified": "on" if user.is_email_verified else "",
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "groups": [],
        "user_permissions": [],
        "profile-TOTAL_FORMS": "1",
        "profile-INITIAL_FORMS": "1",
        "profile-MIN_NUM_FORMS": "0",
        "profile-MAX_NUM_FORMS": "1",
        "profile-0-id": user.profile.pk,
        "profile-0-user": user.pk,
        "profile-0-display_name": user.profile.display_name,
        "profile-0-avatar": "",
        "profile-0-timezone": "UTC",
        "profile-0-prefers_explanations": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def test_role_change_is_audited_with_before_and_after(
    staff: Client, user: User, admin_user: User
) -> None:
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/change/", change_form(user, role="editor", is_staff="on")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.role == "editor"
    event = AuditEvent.objects.get(action="accounts.user.roles_changed")
    assert event.kind == AuditEvent.Kind.CONTENT
    assert event.actor == admin_user
    assert event.target_type == "accounts.user"
    assert event.target_id == str(user.pk)
    assert event.subject_user_id == user.pk
    assert event.before == {"role": "user", "is_staff": False}
    assert event.after == {"role": "editor", "is_staff": True}


def test_saving_without_a_role_change_records_nothing(staff: Client, user: User) -> None:
    response = staff.post(f"/admin/accounts/user/{user.pk}/change/", change_form(user))
    assert response.status_code == 302
    assert not AuditEvent.objects.filter(action__startswith="accounts.user.").exists()


def test_group_change_is_audited(staff: Client, user: User) -> None:
    group = Group.objects.create(name="reviewers")
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/change/", change_form(user, groups=[group.pk])
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="accounts.user.groups_changed")
    assert event.before == {"groups": []}
    assert event.after == {"groups": ["reviewers"]}


def test_user_created_by_staff_is_audited(staff: Client) -> None:
    response = staff.post(
        "/admin/accounts/user/add/",
        {
            "email": "new.editor@example.com",
            "role": "editor",
            "usable_password": "true",
            "password1": "a fine long passphrase",
            "password2": "a fine long passphrase",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="accounts.user.created_by_staff")
    assert event.after == {
        "role": "editor",
        "is_staff": False,
        "is_superuser": False,
        "is_active": True,
    }
    assert "a fine long passphrase" not in str(event.after)


def test_password_set_by_staff_logs_the_user_out_and_is_audited(staff: Client, user: User) -> None:
    access = issue_tokens_for(user=user)["access"]
    new_password = "another fine long passphrase"
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": new_password, "password2": new_password, "usable_password": "true"},
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new_password)
    assert bearer(access).get("/api/v1/me").status_code == 401
    event = AuditEvent.objects.get(action="accounts.user.password_set_by_staff")
    assert event.after == {"usable": True}
    for row in AuditEvent.objects.values("before", "after"):
        assert new_password not in str(row)
    # A refused form changes nothing.
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": "short", "password2": "short", "usable_password": "true"},
    )
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="accounts.user.password_set_by_staff").count() == 1


def test_email_change_by_staff_is_a_masked_security_event(
    staff: Client, user: User, admin_user: User
) -> None:
    old = user.email
    response = staff.post(
        f"/admin/accounts/user/{user.pk}/change/", change_form(user, email="zed.new@example.org")
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = AuditEvent.objects.get(action="accounts.user.email_changed_by_staff")
    assert event.kind == AuditEvent.Kind.SECURITY
    assert event.actor == admin_user
    assert event.before == {"email": f"{old[0]}***@example.com"}
    assert event.after == {"email": "z***@example.org"}
    assert old not in str(event.before)
    assert "zed.new@example.org" not in str(event.after)
    # Only the address changed: no role event.
    assert not AuditEvent.objects.filter(action="accounts.user.roles_changed").exists()
