"""Two-factor sign-in endpoints (``/me/totp``): thin views over ``services.totp``.

Kept beside ``views.py`` rather than in it, which is past the size where a module splits.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts import selectors
from apps.accounts.api import serializers as s
from apps.accounts.api.views import ME_TAG, _session_id, _user
from apps.accounts.services import totp
from apps.core.api.client import client_ip
from apps.core.api.schema import error_responses

_LOGIN_NOTE = (
    " Once on, `POST /auth/login` needs `otp` (the current code): without it 401 "
    "`otp_required`, a wrong or already used code 401 `otp_invalid`, and after a wrong code "
    "429 `too_many_otp_failures` with `Retry-After` (1 s, doubling with each further failure)."
)


class TOTPView(APIView):
    @extend_schema(
        tags=ME_TAG,
        summary="Two-factor sign-in: status",
        description="`enabled`: login needs a code. `pending`: an enrolment awaits its code.",
        responses={200: s.TOTPStatusSerializer, **error_responses(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(s.TOTPStatusSerializer(selectors.totp_status_for(_user(request))).data)

    @extend_schema(
        tags=ME_TAG,
        summary="Two-factor sign-in: start enrolment",
        description=(
            "Re-checks the password (a wrong one is a 400 on `password` and counts towards the "
            "brute-force limit), then returns a new TOTP secret (30 s, 6 digits, SHA-1) and its "
            "`otpauth://` URI for an authenticator app, once. Nothing changes at login until "
            "the enrolment is confirmed with a code (`POST /me/totp/confirm`); starting again "
            "replaces a pending secret. Already on: 409 `totp_enabled`." + _LOGIN_NOTE
        ),
        request=s.PasswordSerializer,
        responses={201: s.TOTPEnrolmentSerializer, **error_responses(400, 401, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        data = s.PasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        enrolment = totp.start_totp_enrolment(
            user=_user(request),
            password=data.validated_data["password"],
            ip_address=client_ip(request),
        )
        body = {"secret": enrolment.secret, "otpauth_uri": enrolment.otpauth_uri}
        return Response(s.TOTPEnrolmentSerializer(body).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        tags=ME_TAG,
        summary="Two-factor sign-in: disable",
        description=(
            "Re-checks the password (a wrong one is a 400 on `password` and counts towards the "
            "brute-force limit) and removes the account's authenticator devices; login needs "
            "no code afterwards. Idempotent."
        ),
        request=s.PasswordSerializer,
        responses={204: None, **error_responses(400, 401, 429)},
    )
    def delete(self, request: Request) -> Response:
        data = s.PasswordSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        totp.disable_totp(
            user=_user(request),
            password=data.validated_data["password"],
            ip_address=client_ip(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TOTPConfirmView(APIView):
    @extend_schema(
        tags=ME_TAG,
        summary="Two-factor sign-in: confirm enrolment",
        description=(
            "The current code from the authenticator app turns two-factor sign-in on and ends "
            "every other device session of the account (they began without it); this one "
            "stays. A wrong code: 400 `otp_invalid` with a message on `code` (after which the "
            "next try waits, 429 `too_many_otp_failures`). No pending enrolment: 409 "
            "`totp_not_started`; already on: 409 `totp_enabled`. Each code works once."
            + _LOGIN_NOTE
        ),
        request=s.TOTPCodeSerializer,
        responses={200: s.TOTPStatusSerializer, **error_responses(400, 401, 409, 429)},
    )
    def post(self, request: Request) -> Response:
        data = s.TOTPCodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = _user(request)
        totp.confirm_totp_enrolment(
            user=user,
            code=data.validated_data["code"],
            current_session_id=_session_id(request),
            ip_address=client_ip(request),
        )
        return Response(s.TOTPStatusSerializer(selectors.totp_status_for(user)).data)
