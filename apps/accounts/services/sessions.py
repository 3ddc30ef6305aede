"""Logging in and out: device sessions started, ended and revoked."""

from __future__ import annotations

from django.contrib.auth import authenticate
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.settings import api_settings

from apps.accounts.models import AuthSession, LoginFailure, User
from apps.accounts.services.common import InvalidCredentials, normalise_email
from apps.accounts.services.limits import ensure_not_limited, record_failure
from apps.accounts.services.totp import verify_login_code
from apps.accounts.services.trust import identify_source, remember_sign_in
from apps.accounts.tokens import (
    InvalidRefreshToken,
    decode_refresh_token,
    issue_tokens_for,
    revoke_sessions,
)
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import NotFound, ValidationFailed


def log_in(
    *,
    email: str,
    password: str,
    user_agent: str = "",
    ip_address: str | None = None,
    device_token: str = "",
    otp: str = "",
) -> dict[str, str]:
    """Checks the credentials and starts a device session: ``{"access", "refresh",
    "device_token"}``.

    Unknown address, wrong password and deactivated account all give the same 401. The
    brute-force limits (``limits.py``) are checked first; ``device_token`` (from an earlier
    login or unlock link) marks the client as a known device of the account, so failures from
    elsewhere do not refuse it. A successful login is audited (``auth.login``) and returns the
    device token for the client to keep (the one it sent, or a new one).
    """
    email = normalise_email(email)
    source = identify_source(email=email, ip_address=ip_address, device_token=device_token)
    ensure_not_limited(email=email, source=source)
    user = authenticate(None, username=email, password=password)
    if not isinstance(user, User):
        record_failure(
            email=email,
            source=source,
            user=source.user,
            ip_address=ip_address,
            action="auth.login_failed",
        )
        raise InvalidCredentials()
    # The second factor, for accounts with a confirmed TOTP device (``totp.py``).
    verify_login_code(user=user, code=otp, ip_address=ip_address)
    with transaction.atomic():
        LoginFailure.objects.filter(email=email, source=source.key).delete()
        kept_token = remember_sign_in(user=user, source=source, device_token=device_token)
        User.objects.filter(pk=user.pk).update(last_login=timezone.now())
        tokens = issue_tokens_for(user=user, user_agent=user_agent, ip_address=ip_address)
        record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.login",
            actor=user,
            target=user,
            subject_user_id=user.pk,
            after={
                "session_id": decode_refresh_token(tokens["refresh"])["sid"],
                "source": source.kind,
            },
            ip_address=ip_address,
        )
    return {**tokens, "device_token": kept_token}


def log_out(*, user: User, refresh: str, ip_address: str | None = None) -> None:
    """Ends the device session the refresh token belongs to (idempotent).

    The token must be well-signed and unexpired but may already be rotated or revoked. A token
    that is not valid is a 400 on ``refresh``; another user's session is a 404.
    """
    try:
        claims = decode_refresh_token(refresh)
    except InvalidRefreshToken as exc:
        raise ValidationFailed(fields={"refresh": [InvalidRefreshToken.default_message]}) from exc
    if (
        claims[api_settings.USER_ID_CLAIM] != user.pk
        or not AuthSession.objects.filter(pk=claims["sid"], user=user).exists()
    ):
        raise NotFound("No such session.")
    revoke_sessions(
        user=user, session_ids=[claims["sid"]], reason="logout", actor=user, ip_address=ip_address
    )


def revoke_device(*, user: User, device_id: int, ip_address: str | None = None) -> None:
    """Revokes one of the user's active devices; unknown, revoked or not theirs: 404."""
    revoked = revoke_sessions(
        user=user,
        session_ids=[device_id],
        reason="device_revoked",
        actor=user,
        ip_address=ip_address,
    )
    if not revoked:
        raise NotFound("No such device.")


def log_out_everywhere(*, user: User, ip_address: str | None = None) -> int:
    return revoke_sessions(user=user, reason="logout_all", actor=user, ip_address=ip_address)
