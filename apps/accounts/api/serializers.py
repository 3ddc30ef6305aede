"""Input and output shapes of the auth and profile endpoints."""

from __future__ import annotations

import zoneinfo
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from django.utils import timezone as django_timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.entitlements import entitlements_provider
from apps.accounts.models import (
    MAX_DAILY_NEW_LIMIT,
    MAX_DAILY_REVIEW_LIMIT,
    MAX_DESIRED_RETENTION,
    MIN_DESIRED_RETENTION,
    AuthSession,
    Role,
    User,
)
from apps.accounts.services.common import normalise_email, password_errors
from apps.core.api.serializers import InputSerializer

# Login-type fields accept long input but not unbounded input (hashing cost).
_MAX_SECRET = 1024


@lru_cache(maxsize=1)
def _timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


class RegisterSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=_MAX_SECRET,
        style={"input_type": "password"},
    )
    display_name = serializers.CharField(
        max_length=80, required=False, allow_blank=True, default=""
    )

    def validate_password(self, value: str) -> str:
        """The password policy here too, so that a weak password is reported in the same reply
        as an invalid email (``register_user`` checks it again: it is the rule's home)."""
        email = self.initial_data.get("email") if isinstance(self.initial_data, dict) else None
        errors = password_errors(value, User(email=normalise_email(str(email or ""))))
        if errors:
            raise serializers.ValidationError(errors)
        return value


REGISTERED_DETAIL = "Check your inbox: we have sent a message to finish signing up."


class RegisteredSerializer(serializers.Serializer):
    """The same for a new and a taken address. The contract's ``id`` stays in the reply but is
    always null: the account's id would tell a new address from a taken one (ASVS 6.3.8); the
    client reads its id from ``GET /me`` after signing in."""

    id = serializers.IntegerField(
        allow_null=True, help_text="Always null (the reply must not reveal an account)."
    )
    email = serializers.EmailField(help_text="The address, normalised (trimmed, lower-cased).")
    detail = serializers.CharField()


class TokenSerializer(InputSerializer):
    token = serializers.CharField(max_length=_MAX_SECRET)


class LoginSerializer(InputSerializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=_MAX_SECRET,
        style={"input_type": "password"},
    )
    device_token = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "The `device_token` an earlier login or unlock link gave this browser for this "
            "account: failures from elsewhere then never refuse it."
        ),
    )
    otp = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        default="",
        help_text=(
            "The current code of the authenticator app, needed once two-factor sign-in is on "
            "(`/me/totp`); without it such an account's login is 401 `otp_required`."
        ),
    )


class RefreshSerializer(InputSerializer):
    refresh = serializers.CharField(max_length=_MAX_SECRET * 4)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(help_text="Short-lived; send as `Authorization: Bearer ...`.")
    refresh = serializers.CharField(help_text="Exchange at /auth/refresh; single use (rotation).")


class LoginResponseSerializer(TokenPairSerializer):
    device_token = serializers.CharField(
        help_text=(
            "Keep it for this account in this browser and send it with later logins (it makes "
            "this a known device, see `/auth/login`)."
        )
    )


class DeviceTokenSerializer(serializers.Serializer):
    detail = serializers.CharField()
    device_token = serializers.CharField(
        help_text="Keep it for this account in this browser, as the login's `device_token`."
    )


class EmailSerializer(InputSerializer):
    email = serializers.EmailField(max_length=254)


class ResetPasswordSerializer(InputSerializer):
    token = serializers.CharField(max_length=_MAX_SECRET)
    password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=_MAX_SECRET,
        style={"input_type": "password"},
    )


class ChangePasswordSerializer(InputSerializer):
    current_password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=_MAX_SECRET,
        style={"input_type": "password"},
    )
    new_password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=_MAX_SECRET,
        style={"input_type": "password"},
    )


