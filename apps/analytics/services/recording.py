"""Recording answered questions and reading time, incrementally."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.analytics import statements
from apps.analytics.caching import invalidate_user_caches
from apps.analytics.localtime import local_date, zone
from apps.analytics.models import DailyActivity, HeartbeatLog, LearnerState
from apps.core import sql
from apps.questions.learning import AnsweredQuestion

_MAX_INT = 2_147_483_647


@dataclass(frozen=True)
class _Fact:
    """One row of ``AnswerFact``: its fields are :data:`statements.FACT_COLUMNS`."""

    user_id: int
    question_id: int
    category_id: int
    source: str
    source_id: int
    is_correct: bool
    time_spent_sec: int
    counted_time_sec: int
    answered_at: datetime
    local_date: date
    question_version: int | None  # the version answered (item analysis keeps them apart)

    @property
    def key(self) -> tuple[int, str, int, int]:
        return (self.user_id, self.source, self.source_id, self.question_id)


def lock_learners(*, user_ids: Iterable[int]) -> dict[int, str | None]:
    """Creates (if needed) and row-locks each learner's state row, in id order, until the end of
    the transaction: one learner's aggregate writes and rebuilds never interleave.

    Returns each learner's profile timezone (``None`` without a profile), read by the same
    statement (:data:`statements.LOCK_LEARNERS`), so that recording an answer needs no separate
    profile query."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    rows = sql.fetch_all(
        statements.LOCK_LEARNERS,
        {"learner_ids": ids, "now": timezone.now()},
        into=statements.LearnerZone,
    )
    return {row.user_id: row.timezone for row in rows}


def record_answers(*, answers: Sequence[AnsweredQuestion]) -> int:
    """Records answered questions and updates every aggregate in the caller's transaction.

    Locks the learners (:func:`lock_learners`); writes the facts; adds to each learner's day
    (in the learner's timezone) and category; adds to the questions' anonymous statistics;
    and, once the transaction commits, deletes the learners' cached dashboards. Atomic
    increments: concurrent batches lose nothing. The number of statements does not depend on
    the number of answers: one statement does it all when this process already knows the
    learners' timezones (:func:`_record_with_known_zones`), two otherwise (the lock, which reads
    the timezones, then the rest).

    A question already recorded for the same session is ignored (the call is idempotent), so a
    retried publish never counts twice. Returns the number of answers newly recorded.
    """
    if not answers:
        return 0
    # No savepoint of its own: it runs inside the publisher's transaction, and a failure here
    # must abort the whole answer anyway.
    with transaction.atomic(savepoint=False):
        user_ids = sorted({a.user_id for a in answers})
        recorded = _record_with_known_zones(answers, user_ids)
        if recorded is None:
            zones = lock_learners(user_ids=user_ids)
            _remember_zones(zones)
            recorded = _record_locked(list(_facts(answers, zones).values()))
        if recorded:
            transaction.on_commit(partial(invalidate_user_caches, user_ids=user_ids))
    return recorded


def _facts(
    answers: Sequence[AnsweredQuestion], zones: Mapping[int, str | None]
) -> dict[tuple[int, str, int, int], _Fact]:
    """The facts to record, one per (learner, source, session, question), dated in each
    learner's timezone (``zones``: the profile's, ``None`` without a profile)."""
    cap = settings.ANALYTICS_ANSWER_TIME_CAP_SEC
    facts: dict[tuple[int, str, int, int], _Fact] = {}
    for a in answers:
        raw = max(0, min(int(a.time_spent_sec), _MAX_INT))
        fact = _Fact(
            user_id=a.user_id,
            question_id=a.question_id,
            category_id=a.category_id,
            source=a.source,
            source_id=a.source_id,
            is_correct=bool(a.is_correct),
            time_spent_sec=raw,
            counted_time_sec=min(raw, cap),
            answered_at=a.answered_at,
            local_date=local_date(a.answered_at, zone(zones.get(a.user_id))),
            question_version=a.question_version,
        )
        facts.setdefault(fact.key, fact)
    return facts


# The learners' timezones as this process last read them (by :func:`lock_learners`). Only a
# guess, which lets the common case, a learner who answered here before, date the answers
# before the statement that locks the learner: that statement compares the guess with the
# profile and records nothing when they differ (the caller then takes the two-statement path).
_zone_guesses: dict[int, str | None] = {}
_MAX_ZONE_GUESSES = 10_000


