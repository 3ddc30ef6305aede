"""Practice mode: the only code that writes practice data.

The app is responsible for drawing a reproducible question set for a session, grading each
answer with the one grading rule (``apps.questions.grading``) and reporting it to the learning
record (``apps.questions.learning.publish_answers``) in the same transaction, completing
sessions, and the candidate's flags, private notes and problem reports on questions.

Spaced repetition: every practice answer is also a review of the candidate's FSRS card for that
question (:class:`~apps.practice.models.ReviewCard`, created on the first answer), in the same
transaction; the ``due`` mode draws the cards that are due, most overdue first. How an answer
becomes a review is in :mod:`apps.practice.spaced_repetition`. Exam answers are not fed into
the scheduler: exams are assessments, not study, and must not move what practice asks next.

Time spent on an answer is stored as the client reported it; statistics (the session's total
and the learning record) count at most ``ANALYTICS_ANSWER_TIME_CAP_SEC`` of it, so that a tab
left open overnight does not become eight hours of study.
"""

from __future__ import annotations

import functools
import json
import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core import sql
from apps.core.exceptions import ValidationFailed
from apps.practice.exceptions import (
    AlreadyAnswered,
    AlreadyReported,
    FlagNotFound,
    NoQuestionsAvailable,
    QuestionNotInSession,
    QuestionUnavailable,
    SessionCompleted,
    SessionNotFound,
)
from apps.practice.models import (
    PracticeAttempt,
    PracticeMode,
    PracticeSession,
    QuestionFlag,
    QuestionReport,
    ReportReason,
    ReportStatus,
    ReviewCard,
)
from apps.practice.selectors import practice_pool, score_percent
from apps.practice.spaced_repetition import Review, review
from apps.questions.grading import grade
from apps.questions.learning import AnsweredQuestion, publish_answers
from apps.questions.models import AnswerOption, Question, QuestionStatus, QuestionType
from apps.questions.selectors import published_questions
from apps.taxonomy.models import Category, Subcategory

MAX_QUESTIONS_PER_SESSION = 100
MAX_SELECTED_OPTIONS = 20


def max_counted_time_sec() -> int:
    """The most one answer adds to study-time statistics (the learning record's cap, so that
    a session's total and the learner's study time agree)."""
    return int(getattr(settings, "ANALYTICS_ANSWER_TIME_CAP_SEC", 600))


# --- Drawing and starting a session --------------------------------------------------------


def new_seed() -> int:
    """A fresh 63-bit seed (fits a signed bigint)."""
    return secrets.randbits(63)


def draw_question_ids(*, pool: Iterable[int], count: int, seed: int) -> list[int]:
    """``count`` ids (or all, if fewer) drawn from ``pool`` in random order. Deterministic: the
    same pool and seed always give the same list, whatever order the pool came in."""
    ordered = sorted(set(pool))
    return random.Random(seed).sample(ordered, k=min(count, len(ordered)))  # nosec B311 # reproducible order


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _check_taxonomy(*, category_slugs: Sequence[str], subcategory_slugs: Sequence[str]) -> None:
    """Unknown (or inactive) slugs are a 400 naming them. Subcategories narrow the draw within
    the chosen categories, so a subcategory must belong to one of them when any are chosen."""
    errors: dict[str, list[str]] = {}
    if category_slugs:
        known = set(
            Category.objects.filter(slug__in=category_slugs, is_active=True).values_list(
                "slug", flat=True
            )
        )
        unknown = [slug for slug in category_slugs if slug not in known]
        if unknown:
            errors["categories"] = [f"Unknown category: {slug}." for slug in unknown]
    if subcategory_slugs:
        subs = Subcategory.objects.filter(
            slug__in=subcategory_slugs, is_active=True, category__is_active=True
        )
        if category_slugs:
            subs = subs.filter(category__slug__in=category_slugs)
        known = set(subs.values_list("slug", flat=True))
        unknown = [slug for slug in subcategory_slugs if slug not in known]
        if unknown:
            errors["subcategories"] = [
                f"Unknown subcategory{' in the chosen categories' if category_slugs else ''}: "
                f"{slug}."
                for slug in unknown
            ]
    if errors:
        raise ValidationFailed("Unknown categories or subcategories.", fields=errors)


def _prefers_explanations(user: User) -> bool:
    profile = getattr(user, "profile", None)
    return True if profile is None else bool(profile.prefers_explanations)