class PasswordSerializer(InputSerializer):
    password = serializers.CharField(
        write_only=True,
        trim_whitespace=False,
        max_length=_MAX_SECRET,
        style={"input_type": "password"},
    )


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    email = serializers.EmailField(read_only=True)
    display_name = serializers.CharField(source="profile.display_name", read_only=True)
    avatar = serializers.CharField(source="profile.avatar", read_only=True)
    timezone = serializers.CharField(source="profile.timezone", read_only=True)
    role = serializers.ChoiceField(choices=Role.choices, read_only=True)
    is_email_verified = serializers.BooleanField(read_only=True)
    prefers_explanations = serializers.BooleanField(
        source="profile.prefers_explanations", read_only=True
    )
    exam_sitting = serializers.DateField(
        source="profile.exam_sitting", read_only=True, allow_null=True
    )
    desired_retention = serializers.FloatField(source="profile.desired_retention", read_only=True)
    daily_review_limit = serializers.IntegerField(
        source="profile.daily_review_limit", read_only=True
    )
    daily_new_limit = serializers.IntegerField(source="profile.daily_new_limit", read_only=True)
    entitlements = serializers.SerializerMethodField(
        help_text="What the user may use (all of them while billing is off), e.g. `readiness`."
    )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_entitlements(self, user: User) -> list[str]:
        return entitlements_provider.get()(user)


READ_ONLY_ME_FIELDS = ("id", "email", "role", "is_email_verified")


class MeUpdateSerializer(InputSerializer):
    """Editable: display_name, avatar, timezone, prefers_explanations, exam_sitting (a date, or
    null to clear it), desired_retention (0.80 to 0.97), daily_review_limit (1 to 1000) and
    daily_new_limit (0 to 500).

    ``id``, ``email``, ``role`` and ``is_email_verified`` are read-only: sending one of them
    with its current value is accepted (so a client may send back what it read), sending a
    different value is refused with 400 and a message on that field.
    """

    accepted_extra_fields = READ_ONLY_ME_FIELDS  # compared with the current values in validate()

    display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)
    avatar = serializers.URLField(max_length=500, required=False, allow_blank=True)
    timezone = serializers.CharField(max_length=64, required=False)
    prefers_explanations = serializers.BooleanField(required=False)
    exam_sitting = serializers.DateField(required=False, allow_null=True)
    desired_retention = serializers.FloatField(
        required=False, min_value=MIN_DESIRED_RETENTION, max_value=MAX_DESIRED_RETENTION
    )
    daily_review_limit = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_DAILY_REVIEW_LIMIT
    )
    daily_new_limit = serializers.IntegerField(
        required=False, min_value=0, max_value=MAX_DAILY_NEW_LIMIT
    )

    def validate_exam_sitting(self, value: date | None) -> date | None:
        # A sitting is a target: a date in the past or years away is a typing mistake.
        if value is not None:
            today = django_timezone.localdate()
            if value < today - timedelta(days=1) or value > today + timedelta(days=3 * 366):
                raise serializers.ValidationError(
                    "The exam sitting must be between today and three years from now."
                )
        return value

    def validate_timezone(self, value: str) -> str:
        if value not in _timezones():
            raise serializers.ValidationError("Not a known IANA time zone, e.g. Europe/London.")
        return value

    def validate_avatar(self, value: str) -> str:
        if value and not value.lower().startswith(("https://", "http://")):
            raise serializers.ValidationError("The avatar must be an http(s) URL.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user: User = self.context["user"]
        current = MeSerializer(user).data
        data = self.initial_data if isinstance(self.initial_data, dict) else {}
        errors = {
            name: ["This field is read-only."]
            for name in READ_ONLY_ME_FIELDS
            if name in data and data[name] != current[name]
        }
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class DeviceSerializer(serializers.ModelSerializer[AuthSession]):
    ip = serializers.IPAddressField(source="ip_address", allow_null=True, read_only=True)
    current = serializers.SerializerMethodField()

    class Meta:
        model = AuthSession
        fields = ("id", "user_agent", "ip", "created_at", "last_used_at", "expires_at", "current")
        read_only_fields = fields

    def get_current(self, obj: AuthSession) -> bool:
        return obj.pk == self.context.get("current_session_id")


class TOTPCodeSerializer(InputSerializer):
    code = serializers.CharField(
        max_length=16, help_text="The 6-digit code the authenticator app shows now."
    )


class TOTPEnrolmentSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32, for typing into an authenticator app.")
    otpauth_uri = serializers.CharField(
        help_text="`otpauth://totp/OpenMRCS:<email>?secret=...&issuer=OpenMRCS`, for a QR code."
    )


class TOTPStatusSerializer(serializers.Serializer):
    enabled = serializers.BooleanField(help_text="Login needs a code.")
    pending = serializers.BooleanField(help_text="An enrolment waits for its confirming code.")
