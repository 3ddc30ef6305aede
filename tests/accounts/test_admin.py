"""The staff tool: users with their profile, device sessions with a revoke action."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.accounts.models import AuthSession, Profile, User
from apps.accounts.tokens import issue_tokens_for
from apps.audit.models import AuditEvent
from tests.accounts.helpers import bearer

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(admin_user: User) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def test_user_pages_render_and_search(staff: Client, user: User) -> None:
    changelist = staff.get("/admin/accounts/user/", {"q": user.email, "role__exact": "user"})
    assert changelist.status_code == 200
    assert user.email in changelist.content.decode()
    assert staff.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200
    assert staff.get("/admin/accounts/user/add/").status_code == 200


def test_staff_can_add_a_user_and_a_profile_is_created(staff: Client) -> None:
    response = staff.post(
        "/admin/accounts/user/add/",
        {
            "email": "Staff.Made@example.com",
            "role": "editor",
            "usable_password": "true",
            "password1": "a fine long passphrase",
            "password2": "a fine long passphrase",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email="staff.made@example.com")
    assert user.role == "editor"
    assert Profile.objects.filter(user=user).exists()


def test_revoke_action_logs_the_devices_out(staff: Client, user: User, admin_user: User) -> None:
    access = issue_tokens_for(user=user)["access"]
    session = AuthSession.objects.get(user=user)
    assert staff.get("/admin/accounts/authsession/").status_code == 200
    response = staff.post(
        "/admin/accounts/authsession/",
        {"action": "revoke", "_selected_action": [session.pk]},
    )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.revoked_at is not None
    assert bearer(access).get("/api/v1/me").status_code == 401
    event = AuditEvent.objects.get(action="auth.sessions_revoked")
    assert event.actor == admin_user


def test_candidates_cannot_use_the_admin(user: User) -> None:
    client = Client()
    client.force_login(user)
    assert client.get("/admin/accounts/user/").status_code == 302


def test_sign_in_trust_records_are_readable_and_never_show_a_token_hash(
    staff: Client, user: User
) -> None:
    from apps.accounts.models import KnownDevice, KnownNetwork, LoginFailure

    network = KnownNetwork.objects.create(user=user, network="203.0.113.0/24")
    device = KnownDevice.objects.create(user=user, token_hash="cd" * 32)
    LoginFailure.objects.create(email=user.email, source="net:198.51.100.0/24")
    for path in ("knownnetwork", "knowndevice", "loginfailure"):
        page = staff.get(f"/admin/accounts/{path}/", {"q": user.email})
        assert page.status_code == 200, path
        assert device.token_hash is not None
        assert str(device.token_hash) not in page.content.decode()
    assert network.network in staff.get("/admin/accounts/knownnetwork/").content.decode()
    detail = staff.get(f"/admin/accounts/knowndevice/{device.pk}/change/")
    assert detail.status_code == 200
    assert str(device.token_hash) not in detail.content.decode()
    # Only the sign-in flow writes them.
    assert staff.get("/admin/accounts/knownnetwork/add/").status_code == 403
    assert staff.post(f"/admin/accounts/knowndevice/{device.pk}/delete/").status_code == 403
