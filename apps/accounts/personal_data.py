"""The GDPR export: every personal datum held about one user, as one JSON-ready document.

``accounts`` sits below the apps that hold a learner's rows and may not import them, so each of
them provides a *section* for its own rows through a port family (:mod:`apps.core.ports`), in
its ``AppConfig.ready()``::

    from apps.accounts.personal_data import personal_data_sections
    personal_data_sections.provide("practice", selectors.personal_data)

A section is called with the user's id (``personal_data(user_id=...)``) and returns JSON-ready
data about that user only. The document
holds the account, the profile, the devices (never their tokens), the login failures recorded
for the address, the networks and browsers sign-in trusts, whether two-factor is enrolled (never
its secret), the audit events about the user (secrets redacted, other people never named)
and one key per registered section.
"""

from __future__ import annotations

from typing import Any, Protocol

from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import (
    AuthSession,
    KnownDevice,
    KnownNetwork,
    LoginFailure,
    Profile,
    User,
)
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.db_routing import reading_from_replica
from apps.core.ports import PortFamily

EXPORT_FORMAT = "openmrcs-personal-data/1"

# Keys the document itself uses; a section may not take one of them.
CORE_KEYS = frozenset(
    {
        "format",
        "exported_at",
        "account",
        "profile",
        "devices",
        "login_failures",
        "trusted_sign_in",
        "two_factor",
        "audit_events",
    }
)

_SECRET_MARKERS = ("password", "token", "secret", "otp", "refresh", "access", "key", "jti")


class PersonalDataSection(Protocol):
    def __call__(self, *, user_id: int) -> Any: ...


# One port per section name; a name the document itself uses is refused.
personal_data_sections: PortFamily[PersonalDataSection] = PortFamily(
    "accounts.personal_data", description="One app's rows in the GDPR export.", reserved=CORE_KEYS
)


def registered_sections() -> list[str]:
    """The names of the provided sections, in the order they were provided."""
    return personal_data_sections.keys()


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _redact(value: Any) -> Any:
    """Audit values are scrubbed when written; this second pass keeps secrets out even of rows
    written before that rule, or by code that bypassed it."""
    if isinstance(value, dict):
        return {
            key: "[redacted]"
            if any(marker in str(key).lower() for marker in _SECRET_MARKERS)
            else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_redact(item) for item in value]
    return value


def _account(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "role": user.role,
        "is_email_verified": user.is_email_verified,
        "is_active": user.is_active,
        "date_joined": _iso(user.date_joined),
        "last_login": _iso(user.last_login),
    }


def _profile(user: User) -> dict[str, Any] | None:
    profile = Profile.objects.filter(user=user).first()
    if profile is None:
        return None
    return {
        "display_name": profile.display_name,
        "avatar": profile.avatar,
        "timezone": profile.timezone,
        "prefers_explanations": profile.prefers_explanations,
        "exam_sitting": profile.exam_sitting.isoformat() if profile.exam_sitting else None,
        "desired_retention": profile.desired_retention,
        "daily_review_limit": profile.daily_review_limit,
        "daily_new_limit": profile.daily_new_limit,
        "updated_at": _iso(profile.updated_at),
    }


def _devices(user: User) -> list[dict[str, Any]]:
    """Every device session, live or ended; the refresh token id is never included."""
    return [
        {
            "id": s.pk,
            "user_agent": s.user_agent,
            "ip_address": s.ip_address,
            "created_at": _iso(s.created_at),
            "last_used_at": _iso(s.last_used_at),
            "expires_at": _iso(s.expires_at),
            "revoked_at": _iso(s.revoked_at),
        }
        for s in AuthSession.objects.filter(user=user).order_by("created_at", "id")
    ]


def _login_failures(user: User) -> list[dict[str, Any]]:
    return [
        {"occurred_at": _iso(f.occurred_at), "ip_address": f.ip_address}
        for f in LoginFailure.objects.filter(email=user.email).order_by("occurred_at", "id")
    ]


def _trusted_sign_in(user: User) -> dict[str, Any]:
    """What sign-in remembers to tell the owner from a stranger (apps/accounts/services/trust):
    the networks signed in from and the browsers trusted (never their tokens)."""
    return {
        "networks": [
            {"network": n.network, "last_login_at": _iso(n.last_login_at)}
            for n in KnownNetwork.objects.filter(user=user).order_by("last_login_at", "id")
        ],
        "devices": [
            {"created_at": _iso(d.created_at), "last_used_at": _iso(d.last_used_at)}
            for d in KnownDevice.objects.filter(user=user).order_by("created_at", "id")
        ],
    }


def _two_factor(user: User) -> dict[str, Any]:
    """Whether an authenticator app is enrolled (never its secret)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    devices = TOTPDevice.objects.filter(user=user).order_by("id")
    return {
        "totp_devices": [{"name": d.name, "confirmed": d.confirmed} for d in devices],
    }


def audit_events_about(*, user_id: int) -> list[dict[str, Any]]:
    """Audit events whose subject is the user, or which the user caused.

    Other people are never named: the actor is ``"self"``, ``"staff"`` or ``"system"``, and the
    before and after values of events the user caused to someone else are left out.
    """
    events = AuditEvent.objects.filter(Q(subject_user_id=user_id) | Q(actor_id=user_id)).order_by(
        "occurred_at", "id"
    )
    rows = []
    for e in events:
        about_user = e.subject_user_id == user_id
        if e.actor_id == user_id:
            actor = "self"
        elif e.actor_id is None and e.actor_label in ("", "system"):
            actor = "system"
        else:
            actor = "staff"
        rows.append(
            {
                "occurred_at": _iso(e.occurred_at),
                "kind": e.kind,
                "action": e.action,
                "actor": actor,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "before": _redact(e.before) if about_user else None,
                "after": _redact(e.after) if about_user else None,
                # A staff member's address is theirs, not the user's.
                "ip_address": e.ip_address if actor != "staff" else None,
            }
        )
    return rows


@reading_from_replica()
def export_personal_data(*, user: User) -> dict[str, Any]:
    """The whole export for ``user``: core keys plus one key per registered section."""
    document: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(timezone.now()),
        "account": _account(user),
        "profile": _profile(user),
        "devices": _devices(user),
        "login_failures": _login_failures(user),
        "trusted_sign_in": _trusted_sign_in(user),
        "two_factor": _two_factor(user),
        "audit_events": audit_events_about(user_id=user.pk),
    }
    for name, section in personal_data_sections.items():
        document[name] = section(user_id=user.pk)
    return document


def record_export(*, user: User, ip_address: str | None = None) -> None:
    """Audits that the user downloaded their data."""
    record_event(
        kind=AuditEvent.Kind.DATA,
        action="account.export",
        actor=user,
        target=user,
        subject_user_id=user.pk,
        after={"sections": registered_sections()},
        ip_address=ip_address,
    )
