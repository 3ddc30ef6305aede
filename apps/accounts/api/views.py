"""Auth and profile endpoints: thin views over ``services``, ``tokens`` and ``selectors``."""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from apps.accounts import personal_data, selectors, services
from apps.accounts.api import serializers as s
from apps.accounts.api.throttling import AuthScopedRateThrottle
from apps.accounts.models import AuthSession, User
from apps.accounts.tokens import rotate_refresh_token
from apps.core.api.client import client_ip, user_agent
from apps.core.api.schema import error_responses
from apps.core.api.serializers import DetailSerializer

AUTH_TAG = ["auth"]
ME_TAG = ["me"]


def _session_id(request: Request) -> int | None:
    token = request.auth
    try:
        return int(token["sid"]) if token is not None else None  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        return None


def _user(request: Request) -> User:
    return cast(User, request.user)


class PublicAuthView(APIView):
    """Reachable without a token; a stale Authorization header is ignored, not a 401.

    The scoped limits (``throttle_scope``: login, register, password_reset) are counted in
    Redis, and in PostgreSQL while Redis is unreachable (``apps/accounts/api/throttling.py``).
    """

    authentication_classes = ()
    permission_classes = (AllowAny,)
    throttle_classes = (AnonRateThrottle, AuthScopedRateThrottle)