def create_practice_session(
    *,
    user: User,
    question_count: int,
    category_slugs: Sequence[str] = (),
    subcategory_slugs: Sequence[str] = (),
    include_explanations: bool | None = None,
    mode: str = PracticeMode.ALL,
    seed: int | None = None,
) -> PracticeSession:
    """Draws up to ``question_count`` published questions from the chosen categories and
    subcategories (all when none), narrowed by ``mode``, and stores the seed. The ``due`` mode
    takes the questions whose review card is due, most overdue first, instead of a random draw.

    When fewer questions are available than asked the session holds all of them
    (``question_count < requested_count``); when none are, :class:`NoQuestionsAvailable`.
    ``include_explanations`` defaults to the profile's ``prefers_explanations``."""
    category_slugs = _unique(category_slugs)
    subcategory_slugs = _unique(subcategory_slugs)
    if not 1 <= question_count <= MAX_QUESTIONS_PER_SESSION:
        raise ValidationFailed(
            fields={
                "question_count": [f"Must be between 1 and {MAX_QUESTIONS_PER_SESSION}."],
            }
        )
    if mode not in PracticeMode.values:
        raise ValidationFailed(fields={"mode": [f"Must be one of {', '.join(PracticeMode)}."]})
    _check_taxonomy(category_slugs=category_slugs, subcategory_slugs=subcategory_slugs)
    pool = practice_pool(
        user_id=user.pk,
        category_slugs=category_slugs,
        subcategory_slugs=subcategory_slugs,
        mode=mode,
    )
    if not pool:
        raise NoQuestionsAvailable()
    if seed is None:
        seed = new_seed()
    if include_explanations is None:
        include_explanations = _prefers_explanations(user)
    if mode == PracticeMode.DUE:
        # Most overdue first, not shuffled: the point of the mode is the order.
        question_ids = pool[:question_count]
    else:
        question_ids = draw_question_ids(pool=pool, count=question_count, seed=seed)
    with transaction.atomic():
        session = PracticeSession.objects.create(
            user=user,
            seed=seed,
            config={
                "categories": category_slugs,
                "subcategories": subcategory_slugs,
                "include_explanations": include_explanations,
                "mode": mode,
            },
            question_ids=question_ids,
            requested_count=question_count,
            available_count=len(pool),
        )
        record_event(
            kind=AuditEvent.Kind.SESSION,
            action="practice.session_created",
            actor=user,
            target=session,
            subject_user_id=user.pk,
            after={"question_count": session.question_count, "config": session.config},
        )
    return session


# --- Answering -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerFeedback:
    attempt_id: int
    is_correct: bool
    correct_option_ids: list[int]
    explanation: str | None
    percent_correct_others: int | None
    session_answered: int
    session_correct: int
    session_question_count: int


def _validate_selection(*, question_type: str, option_ids: set[int], selected: list[int]) -> None:
    if not selected:
        raise ValidationFailed(fields={"selected_option_ids": ["Select at least one option."]})
    foreign = [oid for oid in selected if oid not in option_ids]
    if foreign:
        raise ValidationFailed(
            fields={
                "selected_option_ids": [
                    f"Not an option of this question: {', '.join(map(str, foreign))}."
                ]
            }
        )
    if question_type == QuestionType.SINGLE and len(selected) > 1:
        raise ValidationFailed(
            fields={"selected_option_ids": ["A single best answer question takes one option."]}
        )


