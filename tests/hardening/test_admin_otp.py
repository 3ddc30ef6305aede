"""Django Admin behind two-factor authentication (ASVS 5.0 6.3 / 4.0.3 2.7-2.8): with
ADMIN_REQUIRE_OTP on, staff need a password and a current TOTP code from a confirmed device."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from io import StringIO
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
import time_machine
from django.core import checks
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import LoginFailure, Role, User
from apps.audit.models import AuditEvent
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PAGES = ["/admin/", "/admin/accounts/user/", "/admin/audit/auditevent/"]


@pytest.fixture
def otp_required(settings: Any) -> None:
    settings.ADMIN_REQUIRE_OTP = True


def totp_code(device: TOTPDevice, at: float | None = None) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()
    return str(totp.token()).zfill(device.digits)


def admin_login(client: Client, email: str, password: str = DEFAULT_PASSWORD, **otp: str) -> Any:
    return client.post(LOGIN, {"username": email, "password": password, **otp})


def can_reach_admin(client: Client) -> bool:
    statuses = {client.get(page).status_code for page in PAGES}
    assert len(statuses) == 1, statuses
    return statuses == {200}


def test_staff_without_a_verified_device_cannot_reach_the_admin(
    otp_required: None, admin_user: User
) -> None:
    client = Client()
    client.force_login(admin_user)  # a password session, not verified by a device
    assert not can_reach_admin(client)
    assert client.get("/admin/").url.startswith(LOGIN)
    # The password alone is not enough on the login form either.
    response = admin_login(Client(), admin_user.email)
    assert response.status_code == 200
    assert "_auth_user_id" not in response.wsgi_request.session


def test_a_device_and_a_valid_code_let_staff_in(otp_required: None, admin_user: User) -> None:
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    client = Client()
    response = admin_login(client, admin_user.email, otp_token=totp_code(device))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert can_reach_admin(client)


def test_wrong_codes_and_other_peoples_devices_are_refused(
    otp_required: None, admin_user: User
) -> None:
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    other_staff = UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True)
    other_device = TOTPDevice.objects.create(user=other_staff, name="phone", confirmed=True)
    now = time.time()
    stale = totp_code(device, at=now - 600)

    client = Client()
    assert admin_login(client, admin_user.email, otp_token=stale).status_code == 200
    assert not can_reach_admin(client)
    # Someone else's device and code do not verify this account.
    response = admin_login(
        client,
        admin_user.email,
        otp_device=other_device.persistent_id,
        otp_token=totp_code(other_device),
    )
    assert response.status_code == 200
    assert not can_reach_admin(client)
    assert AuditEvent.objects.filter(action="admin.otp_failed", subject_user_id=admin_user.pk)
    # An unconfirmed device does not count.
    device.confirmed = False
    device.save()
    assert admin_login(client, admin_user.email, otp_token=totp_code(device)).status_code == 200
    assert not can_reach_admin(client)


def test_a_code_works_once(otp_required: None, admin_user: User) -> None:
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    code = totp_code(device)
    assert admin_login(Client(), admin_user.email, otp_token=code).status_code == 302
    replay = Client()
    assert admin_login(replay, admin_user.email, otp_token=code).status_code == 200
    assert not can_reach_admin(replay)


def test_candidates_and_wrong_passwords_are_refused_even_with_a_device(
    otp_required: None, user: User, admin_user: User
) -> None:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    client = Client()
    assert admin_login(client, user.email, otp_token=totp_code(device)).status_code == 200
    assert not can_reach_admin(client)
    staff_device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    response = admin_login(
        client, admin_user.email, "not the password", otp_token=totp_code(staff_device)
    )
    assert response.status_code == 200
    assert not can_reach_admin(client)


def test_admin_password_failures_count_towards_the_account_limit(
    otp_required: None, admin_user: User, settings: Any
) -> None:
    settings.LOGIN_MAX_FAILURES_PER_HOUR = 3
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    for _ in range(3):
        assert admin_login(Client(), admin_user.email, "wrong password!").status_code == 200
    assert LoginFailure.objects.filter(email=admin_user.email).count() == 3
    assert AuditEvent.objects.filter(action="admin.login_failed").count() == 3
    assert AuditEvent.objects.filter(action="auth.lockout").exists()
    locked = Client()
    response = admin_login(locked, admin_user.email, otp_token=totp_code(device))
    assert response.status_code == 200
    assert "Too many failed attempts" in response.content.decode()
    assert not can_reach_admin(locked)
    # No permanent lockout: an hour later the right password and code get in.
    with time_machine.travel(timezone.now() + timedelta(hours=1, minutes=1)):
        later = Client()
        assert admin_login(later, admin_user.email, otp_token=totp_code(device)).status_code == 302
        assert can_reach_admin(later)


def test_without_the_requirement_a_password_is_enough(admin_user: User, settings: Any) -> None:
    settings.ADMIN_REQUIRE_OTP = False
    client = Client()
    assert admin_login(client, admin_user.email).status_code == 302
    assert can_reach_admin(client)


def test_deploy_check_warns_when_the_requirement_is_off(settings: Any) -> None:
    settings.ADMIN_REQUIRE_OTP = False
    ids = {m.id for m in checks.run_checks(include_deployment_checks=True, tags=["security"])}
    assert "accounts.W001" in ids
    settings.ADMIN_REQUIRE_OTP = True
    ids = {m.id for m in checks.run_checks(include_deployment_checks=True, tags=["security"])}
    assert "accounts.W001" not in ids


# --- enrolment ------------------------------------------------------------------------------------


def enrol(email: str, *args: str) -> str:
    out = StringIO()
    call_command("create_totp_device", email, *args, stdout=out)
    return out.getvalue()


def test_create_totp_device_prints_a_url_that_enrols_an_authenticator(
    otp_required: None, admin_user: User
) -> None:
    output = enrol(admin_user.email.upper())
    url = re.search(r"otpauth://\S+", output)
    assert url, output
    parsed = urlparse(url.group(0))
    assert parsed.netloc == "totp"
    assert parse_qs(parsed.query)["issuer"] == ["OpenMRCS"]
    assert unquote(parsed.path) == f"/OpenMRCS:{admin_user.email}"
    secret = parse_qs(parsed.query)["secret"][0]
    device = TOTPDevice.objects.get(user=admin_user)
    assert device.confirmed
    # An authenticator app holding only the URL's secret produces codes the admin accepts.
    import base64

    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    code = str(TOTP(key, device.step, device.t0, device.digits).token()).zfill(device.digits)
    client = Client()
    assert admin_login(client, admin_user.email, otp_token=code).status_code == 302
    assert can_reach_admin(client)
    event = AuditEvent.objects.get(action="admin.totp_device_created")
    assert event.subject_user_id == admin_user.pk
    assert secret not in str(event.after)
    with_qr = enrol(admin_user.email, "--name", "backup", "--qr")
    assert with_qr.count("\u2588") > 100  # a terminal QR code follows the URL
    assert TOTPDevice.objects.filter(user=admin_user).count() == 2


def test_create_totp_device_refuses_unknown_non_staff_and_duplicate(
    user: User, admin_user: User
) -> None:
    with pytest.raises(CommandError, match="No user"):
        enrol("nobody@example.com")
    with pytest.raises(CommandError, match="not active staff"):
        enrol(user.email)
    enrol(admin_user.email)
    first_key = TOTPDevice.objects.get(user=admin_user).key
    with pytest.raises(CommandError, match="--replace"):
        enrol(admin_user.email)
    enrol(admin_user.email, "--replace")
    device = TOTPDevice.objects.get(user=admin_user)
    assert device.key != first_key


def test_seeded_demo_staff_use_the_admin_locally_and_enrol_for_2fa(settings: Any) -> None:
    from apps.accounts.seed import DEFAULT_DEMO_PASSWORD, seed_demo

    settings.SEED_PRINT_CREDENTIALS = True  # as in local development
    settings.ADMIN_REQUIRE_OTP = False
    seed_demo(stdout=StringIO())
    client = Client()
    assert admin_login(client, "admin@openmrcs.local", DEFAULT_DEMO_PASSWORD).status_code == 302
    assert can_reach_admin(client)

    settings.ADMIN_REQUIRE_OTP = True
    assert not can_reach_admin(client)
    enrol("admin@openmrcs.local")
    device = TOTPDevice.objects.get(user__email="admin@openmrcs.local")
    verified = Client()
    response = admin_login(
        verified, "admin@openmrcs.local", DEFAULT_DEMO_PASSWORD, otp_token=totp_code(device)
    )
    assert response.status_code == 302
    assert can_reach_admin(verified)


def test_an_admin_sign_in_lasts_a_working_day_at_most(otp_required: None, admin_user: User) -> None:
    device = TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = Client()
        assert admin_login(client, admin_user.email, otp_token=totp_code(device)).status_code == 302
    with time_machine.travel(start + timedelta(hours=7, minutes=50), tick=False):
        assert can_reach_admin(client)
    with time_machine.travel(start + timedelta(hours=8, minutes=1), tick=False):
        assert not can_reach_admin(client)
