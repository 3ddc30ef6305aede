"""The learner's calendar: their timezone, their today, their week (Monday first)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from apps.accounts.models import Profile, User


@lru_cache(maxsize=512)
def zone(name: str | None) -> ZoneInfo:
    """The zone called ``name``; UTC for an empty or unknown name (never an error)."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def timezone_name_of(user: User) -> str:
    """The user's profile timezone (the profile is loaded with the user by authentication)."""
    try:
        profile = user.profile
    except Profile.DoesNotExist:  # no profile row: the default
        return "UTC"
    return profile.timezone or "UTC"


def zone_of(user: User) -> ZoneInfo:
    return zone(timezone_name_of(user))


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    """The calendar day of ``moment`` (aware, as every datetime PostgreSQL returns) in ``tz``."""
    return timezone.localtime(moment, tz).date()


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
