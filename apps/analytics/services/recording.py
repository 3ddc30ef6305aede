"""Recording answered questions and reading time, incrementally."""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
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
from apps.questions.services.questions import question_stats_sql

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

    Locks the learners (:func:`lock_learners`); writes the facts; adds to each learner's day
    (in the learner's timezone) and category; adds to the questions' anonymous statistics;
    and, once the transaction commits, deletes the learners' cached dashboards. Atomic
    increments: concurrent batches lose nothing. The number of statements does not depend on
    the number of answers: on PostgreSQL one statement does it all when this process already
    knows the learners' timezones (:func:`_record_with_known_zones`), two otherwise (the lock,
    which reads the timezones, then the rest).

    A question already recorded for the same session is ignored (the call is idempotent), so a
    retried publish never counts twice. Returns the number of answers newly recorded.
    """
    if not answers:
        return 0
    # No savepoint of its own: it runs inside the publisher's transaction, and a failure here
    # must abort the whole answer anyway.
    with transaction.atomic(savepoint=False):
        user_ids = sorted({a.user_id for a in answers})
        recorded: int | None = None
        if connection.vendor == "postgresql":
            recorded = _record_with_known_zones(answers, user_ids)
        if recorded is None:
            zones = lock_learners(user_ids=user_ids)
            _remember_zones(zones)
            facts = _facts(answers, zones)
            if connection.vendor == "postgresql":
                recorded = _record_in_one_statement(list(facts.values()))
            else:
                recorded = _record_step_by_step(facts)
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
    """PostgreSQL: :func:`lock_learners` and :func:`_record_in_one_statement` as one statement,
    with the answers dated by the timezones this process last read for the learners. Returns
    how many answers were newly recorded, or ``None`` (and nothing recorded, though the
    learners are locked) when a timezone is unknown here or is no longer the profile's."""
    guesses = {uid: _zone_guesses[uid] for uid in user_ids if uid in _zone_guesses}
    if len(guesses) < len(user_ids):
        return None
    facts = list(_facts(answers, guesses).values())
    one = len(facts) == 1  # then one learner too
    now = timezone.now()
    zones = [guesses[uid] for uid in user_ids]
    learners: list[Any] = (
        [user_ids[0], now, zones[0]] if one else [now, list(user_ids), list(user_ids), zones]
    )
    with connection.cursor() as cursor:
        cursor.execute(_lock_and_record_sql(one=one), [*learners, *_fact_params(facts)])
        wrong_guesses, recorded = cursor.fetchone()
    return None if wrong_guesses else int(recorded)


_FACT_COLUMNS = (
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
)
_FACT_TYPES = (
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
)


def _record_in_one_statement(facts: Sequence[_Fact]) -> int:
    """PostgreSQL, the learners already locked: inserts the facts and adds the ones actually
    inserted to the days, the categories and the questions' statistics, in one statement (a
    data-modifying ``WITH``); the sums are those of :func:`_add_to_aggregates`. Returns how
    many facts were new."""
    with connection.cursor() as cursor:
        cursor.execute(_record_sql(one=len(facts) == 1), _fact_params(facts))
        (recorded,) = cursor.fetchone()
    return int(recorded)


def _fact_params(facts: Sequence[_Fact]) -> list[Any]:
    """One value per column for a single fact, else one array per column (a fixed number of
    parameters whatever the batch's size)."""
    if len(facts) == 1:
        return [getattr(facts[0], c) for c in _FACT_COLUMNS]
    return [[getattr(f, c) for f in facts] for c in _FACT_COLUMNS]


@functools.cache
def _record_sql(*, one: bool) -> str:
    return f"WITH {_recording_ctes(one=one, guarded=False)} SELECT count(*) FROM new_fact"  # noqa: S608  # nosec B608


@functools.cache
def _lock_and_record_sql(*, one: bool) -> str:
    """:func:`lock_learners` and :func:`_record_sql` in one statement, the facts written only if
    every timezone guess was right (``wrong_guess`` is empty). The facts are read only once no
    guess is found wrong, that is once the whole ``learner`` upsert has run: the learners are
    locked before any fact or aggregate is written, as in the two-statement path."""
    table = connection.ops.quote_name(LearnerState._meta.db_table)
    profiles = connection.ops.quote_name(Profile._meta.db_table)
    if one:
        rows = "VALUES (%s, %s, 1)"
        wrong = "SELECT 1 FROM learner l WHERE l.tz IS DISTINCT FROM %s"
    else:
        rows = "SELECT u, t.now, 1 FROM (SELECT %s::timestamptz AS now) t, unnest(%s::bigint[]) u"
        wrong = (
            "SELECT 1 FROM learner l JOIN unnest(%s::bigint[], %s::text[]) AS g (user_id, tz) "
            "ON g.user_id = l.user_id WHERE l.tz IS DISTINCT FROM g.tz"
        )
    return (
        f"WITH learner AS (INSERT INTO {table} (user_id, touched_at, version) {rows} "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "ON CONFLICT (user_id) DO UPDATE SET touched_at = EXCLUDED.touched_at, "
        f"version = {table}.version + 1 "
        f"RETURNING user_id, (SELECT p.timezone FROM {profiles} p "
        f"WHERE p.user_id = {table}.user_id) AS tz), "
        f"wrong_guess AS ({wrong}), "
        f"{_recording_ctes(one=one, guarded=True)} "
        "SELECT (SELECT count(*) FROM wrong_guess), (SELECT count(*) FROM new_fact)"
    )


