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

import random
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
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
from apps.practice.spaced_repetition import review
from apps.questions.grading import grade
from apps.questions.learning import AnsweredQuestion, publish_answers
from apps.questions.models import AnswerOption, QuestionType
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
    attempt: PracticeAttempt
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
    is lost and none is recorded twice. The attempt, the session's counters and the learning
    record (via ``publish_answers``; it also keeps the questions' anonymous statistics) change
    in this one transaction, in a fixed number of statements whatever the history's size. So
    does the user's review card for the question (:func:`schedule_review`).

    ``percent_correct_others`` is how many earlier answers to the question (by anyone) were
    right, before this one; ``None`` when nobody has answered it yet."""
    if time_spent_sec < 0:
        raise ValidationFailed(fields={"time_spent_sec": ["Must not be negative."]})
    session = (
        PracticeSession.objects.select_for_update()
        .filter(user_id=user.pk, id=session_id)
        .only(
            "id",
            "user_id",
            "question_ids",
            "config",
            "category_ids",
            "completed_at",
            "answered",
            "correct",
        )
        .first()
    )
    if session is None:
        raise SessionNotFound()
    if session.completed_at is not None:
        raise SessionCompleted()
    if question_id not in session.question_ids:
        raise QuestionNotInSession(fields={"question_id": ["Not a question of this session."]})
    # Whether the session already holds an answer to the question is read with the question
    # (the session row is locked, so the answer cannot appear in between).
    question = (
        published_questions()
        .filter(pk=question_id)
        .annotate(
            already_answered=Exists(
                PracticeAttempt.objects.filter(session_id=session.pk, question_id=OuterRef("pk"))
            )
        )
        .values(
            "type",
            "version",
            "category_id",
            "explanation",
            "times_answered",
            "times_correct",
            "already_answered",
        )
        .first()
    )
    if question is None:
        raise QuestionUnavailable()
    if question["already_answered"]:
        raise AlreadyAnswered()
    selected = sorted(set(selected_option_ids))
    if len(selected) > MAX_SELECTED_OPTIONS:
        raise ValidationFailed(fields={"selected_option_ids": ["Too many options selected."]})
    # One read gives both the question's options (to validate the selection) and its answer
    # key, the same rows ``answer_keys`` reads.
    options = list(
        AnswerOption.objects.filter(question_id=question_id).values_list("id", "is_correct")
    )
    option_ids = {oid for oid, _ in options}
    _validate_selection(question_type=question["type"], option_ids=option_ids, selected=selected)

    result = grade(
        correct_option_ids=sorted(oid for oid, is_correct in options if is_correct),
        selected_option_ids=selected,
    )
    now = answered_at or timezone.now()
    counted = min(time_spent_sec, max_counted_time_sec())
    category_id = question["category_id"]
    attempt = PracticeAttempt.objects.create(
        session_id=session.pk,
        question_id=question_id,
        category_id=category_id,
        selected_option_ids=selected,
        is_correct=result.is_correct,
        question_version=question["version"],
        time_spent_sec=time_spent_sec,
        counted_time_sec=counted,
        answered_at=now,
    )
    # The row is locked, so the category list computed here cannot race; the counters use F()
    # all the same, so that they stay right even if a writer ever forgets the lock.
    update: dict[str, object] = {
        "answered": F("answered") + 1,
        "correct": F("correct") + (1 if result.is_correct else 0),
        "time_spent_sec": F("time_spent_sec") + counted,
        "last_activity_at": now,
    }
    if category_id not in session.category_ids:
        update["category_ids"] = [*session.category_ids, category_id]
    PracticeSession.objects.filter(pk=session.pk).update(**update)
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
                source_id=session.pk,
            )
        ]
    )
    schedule_review(user_id=user.pk, question_id=question_id, is_correct=result.is_correct, at=now)
    times_answered, times_correct = question["times_answered"], question["times_correct"]
    return AnswerFeedback(
        attempt=attempt,
        is_correct=result.is_correct,
        correct_option_ids=result.correct_option_ids,
        explanation=question["explanation"] if session.include_explanations else None,
        percent_correct_others=score_percent(correct=times_correct, answered=times_answered),
        session_answered=session.answered + 1,
        session_correct=session.correct + (1 if result.is_correct else 0),
        session_question_count=session.question_count,
    )


def schedule_review(*, user_id: int, question_id: int, is_correct: bool, at: datetime) -> None:
    """Reviews the user's card for the question (creating it on the first answer): right is
    FSRS's Good, wrong is Again. Two statements: the card is read under a row lock, then
    updated or inserted. Call it inside the answering transaction.

    Two first answers to one question at the same instant (two sessions of one user) both
    compute a new card; the insert then keeps the later one instead of failing the answer, so
    the card counts one review where there were two."""
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
