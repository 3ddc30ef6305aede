"""Starting and completing practice sessions.

A session draws a reproducible question set: the pool is read in id order and shuffled with a
stored seed, so the same pool and seed always give the same questions in the same order. The
``due`` mode instead takes the questions whose review card is due, most overdue first, and the
``today`` mode the day's work within the candidate's daily limits (:func:`_today_question_ids`).
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.models import AuditEvent
from apps.audit.services import record_event
from apps.core.exceptions import ValidationFailed
from apps.practice.exceptions import NoQuestionsAvailable, NothingDueToday, SessionNotFound
from apps.practice.models import PracticeMode, PracticeSession
from apps.practice.selectors import practice_pool
from apps.practice.selectors.today import done_today, local_day, new_question_ids, study_settings_of
from apps.taxonomy.models import Category, Subcategory

MAX_QUESTIONS_PER_SESSION = 100
DEFAULT_QUESTIONS_PER_SESSION = 20


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
    question_count: int | None,
    category_slugs: Sequence[str] = (),
    subcategory_slugs: Sequence[str] = (),
    include_explanations: bool | None = None,
    mode: str = PracticeMode.ALL,
    seed: int | None = None,
) -> PracticeSession:
    """Draws up to ``question_count`` published questions from the chosen categories and
    subcategories (all when none), narrowed by ``mode``, and stores the seed. The ``due`` mode
    takes the questions whose review card is due, most overdue first, instead of a random draw.

    The ``today`` mode takes the due reviews (most overdue first) and then new questions (a
    seeded draw among those never answered in practice), each within what is left of the
    candidate's daily limits (:func:`_today_question_ids`); :class:`NothingDueToday` when
    nothing is left. ``question_count`` (``None``: 20, or as many as a session holds in the
    ``today`` mode) caps the session.

    When fewer questions are available than asked the session holds all of them
    (``question_count < requested_count``); when none are, :class:`NoQuestionsAvailable`.
    ``include_explanations`` defaults to the profile's ``prefers_explanations``."""
    category_slugs = _unique(category_slugs)
    subcategory_slugs = _unique(subcategory_slugs)
    if mode == PracticeMode.TODAY:
        return _create_today_session(
            user=user,
            question_count=question_count,
            category_slugs=category_slugs,
            subcategory_slugs=subcategory_slugs,
            include_explanations=include_explanations,
            seed=seed,
        )
    if question_count is None:
        question_count = DEFAULT_QUESTIONS_PER_SESSION
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


def _today_question_ids(
    *,
    user: User,
    count: int,
    category_slugs: Sequence[str],
    subcategory_slugs: Sequence[str],
    seed: int,
) -> tuple[list[int], int]:
    """The day's questions, at most ``count``: the due reviews, most overdue first, up to what
    is left of the daily review limit, then new questions (never answered in practice, a
    seeded draw) up to what is left of the daily new limit; with how many of them are reviews.
    The day and both limits are the candidate's (profile timezone and limits, see
    :mod:`apps.practice.selectors.today`); the pools leave out the questions of open exams."""
    settings = study_settings_of(user)
    day = local_day(settings.zone, timezone.now())
    reviews_done, new_done = done_today(user_id=user.pk, day=day)
    review_budget = max(0, settings.daily_review_limit - reviews_done)
    new_budget = max(0, settings.daily_new_limit - new_done)
    reviews: list[int] = []
    if review_budget:
        due = practice_pool(
            user_id=user.pk,
            category_slugs=category_slugs,
            subcategory_slugs=subcategory_slugs,
            mode=PracticeMode.DUE,
        )
        reviews = due[: min(review_budget, count)]
    new: list[int] = []
    room = min(new_budget, count - len(reviews))
    if room > 0:
        pool = practice_pool(
            user_id=user.pk, category_slugs=category_slugs, subcategory_slugs=subcategory_slugs
        )
        new = draw_question_ids(
            pool=new_question_ids(user_id=user.pk, pool=pool), count=room, seed=seed
        )
    return reviews + new, len(reviews)


def _create_today_session(
    *,
    user: User,
    question_count: int | None,
    category_slugs: Sequence[str],
    subcategory_slugs: Sequence[str],
    include_explanations: bool | None,
    seed: int | None,
) -> PracticeSession:
    """A ``today`` session (see :func:`create_practice_session`).

    A ``today`` session is the day's queue as it stood when it was made. Starting another one
    completes the candidate's earlier open ``today`` sessions: their unanswered questions go
    back to the queue, so two sessions never hand out the same day's budget twice. The user's
    row is locked first, so two concurrent starts are serialised and the second sees the
    first."""
    count = MAX_QUESTIONS_PER_SESSION if question_count is None else question_count
    if not 1 <= count <= MAX_QUESTIONS_PER_SESSION:
        raise ValidationFailed(
            fields={"question_count": [f"Must be between 1 and {MAX_QUESTIONS_PER_SESSION}."]}
        )
    _check_taxonomy(category_slugs=category_slugs, subcategory_slugs=subcategory_slugs)
    if seed is None:
        seed = new_seed()
    if include_explanations is None:
        include_explanations = _prefers_explanations(user)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk").get()
        question_ids, review_count = _today_question_ids(
            user=user,
            count=count,
            category_slugs=category_slugs,
            subcategory_slugs=subcategory_slugs,
            seed=seed,
        )
        if not question_ids:
            raise NothingDueToday()
        now = timezone.now()
        earlier = list(
            PracticeSession.objects.select_for_update().filter(
                user_id=user.pk, completed_at__isnull=True, config__mode=PracticeMode.TODAY
            )
        )
        session = PracticeSession.objects.create(
            user=user,
            seed=seed,
            config={
                "categories": category_slugs,
                "subcategories": subcategory_slugs,
                "include_explanations": include_explanations,
                "mode": PracticeMode.TODAY,
                "reviews": review_count,
                "new": len(question_ids) - review_count,
            },
            question_ids=question_ids,
            requested_count=count if question_count is not None else len(question_ids),
            available_count=len(question_ids),
        )
        for old in earlier:
            old.completed_at = now
            old.save(update_fields=["completed_at"])
            record_event(
                kind=AuditEvent.Kind.SESSION,
                action="practice.session_completed",
                actor=user,
                target=old,
                subject_user_id=user.pk,
                after={
                    "answered": old.answered,
                    "correct": old.correct,
                    "superseded_by": session.pk,
                },
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
