"""JWTs bound to an :class:`AuthSession` (a device): issue, rotate, revoke.

Every refresh and access token carries the session id (``sid``). A session holds the ``jti`` of
the one refresh token that may still be used; rotating swaps it under a row lock, so of N
concurrent refreshes of one token exactly one succeeds. Revoking a session refuses its access
tokens too (see ``authentication.py``). A session's ``expires_at`` is absolute: rotation never
extends it.

Reuse detection (OAuth 2.0 Security BCP, refresh token rotation): a rotated refresh token that
comes back means two parties hold the chain, and the server cannot tell which is the owner, so
the whole device session is revoked (its newest refresh token and its access tokens die with
it) and the event audited. One exception, by choice: the very token rotated less than
``REFRESH_REUSE_GRACE`` before the request arrived is a client's own concurrent refresh (two
tabs, a retry after a dropped reply) that lost the race; it is refused and audited, but the
session stays. The loser never receives tokens, so the grace gives a thief nothing; its cost is
that a replay landing within those two seconds does not end the session.

Outstanding tokens are recorded (for the blacklist and the flush task) without the token text:
a database leak must not hand out live refresh tokens.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.state import token_backend
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_to_epoch

from apps.accounts.models import AuthSession, User
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import Unauthorized

# How soon after its rotation a token presented again counts as a lost race rather than reuse.
REFRESH_REUSE_GRACE = timedelta(seconds=2)


class InvalidRefreshToken(Unauthorized):
    code = "token_not_valid"
    default_message = "The refresh token is invalid, expired or already used. Log in again."


def _mint(*, user: User, session: AuthSession) -> dict[str, str]:
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh["sid"] = session.pk
    expires_at = min(
        refresh.current_time + settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"], session.expires_at
    )
    refresh["exp"] = datetime_to_epoch(expires_at)
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token="",  # nosec B106 # the token text is never stored
        created_at=refresh.current_time,
        expires_at=expires_at,
    )
    session.refresh_jti = str(refresh[api_settings.JTI_CLAIM])
    access = refresh.access_token
    return {"access": str(access), "refresh": str(refresh)}


def issue_tokens_for(
    *, user: User, user_agent: str = "", ip_address: str | None = None
) -> dict[str, str]:
    """Starts a new device session and returns ``{"access", "refresh"}`` for it."""
    now = timezone.now()
    with transaction.atomic():
        session = AuthSession.objects.create(
            user=user,
            refresh_jti="",
            user_agent=user_agent[:300],
            ip_address=ip_address,
            created_at=now,
            last_used_at=now,
            expires_at=now + settings.AUTH_SESSION_ABSOLUTE_LIFETIME,
        )
        tokens = _mint(user=user, session=session)
        session.save(update_fields=["refresh_jti"])
    return tokens


def decode_refresh_token(raw: str) -> dict[str, Any]:
    """Verifies signature, expiry, audience, issuer and type; returns the claims.

    Does not consult the blacklist or the session: callers decide what a dead session means.
    """
    try:
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except TokenBackendError as exc:
        raise InvalidRefreshToken() from exc
    # PyJWT checks ``exp`` only when present: a token without one must not live for ever.
    if payload.get(api_settings.TOKEN_TYPE_CLAIM) != "refresh" or "exp" not in payload:
        raise InvalidRefreshToken()
    try:
        payload["sid"] = int(payload["sid"])
        payload[api_settings.USER_ID_CLAIM] = int(payload[api_settings.USER_ID_CLAIM])
        str(payload[api_settings.JTI_CLAIM])
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidRefreshToken() from exc
    return payload


def rotate_refresh_token(*, refresh: str, ip_address: str | None = None) -> dict[str, str]:
    """Exchanges a refresh token for a new pair; the presented token dies.

    The session row is locked and its current ``jti`` compared, so concurrent refreshes of one
    token give exactly one success. Presenting an already-rotated token of a live session is
    reuse: the session is revoked, except for a lost race (see the module docstring).
    """
    claims = decode_refresh_token(refresh)
    jti = str(claims[api_settings.JTI_CLAIM])
    # Taken before waiting for the row lock: a request that arrived while the winner of a race
    # held the lock is measured from its arrival, however long the wait.
    now = timezone.now()
    with transaction.atomic():
        session = (
            AuthSession.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(pk=claims["sid"], user_id=claims[api_settings.USER_ID_CLAIM])
            .first()
        )
        alive = (
            session is not None
            and session.revoked_at is None
            and session.expires_at > now
            and session.user.is_active
        )
        if alive and session is not None and session.refresh_jti == jti:
            _blacklist([jti])
            tokens = _mint(user=session.user, session=session)
            session.last_used_at = now
            session.save(update_fields=["refresh_jti", "last_used_at"])
            return tokens
    if alive and session is not None:
        # A live session's earlier token presented again: a lost race or a stolen token.
        _handle_reuse(session=session, jti=jti, arrived_at=now, ip_address=ip_address)
    raise InvalidRefreshToken()


def _handle_reuse(
    *, session: AuthSession, jti: str, arrived_at: datetime, ip_address: str | None
) -> None:
    """Audits the reuse and revokes the session, unless the token lost a race moments ago.

    The token's blacklisting time is its rotation time: while the session is alive nothing
    else blacklists one of its tokens.
    """
    rotated_at = (
        BlacklistedToken.objects.filter(token__jti=jti)
        .values_list("blacklisted_at", flat=True)
        .first()
    )
    lost_race = rotated_at is not None and rotated_at >= arrived_at - REFRESH_REUSE_GRACE
    with transaction.atomic():
        record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.refresh_reused",
            target=session,
            subject_user_id=session.user_id,
            after={"session_revoked": not lost_race},
            ip_address=ip_address,
        )
        if not lost_race:
            revoke_sessions(
                user=session.user,
                session_ids=[session.pk],
                reason="refresh_reused",
                ip_address=ip_address,
            )


def _blacklist(jtis: Iterable[str]) -> None:
    jtis = [j for j in jtis if j]
    if not jtis:
        return
    outstanding = list(OutstandingToken.objects.filter(jti__in=jtis).values_list("pk", flat=True))
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token_id=pk) for pk in outstanding], ignore_conflicts=True
    )


def revoke_sessions(
    *,
    user: User,
    session_ids: Iterable[int] | None = None,
    except_session_id: int | None = None,
    reason: str,
    actor: Any = None,
    ip_address: str | None = None,
) -> int:
    """Revokes the user's active sessions (all, or ``session_ids``), except one if given.

    Their refresh tokens are blacklisted and their access tokens refused from now on. Returns
    how many sessions were revoked; records one audit event when any were.
    """
    now = timezone.now()
    with transaction.atomic():
        sessions = AuthSession.objects.select_for_update().filter(
            user=user, revoked_at__isnull=True
        )
        if session_ids is not None:
            sessions = sessions.filter(pk__in=list(session_ids))
        if except_session_id is not None:
            sessions = sessions.exclude(pk=except_session_id)
        rows = list(sessions.values_list("pk", "refresh_jti"))
        if not rows:
            return 0
        AuthSession.objects.filter(pk__in=[pk for pk, _ in rows]).update(revoked_at=now)
        _blacklist(jti for _, jti in rows)
        record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.sessions_revoked",
            actor=actor,
            target_type="accounts.user",
            target_id=user.pk,
            subject_user_id=user.pk,
            after={"reason": reason, "session_ids": [pk for pk, _ in rows]},
            ip_address=ip_address,
        )
    return len(rows)


def flush_expired(*, now: datetime | None = None) -> dict[str, int]:
    """Deletes expired outstanding tokens (their blacklist rows cascade) and device sessions
    that expired or were revoked longer ago than ``AUTH_SESSION_RETENTION``. Idempotent."""
    now = now or timezone.now()
    cutoff = now - settings.AUTH_SESSION_RETENTION
    tokens, _ = OutstandingToken.objects.filter(expires_at__lte=now).delete()
    sessions, _ = AuthSession.objects.filter(expires_at__lte=cutoff).delete()
    revoked, _ = AuthSession.objects.filter(revoked_at__lte=cutoff).delete()
    return {"tokens": tokens, "sessions": sessions + revoked}
