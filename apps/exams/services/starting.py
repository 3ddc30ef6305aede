"""Starting a session: drawing the paper and fixing its order for the whole sitting."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, prefetch_related_objects
from django.utils import timezone

from apps.accounts.models import User
from apps.audit.services import record_event
from apps.exams.exceptions import TemplateUnfillable
from apps.exams.models import (
    BlueprintItem,
    ExamSession,
    ExamTemplate,
    TemplateKind,
)
from apps.exams.selectors import (
    fixed_question_ids,
    fixed_template_availability,
    is_past_deadline,
    open_exam_session,
    startable_exam_template,
    template_availability,
)
from apps.exams.services.scoring import submit_exam_session
from apps.questions.selectors import (
    drawable_question_ids,
    option_ids_by_question,
    published_option_ids,
    question_categories,
)


@dataclass(frozen=True)
class StartedSession:
    session: ExamSession
    created: bool


def start_exam_session(*, user: User, template_id: int) -> StartedSession:
    """Starts a session of an active template, or returns the caller's open one.

    Questions are drawn (blueprint) and their order and each question's option order are
    randomised with a stored seed; ``expires_at`` is the server's now plus the duration. An open
    session whose deadline has passed is scored first and a fresh one started. Raises
    ``NotFound`` for unknown or inactive templates and ``TemplateUnfillable`` (409) when the
    bank cannot supply the questions.
    """
    template = startable_exam_template(template_id=template_id)
    existing = open_exam_session(user=user, template=template)
    if existing is not None:
        if not is_past_deadline(existing):
            return StartedSession(existing, created=False)
        submit_exam_session(session_id=existing.id, trigger="deadline")

    seed = random.SystemRandom().getrandbits(62)
    if template.kind == TemplateKind.FIXED:
        # The published check and the options come from one read, used for both the
        # availability and the draw.
        listed = fixed_question_ids(template_id=template.id)
        options = published_option_ids(question_ids=listed)
        availability = fixed_template_availability(template, listed, options)
        if not availability.available:
            raise TemplateUnfillable(
                f"{template.name} cannot be started: {availability.unavailable_reason}"
            )
        question_ids, option_order = _draw_fixed(template, listed, options, seed)
    else:
        _prefetch_blueprint(template)
        availability = template_availability([template])[template.id]
        if not availability.available:
            raise TemplateUnfillable(
                f"{template.name} cannot be started: {availability.unavailable_reason}"
            )
        question_ids, option_order = draw_exam_paper(template=template, seed=seed)
    now = timezone.now()
    try:
        with transaction.atomic():
            session = ExamSession.objects.create(
                user=user,
                template=template,
                question_ids=question_ids,
                option_order=option_order,
                seed=seed,
                started_at=now,
                expires_at=now + timedelta(minutes=template.duration_minutes),
            )
            record_event(
                kind="session",
                action="exam.start",
                actor=user,
                target=session,
                subject_user_id=user.id,
                after={
                    "template_id": template.id,
                    "questions": len(question_ids),
                    "expires_at": session.expires_at.isoformat(),
                },
            )
    except IntegrityError:
        # A concurrent start by the same candidate won the race for the one open session.
        winner = open_exam_session(user=user, template=template)
        if winner is None:
            raise
        return StartedSession(winner, created=False)
    return StartedSession(session, created=True)


def _prefetch_blueprint(template: ExamTemplate) -> None:
    """What :func:`template_availability` reads of a blueprint template (it reads the fixed
    list of fixed templates only)."""
    prefetch_related_objects(
        [template],
        Prefetch("blueprint_items", queryset=BlueprintItem.objects.select_related("category")),
    )


def draw_exam_paper(*, template: ExamTemplate, seed: int) -> tuple[list[int], dict[str, list[int]]]:
    """The session's question ids (in the order shown) and each question's option order.

    Deterministic for a given bank, template and seed. Raises ``TemplateUnfillable`` if the bank
    cannot supply the plan (for instance a question was unpublished a moment ago).
    """
    if template.kind == TemplateKind.FIXED:
        listed = fixed_question_ids(template_id=template.id)
        return _draw_fixed(template, listed, published_option_ids(question_ids=listed), seed)

    rng = random.Random(seed)  # nosec B311 # reproducible paper, not a secret
    items = sorted(template.blueprint_items.all(), key=lambda item: item.category_id)
    pool = drawable_question_ids(category_ids=[item.category_id for item in items])
    category_of = question_categories(question_ids=pool)
    by_category: dict[int, list[int]] = {}
    for qid in pool:
        by_category.setdefault(category_of[qid], []).append(qid)
    question_ids: list[int] = []
    for item in items:
        candidates = by_category.get(item.category_id, [])
        if len(candidates) < item.count or item.count < 1:
            raise TemplateUnfillable(
                f"The question bank has too few questions for {template.name}."
            )
        question_ids.extend(rng.sample(candidates, item.count))
    if not question_ids:
        raise TemplateUnfillable(f"{template.name} has no blueprint.")
    rng.shuffle(question_ids)
    # Only the option ids are needed here (not the display objects: 180 questions with their
    # options and media cost tens of milliseconds to load).
    return question_ids, _option_order(
        rng, question_ids, option_ids_by_question(question_ids=question_ids)
    )


def _draw_fixed(
    template: ExamTemplate, listed: list[int], options: dict[int, list[int]], seed: int
) -> tuple[list[int], dict[str, list[int]]]:
    """The fixed list's published questions (``options`` holds exactly those, with their
    option ids in display order), shuffled if the template says so."""
    rng = random.Random(seed)  # nosec B311 # reproducible paper, not a secret
    question_ids = [qid for qid in listed if qid in options]
    if len(question_ids) != template.total_questions or not question_ids:
        raise TemplateUnfillable(f"{template.name} lists questions that are not published.")
    if template.shuffle_questions:
        rng.shuffle(question_ids)
    return question_ids, _option_order(rng, question_ids, options)


def _option_order(
    rng: random.Random, question_ids: list[int], options: dict[int, list[int]]
) -> dict[str, list[int]]:
    option_order: dict[str, list[int]] = {}
    for question_id in question_ids:
        option_ids = list(options.get(question_id, []))
        rng.shuffle(option_ids)
        option_order[str(question_id)] = option_ids
    return option_order
