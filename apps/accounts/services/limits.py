"""The brute-force limits on password checks, and the durable request limits.

Brute force without lockout
---------------------------
A per-address limit alone lets anyone lock anyone out: ten wrong passwords for a victim's
address would make the right one fail too. So every failed password check is a ``LoginFailure``
row (PostgreSQL: the limits hold with Redis down) that also records its *source*: a known device
of the account (``d:<id>``) or the client's network (``n:<prefix>``), and whether that source had
signed in to the account before (``trusted``; see ``trust.py``). An attempt is refused (429
``too_many_login_failures`` with ``Retry-After``) only by:

1. **Its own source's failures**: ``LOGIN_MAX_FAILURES_PER_HOUR`` (10) failures for this address
   from this source within an hour. This is the only limit a known device or network meets, so
   a correct password from where the owner signed in before is never refused because of
   failures from elsewhere.
2. **For strangers only, a progressive delay per account**: once strangers (untrusted sources,
   all together) have failed ``LOGIN_MAX_FAILURES_PER_HOUR`` times within the hour, each
   further stranger attempt must come ``LOGIN_SLOWDOWN_BASE_SECONDS`` (15 s) after the previous
   stranger failure, doubling with every failure up to ``LOGIN_SLOWDOWN_MAX_SECONDS`` (15 min).
   An attacker with many networks gets at most 18 guesses at an account in the first hour and
   about 14 an hour after (failures leave the window as new ones come); one network alone gets
   10 an hour. Waiting is a 429 with ``Retry-After``, never a sleeping worker.

Refused attempts never reach the password check and are not counted, so a refusal cannot be
turned into a longer lockout. No lockout is permanent: failures leave the window after an hour.
A successful login clears its own source's failures (not the others': an attacker's count must
not restart because the owner signed in). When strangers' failures reach the limit, the owner is
emailed an unlock link (``trust.offer_unlock``) that clears the failures and makes the browser
that follows it a known device: an owner on a new device is slowed at worst, never shut out.
Unknown addresses are limited the same way (no email), so the limits reveal nothing about which
addresses are registered. The re-entered password of a signed-in user (change password, delete
account) counts only its own network's failures (``trust.session_source``).

Trade-offs: an attacker inside the owner's own network (one NAT's /24) shares that network's
count, so a browser there without its device token can be refused; the token still works. A
device stays known 180 days after its last use, a network 90 days after its last sign-in; a
password reset forgets both. Cost: before the password check a login makes 3 to 5 indexed
reads (the account, its device or network, the source's failures, for strangers the account's).

Durable request limits
----------------------
:func:`take_durable_slot` counts requests in ``RateLimitHit`` rows: always for the reset emails
per address (``PASSWORD_RESET_EMAILS_PER_HOUR``), and as the fallback of the login,
registration and reset throttles when Redis is unreachable (``apps/accounts/api/throttling.py``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from apps.accounts.models import LoginFailure, RateLimitHit, User
from apps.accounts.services.common import TooManyLoginFailures, normalise_email
from apps.accounts.services.trust import Source, identify_source, offer_unlock, session_source
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import ValidationFailed

FAILURE_WINDOW = timedelta(hours=1)
# The doubling stops growing here (2**20 base delays is past any cap).
_MAX_DOUBLINGS = 20


def _seconds_until(moment: datetime, now: datetime) -> int:
    remaining = (moment - now).total_seconds()
    return int(remaining) + 1 if remaining > 0 else 0


def _source_retry_after(email: str, source: Source, now: datetime) -> int:
    """Seconds until this source may try again: when the limit-th newest of its failures for
    the address leaves the window."""
    limit = settings.LOGIN_MAX_FAILURES_PER_HOUR
    times = list(
        LoginFailure.objects.filter(
            email=email, source=source.key, occurred_at__gt=now - FAILURE_WINDOW
        )
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)[:limit]
    )
    if len(times) < limit:
        return 0
    return max(1, _seconds_until(times[-1] + FAILURE_WINDOW, now))


def stranger_delay(failures: int) -> int:
    """Seconds a stranger waits after the last stranger failure, given how many there were in
    the window (0 below the limit)."""
    over = failures - settings.LOGIN_MAX_FAILURES_PER_HOUR
    if over < 0:
        return 0
    delay = settings.LOGIN_SLOWDOWN_BASE_SECONDS * 2 ** min(over, _MAX_DOUBLINGS)
    return int(min(delay, settings.LOGIN_SLOWDOWN_MAX_SECONDS))


def _stranger_retry_after(email: str, now: datetime) -> int:
    window = LoginFailure.objects.filter(
        email=email, trusted=False, occurred_at__gt=now - FAILURE_WINDOW
    ).aggregate(n=Count("id"), last=Max("occurred_at"))
    delay = stranger_delay(window["n"])
    if not delay:
        return 0
    return _seconds_until(window["last"] + timedelta(seconds=delay), now)


def retry_after_for(*, email: str, source: Source) -> int:
    """Seconds until a password check for ``email`` from ``source`` is allowed; 0 if now."""
    now = timezone.now()
    wait = _source_retry_after(email, source, now)
    if not source.trusted:
        wait = max(wait, _stranger_retry_after(email, now))
    return wait


def ensure_not_limited(*, email: str, source: Source) -> None:
    retry_after = retry_after_for(email=email, source=source)
    if retry_after:
        raise TooManyLoginFailures(retry_after=retry_after)


def login_retry_after(*, email: str, ip_address: str | None = None, device_token: str = "") -> int:
    """Seconds until a password check for ``email`` from this client is allowed; 0 if now."""
    email = normalise_email(email)
    source = identify_source(email=email, ip_address=ip_address, device_token=device_token)
    return retry_after_for(email=email, source=source)


def record_failure(
    *, email: str, source: Source, user: User | None, ip_address: str | None, action: str
) -> None:
    """Counts and audits a failed password check; audits the limits it trips and, when
    strangers' failures reach the account's limit, offers the owner an unlock link."""
    email = normalise_email(email)
    now = timezone.now()
    LoginFailure.objects.create(
        email=email,
        ip_address=ip_address,
        source=source.key,
        trusted=source.trusted,
        occurred_at=now,
    )
    _audit(
        action=action,
        user=user,
        after={"source": source.kind} if user else {"account": "unknown"},
        ip_address=ip_address,
    )
    limit = settings.LOGIN_MAX_FAILURES_PER_HOUR
    counts = LoginFailure.objects.filter(
        email=email, occurred_at__gt=now - FAILURE_WINDOW
    ).aggregate(
        same_source=Count("id", filter=Q(source=source.key)),
        strangers=Count("id", filter=Q(trusted=False)),
    )
    tripped = []
    if counts["same_source"] == limit:
        tripped.append("source")
    if not source.trusted:
        if counts["strangers"] == limit:
            tripped.append("account")
        if counts["strangers"] >= limit and user is not None:
            offer_unlock(user=user)
    if tripped:
        _audit(
            action="auth.lockout",
            user=user,
            after={"failures_per_hour": limit, "limits": tripped},
            ip_address=ip_address,
        )


def _audit(
    *, action: str, user: User | None, after: dict[str, Any], ip_address: str | None
) -> None:
    record_event(
        kind=AuditEvent.Kind.SECURITY,
        action=action,
        target_type="accounts.user" if user else "",
        target_id=user.pk if user else "",
        subject_user_id=user.pk if user else None,
        after=after,
        ip_address=ip_address,
    )


def record_login_failure(
    *, email: str, ip_address: str | None, action: str, device_token: str = ""
) -> None:
    """Counts a failed password check made outside the API (the admin login) towards the same
    limits, and audits it."""
    email = normalise_email(email)
    known = User.objects.filter(email=email).first()
    source = identify_source(
        email=email, ip_address=ip_address, device_token=device_token, user=known
    )
    record_failure(email=email, source=source, user=known, ip_address=ip_address, action=action)


def check_current_password(*, user: User, password: str, ip_address: str | None) -> None:
    """Checks a re-entered password under the limit of the session's own network."""
    source = session_source(ip_address=ip_address)
    ensure_not_limited(email=user.email, source=source)
    if not user.check_password(password):
        record_failure(
            email=user.email,
            source=source,
            user=user,
            ip_address=ip_address,
            action="auth.password_check_failed",
        )
        raise ValidationFailed(fields={"password": ["The password is not correct."]})


def take_durable_slot(*, bucket: str, limit: int, window: timedelta) -> int:
    """Counts one request in ``bucket`` against ``limit`` per ``window``, in PostgreSQL.

    Returns 0 when the request is within the limit (it is counted), otherwise the seconds until
    a slot frees (nothing is counted: refused requests never extend a wait). Costs one read when
    refused, a read, an insert and a count when allowed. Concurrent requests that both saw room
    count again after inserting and give their slot back if the limit was overrun, so the limit
    is never exceeded (at worst a slot is wasted).
    """
    key = salted_hmac("accounts.rate-limit", bucket, algorithm="sha256").hexdigest()
    now = timezone.now()
    recent = RateLimitHit.objects.filter(bucket=key, occurred_at__gt=now - window)

    def wait() -> int:
        times = list(recent.order_by("-occurred_at").values_list("occurred_at", flat=True)[:limit])
        if len(times) < limit:
            return 0
        return max(1, _seconds_until(times[-1] + window, now))

    if limit <= 0:
        return max(1, int(window.total_seconds()))
    waiting = wait()
    if waiting:
        return waiting
    hit = RateLimitHit.objects.create(bucket=key, occurred_at=now)
    if recent.count() > limit:
        hit.delete()
        return max(1, wait())
    return 0