def _remember_zones(zones: Mapping[int, str | None]) -> None:
    if len(_zone_guesses) + len(zones) > _MAX_ZONE_GUESSES:
        _zone_guesses.clear()
    _zone_guesses.update(zones)


def _record_with_known_zones(
    answers: Sequence[AnsweredQuestion], user_ids: Sequence[int]
) -> int | None:
    """:func:`lock_learners` and :func:`_record_locked` as one statement
    (:data:`statements.LOCK_AND_RECORD_ONE` / ``_MANY``), with the answers dated by the
    timezones this process last read for the learners. Returns how many answers were newly
    recorded, or ``None`` (and nothing recorded, though the learners are locked) when a
    timezone is unknown here or is no longer the profile's."""
    guesses = {uid: _zone_guesses[uid] for uid in user_ids if uid in _zone_guesses}
    if len(guesses) < len(user_ids):
        return None
    facts = list(_facts(answers, guesses).values())
    params = _fact_params(facts)
    params["now"] = timezone.now()
    if len(facts) == 1:  # then one learner too
        params["zone"] = guesses[user_ids[0]]
        statement = statements.LOCK_AND_RECORD_ONE
    else:
        params["learner_ids"] = list(user_ids)
        params["zones"] = [guesses[uid] for uid in user_ids]
        statement = statements.LOCK_AND_RECORD_MANY
    row = sql.fetch_one(statement, params, into=statements.LockedAndRecorded)
    assert row is not None  # nosec B101 # an aggregate-only SELECT always returns its row
    return None if row.wrong_guesses else row.recorded


def _record_locked(facts: Sequence[_Fact]) -> int:
    """The learners already locked: inserts the facts and adds the ones actually inserted to
    the days, the categories and the questions' statistics, in one statement
    (:data:`statements.RECORD_ONE` / ``_MANY``). Returns how many facts were new."""
    statement = statements.RECORD_ONE if len(facts) == 1 else statements.RECORD_MANY
    row = sql.fetch_one(statement, _fact_params(facts), into=statements.Recorded)
    assert row is not None  # nosec B101 # an aggregate-only SELECT always returns its row
    return row.recorded


def _fact_params(facts: Sequence[_Fact]) -> dict[str, Any]:
    """One value per column for a single fact, else one array per column (a fixed number of
    parameters whatever the batch's size)."""
    if len(facts) == 1:
        return {c: getattr(facts[0], c) for c in statements.FACT_COLUMNS}
    return {c: [getattr(f, c) for f in facts] for c in statements.FACT_COLUMNS}


def record_heartbeat(*, user_id: int, seconds: int, now: datetime | None = None) -> int:
    """Credits reading time to the learner's day and returns the seconds credited.

    A heartbeat claims the reading time since the previous one. It is credited at most
    ``ANALYTICS_HEARTBEAT_MAX_SEC`` and never more than the wall time elapsed since the
    learner's previous heartbeat, so however often a client calls, credited reading time never
    exceeds real time. Heartbeats are serialised per learner (row lock), so concurrent calls
    cannot both claim the same interval.

    The day's reading time is added with an ``F()`` update, and the day created only when it
    has no row yet: every writer of a learner's days (answers, heartbeats, rebuilds) holds the
    learner's lock, so nothing can create the row in between.
    """
    now = now or timezone.now()
    claimed = max(0, min(int(seconds), settings.ANALYTICS_HEARTBEAT_MAX_SEC))
    with transaction.atomic():
        zones = lock_learners(user_ids=[user_id])
        state = LearnerState.objects.select_for_update().get(user_id=user_id)
        if state.last_heartbeat_at is not None:
            elapsed = int((now - state.last_heartbeat_at).total_seconds())
            claimed = max(0, min(claimed, elapsed))
        if state.last_heartbeat_at is None or now > state.last_heartbeat_at:
            state.last_heartbeat_at = now
            state.save(update_fields=["last_heartbeat_at"])
        if claimed == 0:
            return 0
        day = local_date(now, zone(zones.get(user_id)))
        HeartbeatLog.objects.create(user_id=user_id, at=now, local_date=day, seconds=claimed)
        days = DailyActivity.objects.filter(user_id=user_id, date=day)
        if not days.update(reading_sec=F("reading_sec") + claimed):
            DailyActivity.objects.create(user_id=user_id, date=day, reading_sec=claimed)
    return claimed
