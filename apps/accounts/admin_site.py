"""Django Admin behind two-factor authentication (django-otp, TOTP).

With ``ADMIN_REQUIRE_OTP`` (the default everywhere but local development) a staff member gets
in only after a password and a current TOTP code from a confirmed device; a session logged in
some other way but not verified by a device is treated as not staff. Devices are enrolled with
``manage.py create_totp_device <email>``. Password failures on the admin login count towards the
same durable per-account limit as API logins.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.sites import AdminSite
from django.core import checks
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite
from django_otp.models import Device

from apps.accounts import services
from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.audit.services import record_event


class _LimitedLoginMixin:
    """Applies the per-account failure limit to the admin's password check."""

    request: HttpRequest | None
    cleaned_data: dict[str, Any]

    def clean(self) -> dict[str, Any]:
        email = str(self.cleaned_data.get("username") or "")
        ip_address = self.request.META.get("REMOTE_ADDR") if self.request else None
        if email:
            retry_after = services.login_retry_after(email=email, ip_address=ip_address)
            if retry_after:
                raise ValidationError(
                    "Too many failed attempts for this account. Try again later.",
                    code="too_many_login_failures",
                )
        try:
            return super().clean()  # type: ignore[misc]
        except ValidationError as exc:
            user = getattr(self, "user_cache", None)
            if email and user is None:
                services.record_login_failure(
                    email=email, ip_address=ip_address, action="admin.login_failed"
                )
            elif user is not None and any(
                e.code == "invalid_token" for e in getattr(exc, "error_list", [])
            ):
                record_event(
                    kind=AuditEvent.Kind.SECURITY,
                    action="admin.otp_failed",
                    target=user,
                    subject_user_id=user.pk,
                    ip_address=ip_address,
                )
            raise exc


class StaffPasswordForm(_LimitedLoginMixin, AdminAuthenticationForm):
    pass


class StaffOTPForm(_LimitedLoginMixin, OTPAdminAuthenticationForm):
    def _chosen_device(self, user: User) -> Device | None:
        device = super()._chosen_device(user)
        if device is None and not self.cleaned_data.get("otp_device"):
            # With a single confirmed device there is nothing to choose.
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = Device.from_persistent_id(devices[0].persistent_id, for_verify=True)
        return device


class StaffAdminSite(OTPAdminSite):
    site_header = "OpenMRCS administration"
    site_title = "OpenMRCS admin"

    def __init__(self, name: str = "admin"):
        AdminSite.__init__(self, name)

    @property
    def login_form(self) -> type[AdminAuthenticationForm]:
        return StaffOTPForm if settings.ADMIN_REQUIRE_OTP else StaffPasswordForm

    @property
    def login_template(self) -> str | None:
        return OTPAdminSite.login_template if settings.ADMIN_REQUIRE_OTP else None

    def has_permission(self, request: HttpRequest) -> bool:
        if settings.ADMIN_REQUIRE_OTP:
            return super().has_permission(request)
        return AdminSite.has_permission(self, request)


@checks.register(checks.Tags.security, deploy=True)
def check_admin_requires_otp(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    if getattr(settings, "ADMIN_REQUIRE_OTP", True):
        return []
    return [
        checks.Warning(
            "ADMIN_REQUIRE_OTP is off: staff reach the admin with a password alone.",
            hint="Leave ADMIN_REQUIRE_OTP on outside local development.",
            id="accounts.W001",
        )
    ]
