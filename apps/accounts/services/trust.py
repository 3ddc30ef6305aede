"""Known sources of sign-in: devices and networks that signed in to an account before, and the
emailed unlock link that makes a new browser known.

A password check is attributed to a source (see ``limits.py`` for why):

- a **known device**: the login carries a ``device_token`` this account was given by an earlier
  successful login or unlock link (stored as a SHA-256, valid for ``KNOWN_DEVICE_LIFETIME``
  after its last use);
- otherwise its **network**: the IPv4 /24 or IPv6 /64 of the client IP, *known* if the account
  signed in successfully from it within ``KNOWN_NETWORK_LIFETIME``.

The unlock link: when strangers' failures reach an account's limit, its owner is emailed (at
most once per ``UNLOCK_EMAIL_INTERVAL``) a signed link to a pending :class:`KnownDevice`.
Following it (``POST /auth/unlock``) clears the account's failures and turns the pending row
into a known device for the browser that followed it; the row then has a hash, so the link
works once.
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import KnownDevice, KnownNetwork, LoginFailure, User
from apps.accounts.services.common import InvalidEmailToken, send_templated_email
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.queue import enqueue_after_commit

KNOWN_DEVICE_LIFETIME = timedelta(days=180)
KNOWN_NETWORK_LIFETIME = timedelta(days=90)
UNLOCK_LINK_MAX_AGE = timedelta(days=1)
UNLOCK_EMAIL_INTERVAL = timedelta(hours=1)
# Sent from a worker, enqueued by name (see ``registration.VERIFICATION_EMAIL_TASK``).
UNLOCK_EMAIL_TASK = "accounts.send_unlock_email"

_UNLOCK_SALT = "accounts.unlock-link"
# A home or office network: one IPv4 NAT's /24, one IPv6 LAN's /64.
_IPV4_PREFIX, _IPV6_PREFIX = 24, 64


@dataclass(frozen=True)
class Source:
    """Where a password check comes from, as the limits see it.

    ``key`` names the failure bucket (``d:<device id>``, ``n:<network>``, or ``""`` when the IP
    is unknown); ``trusted`` is True when that device or network signed in to the account
    before; ``device`` is the known device, if one was presented.
    """

    key: str
    trusted: bool
    network: str = ""
    device: KnownDevice | None = None
    user: User | None = None

    @property
    def kind(self) -> str:
        if self.device is not None:
            return "device"
        return "network" if self.trusted else "new"


def network_of(ip_address: str | None) -> str:
    """The /24 (IPv4) or /64 (IPv6) around an IP, as text; ``""`` if unknown or malformed."""
    if not ip_address:
        return ""
    try:
        address = ipaddress.ip_address(ip_address)
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    prefix = _IPV4_PREFIX if address.version == 4 else _IPV6_PREFIX
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def hash_device_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def identify_source(
    *, email: str, ip_address: str | None, device_token: str = "", user: User | None = None
) -> Source:
    """Attributes a password check for ``email`` (already normalised) to a source."""
    if user is None:
        user = User.objects.filter(email=email).first()
    network = network_of(ip_address)
    now = timezone.now()
    if user is not None and device_token:
        device = KnownDevice.objects.filter(
            user=user,
            token_hash=hash_device_token(device_token),
            last_used_at__gt=now - KNOWN_DEVICE_LIFETIME,
        ).first()
        if device is not None:
            return Source(
                key=f"d:{device.pk}", trusted=True, network=network, device=device, user=user
            )
    trusted = bool(
        user is not None
        and network
        and KnownNetwork.objects.filter(
            user=user, network=network, last_login_at__gt=now - KNOWN_NETWORK_LIFETIME
        ).exists()
    )
    return Source(
        key=f"n:{network}" if network else "", trusted=trusted, network=network, user=user
    )


def session_source(*, ip_address: str | None) -> Source:
    """The source of a password re-entered by a signed-in user (change password, deletion).

    Holding a live session of the account is proof enough of a past sign-in, so the check
    counts only its own network's failures, never strangers'.
    """
    network = network_of(ip_address)
    return Source(key=f"n:{network}" if network else "", trusted=True, network=network)


def remember_sign_in(*, user: User, source: Source, device_token: str) -> str:
    """Records a successful sign-in: its network becomes known, its device known (or used).

    Returns the device token the client should keep: the one it sent if that is a known device
    of this account, otherwise a new one.
    """
    now = timezone.now()
    if source.network:
        KnownNetwork.objects.bulk_create(
            [KnownNetwork(user=user, network=source.network, last_login_at=now)],
            update_conflicts=True,
            unique_fields=("user", "network"),
            update_fields=("last_login_at",),
        )
    if source.device is not None:
        KnownDevice.objects.filter(pk=source.device.pk).update(last_used_at=now)
        return device_token
    token = secrets.token_urlsafe(32)
    KnownDevice.objects.create(
        user=user, token_hash=hash_device_token(token), created_at=now, last_used_at=now
    )
    return token


def forget_known_sources(*, user: User) -> None:
    """Forgets the account's known devices and networks (after a password reset: a device that
    signed in with the old password is no longer vouched for)."""
    KnownDevice.objects.filter(user=user).delete()
    KnownNetwork.objects.filter(user=user).delete()


def offer_unlock(*, user: User) -> bool:
    """Emails the owner an unlock link, unless one was sent within ``UNLOCK_EMAIL_INTERVAL``.

    Two concurrent offers may both send (no lock is taken for so rare an event); the interval
    bounds the emails an attacker can cause to one a window, not one per failure.
    """
    if not user.is_active:
        return False
    now = timezone.now()
    recent = KnownDevice.objects.filter(
        user=user, token_hash__isnull=True, created_at__gt=now - UNLOCK_EMAIL_INTERVAL
    )
    if recent.exists():
        return False
    pending = KnownDevice.objects.create(user=user, token_hash=None, created_at=now)
    enqueue_after_commit(UNLOCK_EMAIL_TASK, pending.pk)
    return True


def make_unlock_token(device: KnownDevice) -> str:
    return signing.dumps({"u": device.user_id, "d": device.pk}, salt=_UNLOCK_SALT)


def send_unlock_email(*, device_id: int) -> bool:
    """Sends the unlock link of a pending device; False if it was used, or the user is gone."""
    device = (
        KnownDevice.objects.select_related("user")
        .filter(pk=device_id, token_hash__isnull=True, user__is_active=True)
        .first()
    )
    if device is None:
        return False
    token = make_unlock_token(device)
    send_templated_email(
        user=device.user,
        template="unlock_account",
        context={
            "token": token,
            "link": f"{settings.FRONTEND_URL}/unlock-account?{urlencode({'token': token})}",
            "max_age_hours": int(UNLOCK_LINK_MAX_AGE.total_seconds()) // 3600,
        },
    )
    return True


def unlock_account(*, token: str, ip_address: str | None = None) -> str:
    """Follows an unlock link: clears the account's failures and returns a device token for the
    browser that followed it. A bad, expired or already used link is a 400 on ``token``."""
    try:
        data = signing.loads(token, salt=_UNLOCK_SALT, max_age=UNLOCK_LINK_MAX_AGE)
        user_id, device_id = int(data["u"]), int(data["d"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise InvalidEmailToken() from exc
    device_token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        user = User.objects.filter(pk=user_id, is_active=True).first()
        # The conditional update makes the link single-use, also under concurrent clicks.
        claimed = (
            user is not None
            and KnownDevice.objects.filter(pk=device_id, user=user, token_hash__isnull=True).update(
                token_hash=hash_device_token(device_token), last_used_at=now
            )
            == 1
        )
        if not claimed or user is None:
            raise InvalidEmailToken()
        LoginFailure.objects.filter(email=user.email).delete()
        record_event(
            kind=AuditEvent.Kind.SECURITY,
            action="auth.unlocked",
            target=user,
            subject_user_id=user.pk,
            after={"device_id": device_id},
            ip_address=ip_address,
        )
    return device_token