@transaction.atomic
def record_practice_answer(
    *,
    user: User,
    session_id: int,
    question_id: int,
    selected_option_ids: Iterable[int],
    time_spent_sec: int = 0,
    answered_at: datetime | None = None,
) -> AnswerFeedback:
    """Grades and records one answer, exactly once per question and session.

    The session row is locked first, so concurrent answers to one session are serialised: none
    is lost and none is recorded twice (the attempt's unique constraint decides a race the lock
    cannot see, see :func:`_write_answer`). The attempt, the session's counters, the user's
    review card for the question and the learning record (via ``publish_answers``; it also
    keeps the questions' anonymous statistics) change in this one transaction, in a fixed
    number of statements whatever the history's size: on PostgreSQL one read, one write of the
    practice rows, and the learning record's one (two the first time this process records an
    answer of the user, see ``apps.analytics.services.record_answers``).

    The statements are written out (apps/core/sql.py): answering is the hottest write, and the
    ORM spent longer building its statements than PostgreSQL spent running them.

    ``percent_correct_others`` is how many earlier answers to the question (by anyone) were
    right, before this one; ``None`` when nobody has answered it yet."""
    if time_spent_sec < 0:
        raise ValidationFailed(fields={"time_spent_sec": ["Must not be negative."]})
    found = _answer_context(user_id=user.pk, session_id=session_id, question_id=question_id)
    if found is None:
        raise SessionNotFound()
    if found.completed:
        raise SessionCompleted()
    if question_id not in found.question_ids:
        raise QuestionNotInSession(fields={"question_id": ["Not a question of this session."]})
    if found.question_type is None:
        raise QuestionUnavailable()
    if found.already_answered:
        raise AlreadyAnswered()
    selected = sorted(set(selected_option_ids))
    if len(selected) > MAX_SELECTED_OPTIONS:
        raise ValidationFailed(fields={"selected_option_ids": ["Too many options selected."]})
    _validate_selection(
        question_type=found.question_type,
        option_ids={oid for oid, _ in found.options},
        selected=selected,
    )

    result = grade(
        correct_option_ids=[oid for oid, is_correct in found.options if is_correct],
        selected_option_ids=selected,
    )
    now = answered_at or timezone.now()
    counted = min(time_spent_sec, max_counted_time_sec())
    category_id = found.category_id
    reviewed = review(
        state=found.card_state or None,
        card_id=question_id,
        is_correct=result.is_correct,
        at=now,
    )
    written = _write_answer(
        user_id=user.pk,
        session_id=session_id,
        question_id=question_id,
        category_id=category_id,
        selected=selected,
        is_correct=result.is_correct,
        question_version=found.question_version,
        time_spent_sec=time_spent_sec,
        counted_time_sec=counted,
        at=now,
        # The row is locked, so the category list computed here cannot race.
        category_ids=(
            found.category_ids
            if category_id in found.category_ids
            else [*found.category_ids, category_id]
        ),
        reviewed=reviewed,
        card_reps=found.card_reps,
    )
    if written is None:
        raise AlreadyAnswered()
    if not written.card_reviewed:
        # The card changed since it was read (a first answer to the question at the same
        # moment in another of the user's sessions): review it again under its row lock.
        schedule_review(
            user_id=user.pk, question_id=question_id, is_correct=result.is_correct, at=now
        )
    publish_answers(
        answers=[
            AnsweredQuestion(
                user_id=user.pk,
                question_id=question_id,
                category_id=category_id,
                is_correct=result.is_correct,
                time_spent_sec=time_spent_sec,
                answered_at=now,
                source="practice",
                source_id=session_id,
            )
        ]
    )
    return AnswerFeedback(
        attempt_id=written.attempt_id,
        is_correct=result.is_correct,
        correct_option_ids=result.correct_option_ids,
        explanation=found.explanation if found.include_explanations else None,
        percent_correct_others=score_percent(
            correct=found.times_correct, answered=found.times_answered
        ),
        session_answered=written.session_answered,
        session_correct=written.session_correct,
        session_question_count=len(found.question_ids),
    )