class RegisterView(PublicAuthView):
    throttle_scope = "register"

    @extend_schema(
        tags=AUTH_TAG,
        summary="Create an account",
        description=(
            "Creates an unverified account and its profile, and emails a verification link. "
            "Password policy: 12 to 128 characters, no composition rules, common passwords "
            "and passwords too similar to the email are refused. A taken address gets exactly "
            "the same 201 reply (no account enumeration): nothing is created or changed, and "
            "the owner is emailed that someone tried to sign up with it. So the reply carries "
            "no account id, only the normalised address."
        ),
        request=s.RegisterSerializer,
        responses={201: s.RegisteredSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.RegisterSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email = services.register_user(**data.validated_data, ip_address=client_ip(request))
        return Response(
            s.RegisteredSerializer(
                {"id": None, "email": email, "detail": s.REGISTERED_DETAIL}
            ).data,
            status=status.HTTP_201_CREATED,
        )


class VerifyEmailView(PublicAuthView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Confirm an email address",
        description="The token from the verification email; it works once.",
        request=s.TokenSerializer,
        responses={200: DetailSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.TokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.verify_email(token=data.validated_data["token"])
        return Response({"detail": "Email address verified."})


class LoginView(PublicAuthView):
    throttle_scope = "login"

    @extend_schema(
        tags=AUTH_TAG,
        summary="Log in",
        description=(
            "Starts a device session. Wrong email or password: 401 `invalid_credentials`. "
            "The reply carries a `device_token`: send it with this account's later logins from "
            "this browser. Failures are limited per account and source: a known device (its "
            "`device_token`) or a network the account signed in from before is refused (429 "
            "`too_many_login_failures`, `Retry-After`) only after too many failures of its "
            "own within an hour, never because of failures from elsewhere. Other clients are "
            "also slowed down, with growing waits, once the account has had too many failures "
            "from strangers; its owner is then emailed a link that unlocks a new browser "
            "(`/auth/unlock`). A refused attempt is not checked, even with the right password. "
            "With two-factor sign-in on (`/me/totp`) the right password also needs `otp`, the "
            "current code: missing 401 `otp_required`, wrong or already used 401 `otp_invalid`, "
            "and after a wrong code 429 `too_many_otp_failures` until the wait (1 s, doubling) "
            "is over."
        ),
        request=s.LoginSerializer,
        responses={200: s.LoginResponseSerializer, **error_responses(400, 401, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = services.log_in(
            **data.validated_data, user_agent=user_agent(request), ip_address=client_ip(request)
        )
        return Response(tokens)


class UnlockView(PublicAuthView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Unlock sign-in on this browser",
        description=(
            "The token from the email sent when an account's failures from strangers reach "
            "its limit. Clears the account's failures and returns a `device_token` that makes "
            "this browser a known device (send it with the login). The link works once."
        ),
        request=s.TokenSerializer,
        responses={200: s.DeviceTokenSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.TokenSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        device_token = services.unlock_account(
            token=data.validated_data["token"], ip_address=client_ip(request)
        )
        return Response(
            {"detail": "Sign-in unlocked on this browser.", "device_token": device_token}
        )


class RefreshView(PublicAuthView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Rotate tokens",
        description=(
            "Exchanges a refresh token for a new pair. The presented refresh token is dead "
            "afterwards; of concurrent refreshes of one token exactly one succeeds. A device "
            "session never outlives its absolute lifetime, however often it is refreshed."
        ),
        request=s.RefreshSerializer,
        responses={200: s.TokenPairSerializer, **error_responses(400, 401, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens = rotate_refresh_token(
            refresh=data.validated_data["refresh"], ip_address=client_ip(request)
        )
        return Response(tokens)


class LogoutView(APIView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Log out one device",
        description=(
            "Ends the device session of the given refresh token (which must be the caller's): "
            "its refresh token can never be used again and its access tokens are refused."
        ),
        request=s.RefreshSerializer,
        responses={204: None, **error_responses(400, 401, 404)},
    )
    def post(self, request: Request) -> Response:
        data = s.RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.log_out(
            user=_user(request),
            refresh=data.validated_data["refresh"],
            ip_address=client_ip(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class LogoutAllView(APIView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Log out everywhere",
        description="Ends every device session of the caller, this one included.",
        request=None,
        responses={204: None, **error_responses(401)},
    )
    def post(self, request: Request) -> Response:
        services.log_out_everywhere(user=_user(request), ip_address=client_ip(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ForgotPasswordView(PublicAuthView):
    throttle_scope = "password_reset"

    @extend_schema(
        tags=AUTH_TAG,
        summary="Ask for a password reset link",
        description=(
            "Always 202, whether or not an account has this address. If one does, a "
            "single-use link valid for a short time is emailed; at most 5 emails an hour go to "
            "one address (`PASSWORD_RESET_EMAILS_PER_HOUR`), further requests are dropped "
            "silently (the links already sent still work)."
        ),
        request=s.EmailSerializer,
        responses={202: DetailSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.EmailSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.request_password_reset(email=data.validated_data["email"])
        return Response(
            {"detail": "If an account has this address, a reset link is on its way."},
            status=status.HTTP_202_ACCEPTED,
        )


class ResetPasswordView(PublicAuthView):
    throttle_scope = "password_reset"

    @extend_schema(
        tags=AUTH_TAG,
        summary="Set a new password from a reset link",
        description="The link works once. Every device session of the account is ended.",
        request=s.ResetPasswordSerializer,
        responses={200: DetailSerializer, **error_responses(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = s.ResetPasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.reset_password(**data.validated_data, ip_address=client_ip(request))
        return Response({"detail": "Password changed. Log in with the new password."})


class ChangePasswordView(APIView):
    @extend_schema(
        tags=AUTH_TAG,
        summary="Change password",
        description=(
            "Requires the current password (a wrong one counts towards the account's "
            "brute-force limit). Every other device session is ended; this one stays."
        ),
        request=s.ChangePasswordSerializer,
        responses={204: None, **error_responses(400, 401, 429)},
    )
    def post(self, request: Request) -> Response:
        data = s.ChangePasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.change_password(
            user=_user(request),
            **data.validated_data,
            current_session_id=_session_id(request),
            ip_address=client_ip(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(
        tags=ME_TAG,
        summary="The caller's profile",
        responses={200: s.MeSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        selectors.profile_for(user)
        return Response(s.MeSerializer(user).data)

    @extend_schema(
        tags=ME_TAG,
        summary="Edit the caller's profile",
        description=(
            "Editable: `display_name`, `avatar` (http(s) URL), `timezone` (IANA name) and "
            "`prefers_explanations`. `id`, `email`, `role` and `is_email_verified` are "
            "read-only: echoing their current value is accepted, a different value is a 400 "
            "on that field. Unknown fields are ignored."
        ),
        request=s.MeUpdateSerializer,
        responses={200: s.MeSerializer, **error_responses(400, 401)},
    )
    def patch(self, request: Request) -> Response:
        user = _user(request)
        selectors.profile_for(user)
        data = s.MeUpdateSerializer(data=request.data, context={"user": user})
        data.is_valid(raise_exception=True)
        user.profile = services.update_profile(user=user, **data.validated_data)
        return Response(s.MeSerializer(user).data)

    @extend_schema(
        tags=ME_TAG,
        summary="Delete the account",
        description=(
            "Deletes the account and its personal data after re-checking the password (a "
            "wrong one is a 400 on `password` and counts towards the brute-force limit). "
            "Every device session ends."
        ),
        request=s.PasswordSerializer,
        responses={204: None, **error_responses(400, 401, 409, 429)},
    )
    def delete(self, request: Request) -> Response:
        data = s.PasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.delete_account(
            user=_user(request),
            password=data.validated_data["password"],
            ip_address=client_ip(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class DeviceListView(ListAPIView[AuthSession]):
    serializer_class = s.DeviceSerializer
    queryset = AuthSession.objects.none()  # for the schema; requests use get_queryset

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        return selectors.active_devices_for(_user(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "current_session_id": _session_id(self.request)}

    @extend_schema(
        tags=ME_TAG,
        summary="The caller's active devices",
        description="One entry per live device session; `current` marks the one calling.",
        responses={200: s.DeviceSerializer(many=True), **error_responses(401)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


class DeviceView(APIView):
    @extend_schema(
        tags=ME_TAG,
        summary="Revoke a device",
        description="Ends that device session at once (its access token is refused too).",
        request=None,
        responses={204: None, **error_responses(401, 404)},
    )
    def delete(self, request: Request, device_id: int) -> Response:
        services.revoke_device(
            user=_user(request), device_id=device_id, ip_address=client_ip(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class ExportView(APIView):
    throttle_classes = (UserRateThrottle, ScopedRateThrottle)
    throttle_scope = "export"

    @extend_schema(
        tags=ME_TAG,
        summary="Download every personal datum (GDPR export)",
        description=(
            "One JSON document with everything held about the caller: `account`, `profile`, "
            "`devices` (never their tokens), `login_failures`, `audit_events` about the caller "
            "(secrets redacted, other people never named) and one key per app section "
            "(`practice`, `exams`, `analytics`, `recommendations`, `notifications`). Nothing "
            "about anyone else. Throttled (scope `export`); every export is audited."
        ),
        responses={
            200: inline_serializer(
                name="PersonalDataExport",
                fields={
                    "format": serializers.CharField(),
                    "exported_at": serializers.DateTimeField(),
                    "account": serializers.DictField(),
                    "profile": serializers.DictField(allow_null=True),
                    "devices": serializers.ListField(child=serializers.DictField()),
                    "login_failures": serializers.ListField(child=serializers.DictField()),
                    "audit_events": serializers.ListField(child=serializers.DictField()),
                },
            ),
            **error_responses(401, 429),
        },
    )
    def get(self, request: Request) -> Response:
        user = _user(request)
        document = personal_data.export_personal_data(user=user)
        personal_data.record_export(user=user, ip_address=client_ip(request))
        response = Response(document)
        response["Content-Disposition"] = 'attachment; filename="openmrcs-personal-data.json"'
        return response
