"""Feature flags for rolling out features (django-waffle): ``flag_active(name, request_or_user)``.

Staff create flags in the admin (Waffle > Flags): on for everyone, off for everyone, or on for
staff, superusers, chosen users or groups, or a percentage of learners. Billing decides what a
plan includes (:mod:`apps.billing.entitlements`); a flag decides whether a feature is shown at
all while it is being rolled out, so the two are asked separately.

Percentages are per learner, not per request: the API has no cookies for waffle's own
percentage, so a learner falls in a stable bucket (a hash of the flag name and their id), and
raising the percentage only ever adds learners. An unknown flag is off.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.http import HttpRequest
from rest_framework.request import Request
from waffle import get_waffle_flag_model


def _bucket(flag_name: str, user_id: int) -> float:
    """A stable number in [0, 100) for this flag and learner."""
    digest = hashlib.sha256(f"{flag_name}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000 / 100


def flag_active(name: str, request_or_user: Any) -> bool:
    """Whether the flag ``name`` is on for this request (a Django or DRF request: its user and,
    for waffle's testing mode, its query string) or this user (``None``: anonymous)."""
    flag = get_waffle_flag_model().get(name)
    if not flag.pk:
        return False
    if isinstance(request_or_user, HttpRequest | Request):
        user = getattr(request_or_user, "user", None)
        # read_only: waffle's own percentage would set a cookie per request; ours is below.
        if flag.is_active(request_or_user, read_only=True):
            return True
        if flag.everyone is False:
            return False
    else:
        user = request_or_user
        if flag.everyone is not None:
            return bool(flag.everyone)
        if user is not None and flag.is_active_for_user(user):
            return True
    if flag.percent and user is not None and getattr(user, "is_authenticated", False):
        return _bucket(name, int(user.pk)) < float(flag.percent)
    return False
