"""Two-factor sign-in with TOTP, for candidates as for staff (ASVS 5.0 6.3.2, 6.5.1, 6.5.5).

Devices are django-otp's ``TOTPDevice`` rows, the same that guard Django Admin, so a staff
member's admin device also guards their API login and one enrolled here also opens the admin.

- Enrolment starts with the password re-checked (under the brute-force limit): a stolen access
  token alone cannot bind the account to someone else's phone. It makes one unconfirmed device
  (a new start replaces it) and hands out its secret and ``otpauth://`` URI, once.
- A current code confirms it. From then on every login needs a code, and the account's other
  device sessions end: they were started without the second factor.
- Disabling needs the password and removes every device of the account.
- At login a missing code is 401 ``otp_required``, a wrong one 401 ``otp_invalid`` (audited).
  A code is accepted once: the device keeps the last time step used and only later steps
  pass, and the device row is locked while a code is checked, so two concurrent logins cannot
  spend one code. After a wrong code the device waits 1 s, doubling with each further failure
  (django-otp's throttle, ``OTP_TOTP_THROTTLE_FACTOR``): 429 ``too_many_otp_failures`` with
  ``Retry-After`` until then, so a million codes cannot be tried.

A 401 ``otp_required`` tells the caller the password was right; that is inherent to a second
step the client must know to ask for, and guessing passwords stays under the login limits.
"""

from __future__ import annotations

import math
from base64 import b32encode
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.models import User
from apps.accounts.services.common import record_own_security_event
from apps.accounts.services.limits import check_current_password
from apps.accounts.tokens import revoke_sessions
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import Conflict, TooManyRequests, Unauthorized, ValidationFailed

DEVICE_NAME = "authenticator app"


class OTPRequired(Unauthorized):
    code = "otp_required"
    default_message = "Two-factor sign-in is on: send the code from your authenticator app."


class OTPInvalid(Unauthorized):
    code = "otp_invalid"
    default_message = "The code is not correct or was already used. Wait for the next code."


class OTPCodeRefused(ValidationFailed):
    code = "otp_invalid"
    default_message = "The code is not correct or was already used. Wait for the next code."

    def __init__(self) -> None:
        super().__init__(fields={"code": [self.default_message]})


class TooManyOTPFailures(TooManyRequests):
    code = "too_many_otp_failures"
    default_message = "Too many wrong codes. Wait a moment, then try the next code."


class TOTPAlreadyEnabled(Conflict):
    code = "totp_enabled"
    default_message = "Two-factor sign-in is already on. Disable it first to enrol again."


class TOTPNotStarted(Conflict):
    code = "totp_not_started"
    default_message = "No enrolment is waiting for a code. Start one first."


@dataclass(frozen=True)
class TOTPEnrolment:
    secret: str  # base32, as authenticator apps take it when typed in
    otpauth_uri: str  # the same, as a QR code's content


def _lock_user(user: User) -> None:
    """Serialises enrolment changes of one account (there may be no device row to lock)."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def start_totp_enrolment(*, user: User, password: str, ip_address: str | None) -> TOTPEnrolment:
    """Re-checks the password and makes a fresh unconfirmed device; returns its secret."""
    check_current_password(user=user, password=password, ip_address=ip_address)
    with transaction.atomic():
        _lock_user(user)
        devices = TOTPDevice.objects.filter(user=user)
        if devices.filter(confirmed=True).exists():
            raise TOTPAlreadyEnabled()
        devices.delete()
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
        record_own_security_event(
            user=user, action="auth.totp_enrolment_started", ip_address=ip_address
        )
    return TOTPEnrolment(
        secret=b32encode(device.bin_key).decode("ascii"), otpauth_uri=device.config_url
    )


def confirm_totp_enrolment(
    *, user: User, code: str, current_session_id: int | None, ip_address: str | None
) -> None:
    """Turns two-factor sign-in on with a current code; ends the account's other sessions."""
    with transaction.atomic():
        _lock_user(user)
        devices = TOTPDevice.objects.filter(user=user)
        if devices.filter(confirmed=True).exists():
            raise TOTPAlreadyEnabled()
        device = devices.filter(confirmed=False).order_by("-pk").first()
        if device is None:
            raise TOTPNotStarted()
        _ensure_allowed(device)
        verified = device.verify_token(code.strip())
        if verified:
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            record_own_security_event(user=user, action="auth.totp_enabled", ip_address=ip_address)
            revoke_sessions(
                user=user,
                except_session_id=current_session_id,
                reason="totp_enabled",
                actor=user,
                ip_address=ip_address,
            )
    # Raised outside the transaction, so the device's failure count is kept.
    if not verified:
        raise OTPCodeRefused()


def disable_totp(*, user: User, password: str, ip_address: str | None) -> None:
    """Re-checks the password and removes every device of the account (idempotent)."""
    check_current_password(user=user, password=password, ip_address=ip_address)
    with transaction.atomic():
        _lock_user(user)
        removed, _ = TOTPDevice.objects.filter(user=user).delete()
        if removed:
            record_own_security_event(user=user, action="auth.totp_disabled", ip_address=ip_address)


def verify_login_code(*, user: User, code: str, ip_address: str | None) -> None:
    """The login's second step, after a right password: passes when the account has no
    confirmed device, or when ``code`` is a current, unused code of one of its devices."""
    if not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        return
    code = code.strip()
    if not code:
        raise OTPRequired()
    with transaction.atomic():
        devices = list(
            TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("pk")
        )
        for device in devices:
            _ensure_allowed(device)
        verified = any(device.verify_token(code) for device in devices)
    if not verified:
        record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.otp_failed",
            target=user,
            subject_user_id=user.pk,
            ip_address=ip_address,
        )
        raise OTPInvalid()


def _ensure_allowed(device: TOTPDevice) -> None:
    allowed, details = device.verify_is_allowed()
    if allowed:
        return
    locked_until = (details or {}).get("locked_until")
    wait = (locked_until - timezone.now()).total_seconds() if locked_until else 1
    raise TooManyOTPFailures(retry_after=max(1, math.ceil(wait)))
