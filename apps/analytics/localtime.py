"""The learner's calendar: their timezone, their today, their week (Monday first)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone


@lru_cache(maxsize=512)
def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for an empty or unknown name (never an error)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def timezone_name_of(user: Any) -> str:
    """The user's profile timezone (the profile is loaded with the user by authentication)."""
    try:
        profile = user.profile
    except Exception:  # no profile row: the default
        return "UTC"
    return str(getattr(profile, "timezone", "") or "UTC")


def zone_of(user: Any) -> ZoneInfo:
    return zone(timezone_name_of(user))


def aware(moment: datetime) -> datetime:
    """``moment`` with a timezone (naive values are taken as UTC)."""
    if timezone.is_naive(moment):
        return moment.replace(tzinfo=UTC)
    return moment


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return aware(moment).astimezone(tz).date()


def today_in(tz: ZoneInfo, now: datetime | None = None) -> date:
    return local_date(now or timezone.now(), tz)


def week_start(day: date) -> date:
    """The Monday of ``day``'s week."""
    return day - timedelta(days=day.weekday())


def month_bounds(day: date) -> tuple[date, date]:
    """First and last day of ``day``'s month."""
    first = day.replace(day=1)
    next_first = (first + timedelta(days=32)).replace(day=1)
    return first, next_first - timedelta(days=1)


def days_between(first: date, last: date) -> list[date]:
    """Every day from ``first`` to ``last`` inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]