def _recording_ctes(*, one: bool, guarded: bool) -> str:
    """The ``WITH`` items that insert the facts (``new_fact``: the ones actually inserted) and
    add them to every aggregate. ``one``: a single fact, given as plain parameters, which
    PostgreSQL plans in half the time of the general form (no arrays, no grouping, and a
    single question row needs no ordered locking). ``guarded``: no fact is inserted if
    ``wrong_guess`` has a row."""
    q = connection.ops.quote_name
    facts = q(AnswerFact._meta.db_table)
    days = q(DailyActivity._meta.db_table)
    progress = q(CategoryProgress._meta.db_table)
    columns = ", ".join(q(c) for c in _FACT_COLUMNS)
    guard = " WHERE NOT EXISTS (SELECT 1 FROM wrong_guess)" if guarded else ""
    if one:
        source = "SELECT " + ", ".join(f"%s::{t}" for t in _FACT_TYPES)
        day = "1, is_correct::integer, counted_time_sec, 0 FROM new_fact"
        category = "1, is_correct::integer, answered_at FROM new_fact"
        per_question = "1 AS answered, is_correct::integer AS correct FROM new_fact"
    else:
        arrays = ", ".join(f"%s::{t}[]" for t in _FACT_TYPES)
        source = f"SELECT * FROM unnest({arrays})"  # noqa: S608  # nosec B608
        counts = "count(*), count(*) FILTER (WHERE is_correct)"
        day = f"{counts}, sum(counted_time_sec), 0 FROM new_fact GROUP BY user_id, local_date"
        category = f"{counts}, max(answered_at) FROM new_fact GROUP BY user_id, category_id"
        per_question = (
            "count(*) AS answered, count(*) FILTER (WHERE is_correct) AS correct "
            "FROM new_fact GROUP BY question_id"
        )
    return (
        f"new_fact AS (INSERT INTO {facts} ({columns}) {source}{guard} "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "ON CONFLICT (user_id, source, source_id, question_id) DO NOTHING "
        "RETURNING user_id, question_id, category_id, is_correct, counted_time_sec, "
        "answered_at, local_date), "
        f"day AS (INSERT INTO {days} AS t "
        f"(user_id, {q('date')}, answered, correct, time_spent_sec, reading_sec) "
        f"SELECT user_id, local_date, {day} "
        f"ON CONFLICT (user_id, {q('date')}) DO UPDATE SET "
        "answered = t.answered + excluded.answered, correct = t.correct + excluded.correct, "
        "time_spent_sec = t.time_spent_sec + excluded.time_spent_sec), "
        f"category AS (INSERT INTO {progress} AS t "
        "(user_id, category_id, answered, correct, last_practiced_at) "
        f"SELECT user_id, category_id, {category} "
        "ON CONFLICT (user_id, category_id) DO UPDATE SET "
        "answered = t.answered + excluded.answered, correct = t.correct + excluded.correct, "
        "last_practiced_at = GREATEST(t.last_practiced_at, excluded.last_practiced_at)), "
        f"answered_question AS (SELECT question_id, {per_question}), "
        f"{question_stats_sql(counts='answered_question', ordered_locks=not one)}"
    )


def _record_step_by_step(facts: dict[tuple[int, str, int, int], _Fact]) -> int:
    """Elsewhere (SQLite, the embedded development default): the facts in one statement, then
    the aggregates of the new ones in one statement each."""
    inserted = insert_ignoring_conflicts(
        table=AnswerFact._meta.db_table,
        columns=_FACT_COLUMNS,
        pg_types=_FACT_TYPES,
        rows=[[getattr(f, c) for c in _FACT_COLUMNS] for f in facts.values()],
        conflict=["user_id", "source", "source_id", "question_id"],
        returning=["user_id", "source", "source_id", "question_id"],
    )
    new = [facts[(int(u), str(s), int(sid), int(q))] for u, s, sid, q in inserted]
    if new:
        _add_to_aggregates(new)
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