def _json(value: Any) -> Any:
    """A JSON column as read by a plain cursor: text on both databases (Django registers no
    JSON decoding with psycopg; the field's ``from_db_value`` would do this)."""
    return json.loads(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class _AnswerContext:
    """What answering needs, read by one statement: the locked session, the question (``None``
    fields when it is not published), its options with the key, and the user's review card."""

    question_ids: list[int]
    include_explanations: bool
    category_ids: list[int]
    completed: bool
    question_type: str | None
    question_version: int
    category_id: int
    explanation: str
    times_answered: int
    times_correct: int
    already_answered: bool
    options: list[tuple[int, bool]]
    card_state: dict[str, Any] | None
    card_reps: int | None  # None: no card yet


def _answer_context(*, user_id: int, session_id: int, question_id: int) -> _AnswerContext | None:
    """The user's session (row-locked until the end of the transaction) with the question,
    whether the session already holds an answer to it, its options and the user's card, in one
    statement (one row per option); ``None`` when the session is not the user's.

    Whether the question is already answered is only as fresh as the statement's snapshot, which
    PostgreSQL takes before waiting for the session lock: it turns away the common double
    submission early, and :func:`_write_answer` decides the rest."""
    rows = sql.fetch_all(
        _answer_context_sql(connection.vendor),
        [
            *(session_id, question_id),  # already answered
            *(question_id, QuestionStatus.PUBLISHED, True),  # the question
            question_id,  # its options
            *(user_id, question_id),  # the card
            *(session_id, user_id),  # the session
        ],
    )
    if not rows:
        return None
    first = rows[0]
    config = _json(first[1]) or {}
    card_state, card_reps = first[13], first[14]
    return _AnswerContext(
        question_ids=_json(first[0]),
        include_explanations=bool(config.get("include_explanations", True)),
        category_ids=_json(first[2]),
        completed=first[3] is not None,
        question_type=first[4],
        question_version=first[5],
        category_id=first[6],
        explanation=first[7],
        times_answered=first[8],
        times_correct=first[9],
        already_answered=bool(first[10]),
        options=[(row[11], bool(row[12])) for row in rows if row[11] is not None],
        card_state=_json(card_state) if card_reps is not None else None,
        card_reps=card_reps,
    )


@functools.cache
def _answer_context_sql(vendor: str) -> str:
    session, attempt = _table(PracticeSession), _table(PracticeAttempt)
    question, option, card = _table(Question), _table(AnswerOption), _table(ReviewCard)
    category = _table(Category)
    # SQLite has no row locks (a writing transaction holds the whole database).
    lock = " FOR UPDATE OF s" if vendor == "postgresql" else ""
    # Every table is matched on the parameters rather than on the other tables' columns: the
    # result is the same, and PostgreSQL plans it in half the time (fewer join orders).
    # The question is readable when published in an active category: the rule of
    # ``QuestionQuerySet.published``, written out (tests/practice pins the two together).
    return (
        "SELECT s.question_ids, s.config, s.category_ids, s.completed_at, "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "q.type, q.version, q.category_id, q.explanation, q.times_answered, q.times_correct, "
        f"EXISTS (SELECT 1 FROM {attempt} a WHERE a.session_id = %s AND a.question_id = %s), "
        "o.id, o.is_correct, c.state, c.reps "
        f"FROM {session} s "
        f"LEFT JOIN {question} q ON q.id = %s AND q.status = %s "
        f"AND (SELECT k.is_active FROM {category} k WHERE k.id = q.category_id) = %s "
        f"LEFT JOIN {option} o ON o.question_id = %s AND q.id IS NOT NULL "
        f"LEFT JOIN {card} c ON c.user_id = %s AND c.question_id = %s "
        f"WHERE s.id = %s AND s.user_id = %s{lock}"
    )


def _table(model: type[Model]) -> str:
    return sql.quote(model._meta.db_table)


@dataclass(frozen=True)
class _Written:
    attempt_id: int
    session_answered: int
    session_correct: int
    card_reviewed: bool


def _write_answer(
    *,
    user_id: int,
    session_id: int,
    question_id: int,
    category_id: int,
    selected: list[int],
    is_correct: bool,
    question_version: int,
    time_spent_sec: int,
    counted_time_sec: int,
    at: datetime,
    category_ids: list[int],
    reviewed: Review,
    card_reps: int | None,
) -> _Written | None:
    """Inserts the attempt, adds it to the session's counters and stores the reviewed card; on
    PostgreSQL in one statement. ``None`` (and nothing written) when the session already holds
    an answer to the question: the attempt's unique constraint, not the earlier read, decides.

    The card is written only if it is still as read (``card_reps``; ``None``: no card yet), a
    compare-and-set that needs no row lock; ``card_reviewed`` is false when it was not."""
    attempt = [
        session_id,
        question_id,
        category_id,
        json.dumps(selected),
        is_correct,
        question_version,
        time_spent_sec,
        counted_time_sec,
        at,
    ]
    counters = [int(is_correct), counted_time_sec, at, json.dumps(category_ids), session_id]
    card = [
        user_id,
        question_id,
        json.dumps(reviewed.state),
        reviewed.due,
        reviewed.last_review_at,
        at,
        int(reviewed.lapsed),
        -1 if card_reps is None else card_reps,  # reps are never negative: no existing card
    ]
    if connection.vendor == "postgresql":
        row = sql.fetch_one(_write_answer_sql(), [*attempt, *counters, *card])
        assert row is not None  # nosec B101 # a statement of scalar subqueries gives one row
        attempt_id, answered, correct, cards = row
        if attempt_id is None:
            return None
        return _Written(attempt_id, answered, correct, card_reviewed=cards > 0)
    insert_attempt, update_session, upsert_card = _write_answer_statements(connection.vendor)
    inserted = sql.fetch_one(insert_attempt, attempt)
    if inserted is None:
        return None
    counts = sql.fetch_one(update_session, counters)
    assert counts is not None  # nosec B101 # the session row is the caller's, and locked
    return _Written(
        inserted[0],
        counts[0],
        counts[1],
        card_reviewed=sql.fetch_one(upsert_card, card) is not None,
    )


@functools.cache
def _write_answer_statements(vendor: str) -> tuple[str, str, str]:
    """The three writes of an answer. PostgreSQL runs them as one statement
    (:func:`_write_answer_sql`), where the session and the card change only if the attempt was
    inserted; elsewhere they run one by one and the caller stops after a refused attempt."""
    pg = vendor == "postgresql"
    json_param = "%s::jsonb" if pg else "%s"
    after_attempt = " AND EXISTS (SELECT 1 FROM new_attempt)" if pg else ""
    card_values = f"%s, %s, {json_param}, %s, %s, 1, 0, %s"
    card_source = (
        f"SELECT {card_values} WHERE EXISTS (SELECT 1 FROM new_attempt)"  # noqa: S608  # nosec B608
        if pg
        else f"VALUES ({card_values})"
    )
    attempt_columns = ", ".join(
        sql.quote(c)
        for c in (
            "session_id",
            "question_id",
            "category_id",
            "selected_option_ids",
            "is_correct",
            "question_version",
            "time_spent_sec",
            "counted_time_sec",
            "answered_at",
        )
    )
    insert_attempt = (
        f"INSERT INTO {_table(PracticeAttempt)} ({attempt_columns}) "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        f"VALUES (%s, %s, %s, {json_param}, %s, %s, %s, %s, %s) "
        "ON CONFLICT (session_id, question_id) DO NOTHING RETURNING id"
    )
    update_session = (
        f"UPDATE {_table(PracticeSession)} SET answered = answered + 1, "  # noqa: S608  # nosec B608 # names from _meta, values are parameters
        "correct = correct + %s, time_spent_sec = time_spent_sec + %s, last_activity_at = %s, "
        f"category_ids = {json_param} WHERE id = %s{after_attempt} RETURNING answered, correct"
    )
    upsert_card = (
        f"INSERT INTO {_table(ReviewCard)} AS c "  # nosec B608 # names from _meta, values are parameters
        "(user_id, question_id, state, due, last_review_at, reps, lapses, created_at) "
        f"{card_source} "
        "ON CONFLICT (user_id, question_id) DO UPDATE SET state = excluded.state, "
        "due = excluded.due, last_review_at = excluded.last_review_at, reps = c.reps + 1, "
        "lapses = c.lapses + %s WHERE c.reps = %s RETURNING id"
    )
    return insert_attempt, update_session, upsert_card


@functools.cache
def _write_answer_sql() -> str:
    insert_attempt, update_session, upsert_card = _write_answer_statements("postgresql")
    return (
        f"WITH new_attempt AS ({insert_attempt}), counters AS ({update_session}), "  # noqa: S608  # nosec B608
        f"card AS ({upsert_card}) "
        "SELECT (SELECT id FROM new_attempt), (SELECT answered FROM counters), "
        "(SELECT correct FROM counters), (SELECT count(*) FROM card)"
    )


def schedule_review(*, user_id: int, question_id: int, is_correct: bool, at: datetime) -> None:
    """Reviews the user's card for the question (creating it on the first answer) under its
    row lock: right is FSRS's Good, wrong is Again. Call it inside the answering transaction.

    Answering reviews the card it read without a lock (compare-and-set on ``reps``) and comes
    here only when that lost a race, so concurrent answers each count one review."""
    card = (
        ReviewCard.objects.select_for_update()
        .filter(user_id=user_id, question_id=question_id)
        .only("id", "state", "reps", "lapses")
        .first()
    )
    reviewed = review(
        state=card.state if card else None, card_id=question_id, is_correct=is_correct, at=at
    )
    if card is None:
        ReviewCard.objects.bulk_create(
            [
                ReviewCard(
                    user_id=user_id,
                    question_id=question_id,
                    state=reviewed.state,
                    due=reviewed.due,
                    last_review_at=reviewed.last_review_at,
                    reps=1,
                    lapses=0,
                    created_at=at,
                )
            ],
            update_conflicts=True,
            unique_fields=["user", "question"],
            update_fields=["state", "due", "last_review_at"],
        )
        return
    ReviewCard.objects.filter(pk=card.pk).update(
        state=reviewed.state,
        due=reviewed.due,
        last_review_at=reviewed.last_review_at,
        reps=card.reps + 1,
        lapses=card.lapses + int(reviewed.lapsed),
    )


@transaction.atomic
def complete_practice_session(*, user: User, session_id: int) -> PracticeSession:
    """Finalises the session; completing it again changes nothing and returns it as it is."""
    session = (
        PracticeSession.objects.select_for_update().filter(user_id=user.pk, id=session_id).first()
    )
    if session is None:
        raise SessionNotFound()
    if session.completed_at is not None:
        return session
    now = timezone.now()
    session.completed_at = now
    session.last_activity_at = now
    session.save(update_fields=["completed_at", "last_activity_at"])
    record_event(
        kind=AuditEvent.Kind.SESSION,
        action="practice.session_completed",
        actor=user,
        target=session,
        subject_user_id=user.pk,
        after={"answered": session.answered, "correct": session.correct},
    )
    return session


# --- Flags, notes and reports --------------------------------------------------------------


def _require_published_question(question_id: int) -> None:
    if not published_questions().filter(pk=question_id).exists():
        raise ValidationFailed(fields={"question_id": ["No such question."]})


@transaction.atomic
def set_question_flag(
    *,
    user: User,
    question_id: int,
    is_flagged: bool | None = None,
    note: str | None = None,
) -> tuple[QuestionFlag, bool]:
    """Creates or updates the user's flag and private note on a question; returns
    ``(flag, created)``. Omitted values are left as they are (a new flag is flagged, with no
    note)."""
    _require_published_question(question_id)
    flag, created = QuestionFlag.objects.select_for_update().get_or_create(
        user=user,
        question_id=question_id,
        defaults={
            "is_flagged": True if is_flagged is None else is_flagged,
            "note": (note or "").strip(),
        },
    )
    if not created:
        if is_flagged is not None:
            flag.is_flagged = is_flagged
        if note is not None:
            flag.note = note.strip()
        flag.save(update_fields=["is_flagged", "note", "updated_at"])
    return flag, created


def remove_question_flag(*, user: User, question_id: int) -> None:
    """Removes the user's flag and note on a question."""
    deleted, _ = QuestionFlag.objects.filter(user_id=user.pk, question_id=question_id).delete()
    if not deleted:
        raise FlagNotFound()


@transaction.atomic
def report_question(
    *, user: User, question_id: int, reason: str, message: str = ""
) -> QuestionReport:
    """Files a problem report for the editors' queue. A user has at most one open report per
    question; "other" needs a message."""
    _require_published_question(question_id)
    message = message.strip()
    if reason not in ReportReason.values:
        raise ValidationFailed(fields={"reason": ["Unknown reason."]})
    if reason == ReportReason.OTHER and not message:
        raise ValidationFailed(fields={"message": ["Describe the problem."]})
    try:
        # A partial unique constraint holds the rule, so a double click files one report.
        with transaction.atomic():
            return QuestionReport.objects.create(
                user=user, question_id=question_id, reason=reason, message=message
            )
    except IntegrityError as exc:
        raise AlreadyReported() from exc


@transaction.atomic
def resolve_question_reports(*, report_ids: Iterable[int], by: User) -> int:
    """Marks open reports resolved by ``by`` (an editor); returns how many changed. Each
    resolution is in the audit trail."""
    now = timezone.now()
    reports = list(
        QuestionReport.objects.select_for_update().filter(
            id__in=list(report_ids), status=ReportStatus.OPEN
        )
    )
    for report in reports:
        report.status = ReportStatus.RESOLVED
        report.resolved_at = now
        report.resolved_by = by
        report.save(update_fields=["status", "resolved_at", "resolved_by"])
        record_event(
            kind=AuditEvent.Kind.CONTENT,
            action="practice.report_resolved",
            actor=by,
            target=report,
            before={"status": ReportStatus.OPEN},
            after={"status": ReportStatus.RESOLVED, "question_id": report.question_id},
        )
    return len(reports)


@transaction.atomic
def reopen_question_reports(*, report_ids: Iterable[int], by: User) -> int:
    """Puts resolved reports back in the queue; returns how many changed."""
    reports = list(
        QuestionReport.objects.select_for_update().filter(
            id__in=list(report_ids), status=ReportStatus.RESOLVED
        )
    )
    for report in reports:
        report.status = ReportStatus.OPEN
        report.resolved_at = None
        report.resolved_by = None
        report.save(update_fields=["status", "resolved_at", "resolved_by"])
        record_event(
            kind=AuditEvent.Kind.CONTENT,
            action="practice.report_reopened",
            actor=by,
            target=report,
            before={"status": ReportStatus.RESOLVED},
            after={"status": ReportStatus.OPEN, "question_id": report.question_id},
        )
    return len(reports)
