"""Recording answered questions and reading time, incrementally."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.models import Profile
from apps.analytics.caching import invalidate_user_caches
from apps.analytics.localtime import aware, local_date, zone
from apps.analytics.models import (
    AnswerFact,
    CategoryProgress,
    DailyActivity,
    HeartbeatLog,
    LearnerState,
)
from apps.analytics.services.sql import insert_ignoring_conflicts, upsert_adding
from apps.questions.learning import AnsweredQuestion
from apps.questions.services import record_question_stats

_MAX_INT = 2_147_483_647


@dataclass(frozen=True)
class _Fact:
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

    @property
    def key(self) -> tuple[int, str, int, int]:
        return (self.user_id, self.source, self.source_id, self.question_id)


def lock_learners(*, user_ids: Iterable[int]) -> dict[int, str | None]:
    """Creates (if needed) and row-locks each learner's state row, in id order, until the end of
    the transaction: one learner's aggregate writes and rebuilds never interleave.

    Returns each learner's profile timezone (``None`` without a profile), read by the same
    statement, so that recording an answer needs no separate profile query."""
    ids = sorted(set(user_ids))
    if not ids:
        return {}
    now = timezone.now()
    table = connection.ops.quote_name(LearnerState._meta.db_table)
    profiles = connection.ops.quote_name(Profile._meta.db_table)
    # One statement that creates, locks and moves each learner's version forward (PostgreSQL
    # and SQLite both speak this upsert); the version stamps cached views (analytics.caching).
    values = ", ".join(["(%s, %s, 1)"] * len(ids))
    params: list[Any] = [p for uid in ids for p in (uid, now)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (user_id, touched_at, version) VALUES {values} "  # noqa: S608  # nosec B608
            f"ON CONFLICT (user_id) DO UPDATE SET touched_at = EXCLUDED.touched_at, "
            f"version = {table}.version + 1 "
            f"RETURNING user_id, (SELECT p.timezone FROM {profiles} p "
            f"WHERE p.user_id = {table}.user_id)",
            params,
        )
        return {int(uid): tz for uid, tz in cursor.fetchall()}


def record_answers(*, answers: Sequence[AnsweredQuestion]) -> int:
    """Records answered questions and updates every aggregate in the caller's transaction.

    Writes the facts; adds to each learner's day (in the learner's timezone) and category; adds
    to the questions' anonymous statistics; and, once the transaction commits, deletes the
    learners' cached dashboards. Atomic increments: concurrent batches lose nothing. The number
    of statements does not depend on the number of answers.

    A question already recorded for the same session is ignored (the call is idempotent), so a
    retried publish never counts twice. Returns the number of answers newly recorded.
    """
    if not answers:
        return 0
    cap = settings.ANALYTICS_ANSWER_TIME_CAP_SEC
    # No savepoint of its own: it runs inside the publisher's transaction, and a failure here
    # must abort the whole answer anyway.
    with transaction.atomic(savepoint=False):
        user_ids = sorted({a.user_id for a in answers})
        zones = lock_learners(user_ids=user_ids)

        facts: dict[tuple[int, str, int, int], _Fact] = {}
        for a in answers:
            raw = max(0, min(int(a.time_spent_sec), _MAX_INT))
            at = aware(a.answered_at)
            fact = _Fact(
                user_id=a.user_id,
                question_id=a.question_id,
                category_id=a.category_id,
                source=a.source,
                source_id=a.source_id,
                is_correct=bool(a.is_correct),
                time_spent_sec=raw,
                counted_time_sec=min(raw, cap),
                answered_at=at,
                local_date=local_date(at, zone(zones.get(a.user_id))),
            )
            facts.setdefault(fact.key, fact)

        columns = [
            "user_id",
            "question_id",
            "category_id",
            "source",
            "source_id",
            "is_correct",
            "time_spent_sec",
            "counted_time_sec",
            "answered_at",
            "local_date",
        ]
        inserted = insert_ignoring_conflicts(
            table=AnswerFact._meta.db_table,
            columns=columns,
            pg_types=[
                "bigint",
                "bigint",
                "bigint",
                "varchar",
                "bigint",
                "boolean",
                "integer",
                "integer",
                "timestamptz",
                "date",
            ],
            rows=[[getattr(f, c) for c in columns] for f in facts.values()],
            conflict=["user_id", "source", "source_id", "question_id"],
            returning=["user_id", "source", "source_id", "question_id"],
        )
        new = [facts[(int(u), str(s), int(sid), int(q))] for u, s, sid, q in inserted]
        if new:
            _add_to_aggregates(new)
            transaction.on_commit(partial(invalidate_user_caches, user_ids=user_ids))
    return len(new)


def _add_to_aggregates(facts: Sequence[_Fact]) -> None:
    days: dict[tuple[int, date], list[int]] = defaultdict(lambda: [0, 0, 0])
    categories: dict[tuple[int, int], list[int]] = defaultdict(lambda: [0, 0])
    last_practiced: dict[tuple[int, int], datetime] = {}
    questions: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for f in facts:
        for totals in (days[(f.user_id, f.local_date)], categories[(f.user_id, f.category_id)]):
            totals[0] += 1
            totals[1] += int(f.is_correct)
        days[(f.user_id, f.local_date)][2] += f.counted_time_sec
        key = (f.user_id, f.category_id)
        last_practiced[key] = max(last_practiced.get(key, f.answered_at), f.answered_at)
        q = questions[f.question_id]
        q[0] += 1
        q[1] += int(f.is_correct)

    upsert_adding(
        table=DailyActivity._meta.db_table,
        columns=["user_id", "date", "answered", "correct", "time_spent_sec", "reading_sec"],
        pg_types=["bigint", "date", "integer", "integer", "integer", "integer"],
        rows=[[u, d, a, c, t, 0] for (u, d), (a, c, t) in sorted(days.items())],
        conflict=["user_id", "date"],
        add=["answered", "correct", "time_spent_sec"],
    )
    upsert_adding(
        table=CategoryProgress._meta.db_table,
        columns=["user_id", "category_id", "answered", "correct", "last_practiced_at"],
        pg_types=["bigint", "bigint", "integer", "integer", "timestamptz"],
        rows=[
            [u, c, a, k, last_practiced[(u, c)]] for (u, c), (a, k) in sorted(categories.items())
        ],
        conflict=["user_id", "category_id"],
        add=["answered", "correct"],
        latest=["last_practiced_at"],
    )
    record_question_stats(counts={qid: (a, c) for qid, (a, c) in questions.items()})


def record_heartbeat(*, user_id: int, seconds: int, now: datetime | None = None) -> int:
    """Credits reading time to the learner's day and returns the seconds credited.

    A heartbeat claims the reading time since the previous one. It is credited at most
    ``ANALYTICS_HEARTBEAT_MAX_SEC`` and never more than the wall time elapsed since the
    learner's previous heartbeat, so however often a client calls, credited reading time never
    exceeds real time. Heartbeats are serialised per learner (row lock), so concurrent calls
    cannot both claim the same interval.
    """
    now = aware(now or timezone.now())
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
        upsert_adding(
            table=DailyActivity._meta.db_table,
            columns=["user_id", "date", "answered", "correct", "time_spent_sec", "reading_sec"],
            pg_types=["bigint", "date", "integer", "integer", "integer", "integer"],
            rows=[[user_id, day, 0, 0, 0, claimed]],
            conflict=["user_id", "date"],
            add=["reading_sec"],
        )
    return claimed
